/// The W3C `trace-flags` byte.
public struct TraceFlags: OptionSet, Sendable, Hashable {
    /// The flags byte; W3C Trace Context defines no bits other than ``sampled`` and ``randomTraceID``.
    public var rawValue: UInt8

    /// Makes flags from the byte, keeping every bit as given.
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The caller may have recorded this trace (bit 0).
    public static let sampled = TraceFlags(rawValue: 0x01)
    /// The trace id's right-most 7 bytes are random (W3C trace context level 2, bit 1).
    public static let randomTraceID = TraceFlags(rawValue: 0x02)
}
