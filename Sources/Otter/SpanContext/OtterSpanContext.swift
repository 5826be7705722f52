/// The part of a span that crosses process boundaries: ids, flags, trace state, and whether it came from elsewhere.
public struct OtterSpanContext: Sendable, Hashable, CustomStringConvertible {
    public var traceID: TraceID
    public var spanID: SpanID
    public var traceFlags: TraceFlags
    public var traceState: TraceState
    /// True when this context was extracted from a carrier (it belongs to a span in another process).
    public var isRemote: Bool

    public init(
        traceID: TraceID,
        spanID: SpanID,
        traceFlags: TraceFlags = [],
        traceState: TraceState = TraceState(),
        isRemote: Bool = false
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceFlags = traceFlags
        self.traceState = traceState
        self.isRemote = isRemote
    }

    /// True when the sampled flag is set.
    public var isSampled: Bool { traceFlags.contains(.sampled) }

    /// True when both ids are non-zero.
    public var isValid: Bool { traceID.isValid && spanID.isValid }

    /// The W3C `traceparent` header value (version 00).
    public var traceparentHeaderValue: String {
        String(unsafeUninitializedCapacity: 55) { buffer in
            buffer[0] = UInt8(ascii: "0")
            buffer[1] = UInt8(ascii: "0")
            buffer[2] = UInt8(ascii: "-")
            Hex.write(traceID.high, into: buffer, at: 3)
            Hex.write(traceID.low, into: buffer, at: 19)
            buffer[35] = UInt8(ascii: "-")
            Hex.write(spanID.value, into: buffer, at: 36)
            buffer[52] = UInt8(ascii: "-")
            buffer[53] = Hex.digit(traceFlags.rawValue >> 4)
            buffer[54] = Hex.digit(traceFlags.rawValue & 0x0F)
            return 55
        }
    }

    public var description: String { traceparentHeaderValue }
}
