/// The part of a span that crosses process boundaries: ids, flags, trace state, and whether it came from elsewhere.
public struct OtterSpanContext: Sendable, Hashable, CustomStringConvertible {
    /// The id of the trace the span belongs to, shared by every span in it; all zero only in an invalid context.
    public var traceID: TraceID
    /// The span's own id, unique within its trace; all zero only in an invalid context.
    public var spanID: SpanID
    /// The W3C trace flags: whether the span is sampled, and whether its trace id is random.
    public var traceFlags: TraceFlags
    /// Vendor-specific W3C `tracestate` members; children inherit it unless their sampler sets another.
    public var traceState: TraceState
    /// True when this context was extracted from a carrier (it belongs to a span in another process).
    public var isRemote: Bool

    /// Makes a context from its parts; nothing is checked, so ``isValid`` may be false. By default it is local, with
    /// empty flags (so not sampled) and an empty trace state.
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

    /// The context as a `traceparent` header value: `00-{trace id}-{span id}-{flags}`.
    public var description: String { traceparentHeaderValue }
}
