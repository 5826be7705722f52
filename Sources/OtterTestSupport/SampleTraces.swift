import Otter
import Tracing

/// Traces with a known shape, for the tests of `otter diff` and its comparison.
package enum SampleTraces {
    /// GET /checkout (shop) → SELECT cart (db), `queries` × SELECT item (db, `queryMicroseconds` each), charge
    /// (payments, `chargeMilliseconds`), in one trace that started a second ago.
    package static func checkout(
        traceID: TraceID = RandomIDGenerator().newTraceID(), queries: Int = 1, queryMicroseconds: UInt64 = 2_000,
        chargeMilliseconds: UInt64 = 10, withCharge: Bool = true
    ) -> [FinishedSpan] {
        let ids = RandomIDGenerator()
        let ms: UInt64 = 1_000_000
        let base = DefaultTracerClock.now.nanosecondsSinceEpoch - 1_000 * ms
        func span(_ name: String, _ service: String, parent: OtterSpanContext?, start: UInt64, duration: UInt64) -> FinishedSpan {
            FinishedSpan(
                operationName: name, kind: parent == nil ? .server : .client,
                spanContext: OtterSpanContext(traceID: traceID, spanID: ids.newSpanID(), traceFlags: .sampled),
                parentSpanContext: parent, startTimeNanosecondsSinceEpoch: base + start,
                endTimeNanosecondsSinceEpoch: base + start + duration,
                resource: Resource(attributes: ["service.name": .string(service)]))
        }
        let root = span("GET /checkout", "shop", parent: nil, start: 0, duration: 100 * ms)
        var spans = [root, span("SELECT cart", "db", parent: root.spanContext, start: 1 * ms, duration: 2 * ms)]
        for query in 0..<queries {
            spans.append(
                span("SELECT item", "db", parent: root.spanContext, start: (5 + UInt64(query)) * ms, duration: queryMicroseconds * 1_000))
        }
        if withCharge {
            spans.append(span("charge", "payments", parent: root.spanContext, start: 50 * ms, duration: chargeMilliseconds * ms))
        }
        return spans
    }
}
