import Logging

/// A log record's body or attribute value: OTLP's `AnyValue` (without bytes). swift-log metadata maps onto it, nested
/// dictionaries and arrays included; a `stringConvertible` integer, floating-point or Boolean value keeps its type.
public indirect enum LogValue: Sendable, Hashable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case array([LogValue])
    case map([String: LogValue])

    /// The value a swift-log metadata value stands for.
    public init(_ metadata: Logger.MetadataValue) {
        switch metadata {
        case .string(let string):
            self = .string(string)
        case .stringConvertible(let convertible):
            switch convertible {
            case let value as Bool: self = .bool(value)
            case let value as Int: self = .int(Int64(value))
            case let value as Int64: self = .int(value)
            case let value as Int32: self = .int(Int64(value))
            case let value as UInt32: self = .int(Int64(value))
            case let value as Double: self = .double(value)
            case let value as Float: self = .double(Double(value))
            default: self = .string(convertible.description)
            }
        case .dictionary(let dictionary):
            self = .map(dictionary.mapValues(LogValue.init))
        case .array(let array):
            self = .array(array.map(LogValue.init))
        }
    }

    /// The value as text: strings as they are, other values as their description, arrays and maps as JSON-like text.
    public var text: String {
        switch self {
        case .string(let string): return string
        case .bool(let bool): return bool ? "true" : "false"
        case .int(let int): return String(int)
        case .double(let double): return String(double)
        case .array(let values): return "[" + values.map(\.quotedText).joined(separator: ", ") + "]"
        case .map(let values):
            return "{" + values.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.quotedText)" }.joined(separator: ", ") + "}"
        }
    }

    private var quotedText: String {
        if case .string(let string) = self { return "\"\(string)\"" }
        return text
    }
}
