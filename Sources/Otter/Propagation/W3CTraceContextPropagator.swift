import Instrumentation

/// W3C Trace Context: the `traceparent` and `tracestate` headers.
public struct W3CTraceContextPropagator: TextMapPropagator {
    /// `traceparent`, the header that carries the trace id, the parent span id and the trace flags.
    public static let traceparentField = "traceparent"
    /// `tracestate`, the header that carries vendor-specific trace state.
    public static let tracestateField = "tracestate"

    /// Makes the propagator; it has no settings.
    public init() {}

    /// `traceparent` and `tracestate`.
    public var fields: [String] { [Self.traceparentField, Self.tracestateField] }

    /// Makes the `traceparent` header's span context (see ``parseTraceparent(_:)``) the remote parent in `context`,
    /// with the `tracestate` header's entries when that header parses. A missing or invalid `traceparent` leaves `context`
    /// unchanged.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: Self.traceparentField, from: carrier),
            var spanContext = Self.parseTraceparent(header)
        else { return }
        if let stateHeader = extractor.extract(key: Self.tracestateField, from: carrier),
            let traceState = TraceState(headerValue: stateHeader)
        {
            spanContext.traceState = traceState
        }
        context.otterSpanContext = spanContext
    }

    /// Writes the context's span context as `traceparent`, and `tracestate` when the trace state is not empty. Writes
    /// nothing when the context has no valid span context.
    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let spanContext = context.otterSpanContext, spanContext.isValid else { return }
        injector.inject(spanContext.traceparentHeaderValue, forKey: Self.traceparentField, into: &carrier)
        if !spanContext.traceState.isEmpty {
            injector.inject(spanContext.traceState.headerValue, forKey: Self.tracestateField, into: &carrier)
        }
    }

    /// Parses a `traceparent` value by the W3C rules: two lowercase hex digits of version other than `ff`;
    /// for version 00 exactly 55 characters, for later versions 55 or more with a `-` after the flags;
    /// lowercase hex ids that are not all zero. Returns a remote context, or nil when the value is invalid.
    /// Only the sampled and random-trace-id flag bits are kept.
    public static func parseTraceparent(_ value: String) -> OtterSpanContext? {
        var header = value
        return header.withUTF8 { raw -> OtterSpanContext? in
            var start = 0
            var end = raw.count
            while start < end, raw[start] == UInt8(ascii: " ") || raw[start] == UInt8(ascii: "\t") { start += 1 }
            while end > start, raw[end - 1] == UInt8(ascii: " ") || raw[end - 1] == UInt8(ascii: "\t") { end -= 1 }
            let bytes = UnsafeBufferPointer(rebasing: raw[start..<end])
            guard bytes.count >= 55,
                let version = Hex.decodeLowercase(bytes, at: 0, count: 2), version != 0xFF,
                bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-")
            else { return nil }
            if version == 0 {
                guard bytes.count == 55 else { return nil }
            } else if bytes.count > 55, bytes[55] != UInt8(ascii: "-") {
                return nil
            }
            guard let traceHigh = Hex.decodeLowercase(bytes, at: 3, count: 16),
                let traceLow = Hex.decodeLowercase(bytes, at: 19, count: 16),
                let spanID = Hex.decodeLowercase(bytes, at: 36, count: 16),
                let flags = Hex.decodeLowercase(bytes, at: 53, count: 2)
            else { return nil }
            let traceID = TraceID(high: traceHigh, low: traceLow)
            guard traceID.isValid, spanID != 0 else { return nil }
            return OtterSpanContext(
                traceID: traceID,
                spanID: SpanID(spanID),
                traceFlags: TraceFlags(rawValue: UInt8(flags) & 0x03),
                isRemote: true)
        }
    }
}
