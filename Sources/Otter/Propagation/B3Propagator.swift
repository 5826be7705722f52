import Instrumentation

/// Zipkin B3 propagation, as one `b3` header or as the `X-B3-*` headers. Extraction accepts either form
/// (single first); injection writes the configured one.
public struct B3Propagator: TextMapPropagator {
    /// The header form ``B3Propagator/inject(_:into:using:)`` writes.
    public enum Encoding: Sendable {
        /// `b3: {traceId}-{spanId}-{sampled}`
        case singleHeader
        /// `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`
        case multipleHeaders
    }

    /// The header form injection writes; extraction reads both.
    public let encoding: Encoding

    /// Makes a propagator that injects in `encoding`, the single `b3` header by default.
    public init(encoding: Encoding = .singleHeader) {
        self.encoding = encoding
    }

    /// The headers injection writes: `b3`, or `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled`.
    public var fields: [String] {
        switch encoding {
        case .singleHeader: return ["b3"]
        case .multipleHeaders: return ["X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled"]
        }
    }

    /// Makes the B3 headers' span context the remote parent in `context`: the `b3` header when it parses, else the
    /// `X-B3-TraceId` and `X-B3-SpanId` headers, sampled when `X-B3-Sampled` is `1` or `true` or `X-B3-Flags` is `1`.
    /// Trace ids of 16 or 32 lowercase hex digits are accepted. Leaves `context` unchanged when neither form parses.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        if let single = extractor.extract(key: "b3", from: carrier), let spanContext = Self.parseSingleHeader(single) {
            context.otterSpanContext = spanContext
            return
        }
        guard let traceIDValue = extractor.extract(key: "X-B3-TraceId", from: carrier),
            let spanIDValue = extractor.extract(key: "X-B3-SpanId", from: carrier),
            let traceID = Self.parseTraceID(traceIDValue),
            let spanID = Self.parseSpanID(spanIDValue)
        else { return }
        let debug = extractor.extract(key: "X-B3-Flags", from: carrier) == "1"
        let sampledValue = extractor.extract(key: "X-B3-Sampled", from: carrier)?.lowercased()
        let sampled = debug || sampledValue == "1" || sampledValue == "true"
        context.otterSpanContext = OtterSpanContext(
            traceID: traceID, spanID: spanID, traceFlags: sampled ? .sampled : [], isRemote: true)
    }

    /// Writes the context's span context in ``encoding``, with the sampled flag as `1` or `0`; no parent span id is
    /// written. Writes nothing when the context has no valid span context.
    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let spanContext = context.otterSpanContext, spanContext.isValid else { return }
        let sampled = spanContext.isSampled ? "1" : "0"
        switch encoding {
        case .singleHeader:
            injector.inject(
                "\(spanContext.traceID.hexString)-\(spanContext.spanID.hexString)-\(sampled)", forKey: "b3",
                into: &carrier)
        case .multipleHeaders:
            injector.inject(spanContext.traceID.hexString, forKey: "X-B3-TraceId", into: &carrier)
            injector.inject(spanContext.spanID.hexString, forKey: "X-B3-SpanId", into: &carrier)
            injector.inject(sampled, forKey: "X-B3-Sampled", into: &carrier)
        }
    }

    /// Parses `{traceId}-{spanId}[-{sampled}[-{parentSpanId}]]`; a bare sampling flag carries no context.
    static func parseSingleHeader(_ value: String) -> OtterSpanContext? {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.count <= 4,
            let traceID = parseTraceID(parts[0]), let spanID = parseSpanID(parts[1])
        else { return nil }
        var sampled = false
        if parts.count >= 3 {
            switch parts[2] {
            case "1", "d": sampled = true
            case "0": sampled = false
            default: return nil
            }
        }
        return OtterSpanContext(traceID: traceID, spanID: spanID, traceFlags: sampled ? .sampled : [], isRemote: true)
    }

    /// 16 or 32 lowercase hex digits; a 64-bit id is left-padded with zeros.
    static func parseTraceID(_ value: some StringProtocol) -> TraceID? {
        let utf8 = Array(value.utf8)
        let traceID: TraceID?
        switch utf8.count {
        case 16: traceID = Hex.decodeUInt64(utf8).map { TraceID(high: 0, low: $0) }
        case 32:
            guard let high = Hex.decodeUInt64(utf8[0..<16]), let low = Hex.decodeUInt64(utf8[16..<32]) else {
                return nil
            }
            traceID = TraceID(high: high, low: low)
        default: traceID = nil
        }
        guard let traceID, traceID.isValid else { return nil }
        return traceID
    }

    static func parseSpanID(_ value: some StringProtocol) -> SpanID? {
        guard let id = SpanID(hexString: value), id.isValid else { return nil }
        return id
    }
}
