/// An 8-byte W3C span id.
public struct SpanID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id as a big-endian integer.
    public var value: UInt64

    /// Creates a span id from its integer value.
    public init(_ value: UInt64) {
        self.value = value
    }

    /// The all-zero id, which W3C trace context defines as invalid.
    public static let invalid = SpanID(0)

    /// False for the all-zero id.
    public var isValid: Bool { value != 0 }

    /// Parses exactly 16 lowercase hex digits; nil otherwise.
    public init?(hexString: some StringProtocol) {
        var string = String(hexString)
        let parsed: UInt64? = string.withUTF8 { utf8 in
            guard utf8.count == 16 else { return nil }
            return Hex.decodeUInt64(utf8)
        }
        guard let parsed else { return nil }
        self.value = parsed
    }

    /// Creates a span id from 8 bytes in network order; nil for any other length.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 8 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// 16 lowercase hex digits.
    public var hexString: String { Hex.encode(value) }

    /// The 8 bytes in network order.
    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }

    /// The ``hexString``: 16 lowercase hex digits.
    public var description: String { hexString }

    /// Orders ids by their value, as their hex strings sort.
    public static func < (lhs: SpanID, rhs: SpanID) -> Bool { lhs.value < rhs.value }
}
