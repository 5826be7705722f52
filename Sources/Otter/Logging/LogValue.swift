import Logging

/// A log record's body or attribute value: OTLP's `AnyValue` (without bytes). swift-log metadata maps onto it, nested
/// dictionaries and arrays included (down to ``maximumNestingDepth``); a `stringConvertible` integer (of any integer
/// type that fits 64 bits), `Double`, `Float` or `Bool` keeps its type.
public indirect enum LogValue: Sendable, Hashable {
    /// A string.
    case string(String)
    /// A Boolean.
    case bool(Bool)
    /// A signed 64-bit integer.
    case int(Int64)
    /// A 64-bit floating-point number.
    case double(Double)
    /// An ordered list of values, which may differ in type.
    case array([LogValue])
    /// Values by string key.
    case map([String: LogValue])

    /// Deepest nesting of arrays and maps kept (OTLP receivers refuse deeper messages, and with them the whole
    /// batch); a value nested deeper is kept as its text.
    public static let maximumNestingDepth = 16

    /// The value a swift-log metadata value stands for.
    public init(_ metadata: Logger.MetadataValue) {
        self.init(metadata, depth: 0)
    }

    private init(_ metadata: Logger.MetadataValue, depth: Int) {
        if depth >= Self.maximumNestingDepth {
            switch metadata {
            case .dictionary, .array:
                self = .string(metadata.description)
                return
            case .string, .stringConvertible:
                break
            }
        }
        switch metadata {
        case .string(let string):
            self = .string(string)
        case .stringConvertible(let convertible):
            switch convertible {
            case let value as Bool: self = .bool(value)
            case let value as any BinaryInteger:
                // Any integer type; one beyond Int64 (a large UInt64) keeps its digits as text.
                if let int = Int64(exactly: value) { self = .int(int) } else { self = .string(convertible.description) }
            case let value as Double: self = .double(value)
            case let value as Float: self = .double(Double(value))
            default: self = .string(convertible.description)
            }
        case .dictionary(let dictionary):
            self = .map(dictionary.mapValues { LogValue($0, depth: depth + 1) })
        case .array(let array):
            self = .array(array.map { LogValue($0, depth: depth + 1) })
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

extension LogValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// Makes a ``string(_:)`` value from a string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Makes an ``int(_:)`` value from an integer literal.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// Makes a ``double(_:)`` value from a floating-point literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// Makes a ``bool(_:)`` value from `true` or `false`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Makes an ``array(_:)`` value from an array literal.
    public init(arrayLiteral elements: LogValue...) { self = .array(elements) }
    /// Makes a ``map(_:)`` value from a dictionary literal; of a repeated key, the first value is kept.
    public init(dictionaryLiteral elements: (String, LogValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { first, _ in first }))
    }
}
