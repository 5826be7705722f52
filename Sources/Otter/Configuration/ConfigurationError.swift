/// A configuration value Otter cannot use. The message names the variable or setting, the value, and what was
/// expected; Otter never silently falls back to a default.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// `variable` holds `value`, which is not what it takes; `expected` says what it does take.
    case invalidValue(variable: String, value: String, expected: String)
    /// Two settings, each given as `NAME=value`, ask for different things; `reason` says how to resolve it.
    case conflictingValues(first: String, second: String, reason: String)
    /// The exporter `name` was asked for but cannot be made in this build or setup; `reason` says why.
    case exporterUnavailable(name: String, reason: String)

    /// The problem in one line, naming the variable or exporter and the value, e.g. `X=y is not valid: expected …`.
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
