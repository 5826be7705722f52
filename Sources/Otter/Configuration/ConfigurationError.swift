/// A configuration value Otter cannot use. The message names the variable or setting, the value, and what was
/// expected; Otter never silently falls back to a default.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalidValue(variable: String, value: String, expected: String)
    case conflictingValues(first: String, second: String, reason: String)
    case exporterUnavailable(name: String, reason: String)

    public var description: String {
        switch self {
        case .invalidValue(let variable, let value, let expected):
            return "\(variable)=\(value) is not valid: expected \(expected)"
        case .conflictingValues(let first, let second, let reason):
            return "\(first) and \(second) disagree: \(reason)"
        case .exporterUnavailable(let name, let reason):
            return "exporter '\(name)' is not available: \(reason)"
        }
    }
}
