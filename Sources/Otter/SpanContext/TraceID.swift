/// A 16-byte W3C trace id, stored as two big-endian halves so it never allocates.
public struct TraceID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The first (most significant) 8 bytes.
    public var high: UInt64
    /// The last (least significant) 8 bytes; ratio sampling reads these.
    public var low: UInt64

    /// Creates a trace id from its two 8-byte halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The all-zero id, which W3C trace context defines as invalid.
    public static let invalid = TraceID(high: 0, low: 0)

    /// False for the all-zero id.
    public var isValid: Bool { high != 0 || low != 0 }

    /// Parses exactly 32 lowercase hex digits; nil otherwise (uppercase is rejected, as W3C requires).
    public init?(hexString: some StringProtocol) {
        var string = String(hexString)
        let parsed: TraceID? = string.withUTF8 { utf8 in
            guard utf8.count == 32,
                let high = Hex.decodeUInt64(utf8[0..<16]),
                let low = Hex.decodeUInt64(utf8[16..<32])
            else { return nil }
            return TraceID(high: high, low: low)
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Creates a trace id from 16 bytes in network order; nil for any other length.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// 32 lowercase hex digits.
    public var hexString: String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            Hex.write(high, into: buffer, at: 0)
            Hex.write(low, into: buffer, at: 16)
            return 32
        }
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        var result = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            result[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * index))
            result[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * index))
        }
        return result
    }

    /// The ``hexString``: 32 lowercase hex digits.
    public var description: String { hexString }

    /// Orders ids by their bytes in network order, as their hex strings sort.
    public static func < (lhs: TraceID, rhs: TraceID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}
