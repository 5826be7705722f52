import Otter
import Tracing

/// Traces for the browser tests, shaped like the seed system's: the http-client calls the http-server (`GET /`,
/// then `parent`, then an outgoing `GET` to the order service), and the order service makes the "order" trace with
/// events. Times are recent, so the search's default lookback finds them.
enum ExplorerTraces {
    static let checkout = TraceID(high: 0xC0FFEE, low: 1)
    static let slowCheckout = TraceID(high: 0xC0FFEE, low: 2)

    static func span(
        _ trace: TraceID, _ id: UInt64, parent: UInt64?, _ name: String, _ kind: SpanKind, service: String, start: UInt64,
        milliseconds: UInt64,
        attributes: SpanAttributes = [:], events: [SpanEvent] = [], error: String? = nil
    ) -> FinishedSpan {
        FinishedSpan(
            operationName: name, kind: kind,
            spanContext: OtterSpanContext(traceID: trace, spanID: SpanID(id), traceFlags: .sampled),
            parentSpanContext: parent.map { OtterSpanContext(traceID: trace, spanID: SpanID($0), traceFlags: .sampled) },
            startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + milliseconds * 1_000_000,
            attributes: attributes, events: events, status: error.map { SpanStatus(code: .error, message: $0) },
            resource: Resource(attributes: ["service.name": .string(service), "telemetry.sdk.name": "otter"]),
            instrumentationScope: InstrumentationScope(name: "otter-examples", version: "1.0"))
    }

    /// The seed's request: 7 spans in 4 services; with `slow`, the order takes longer, validation runs twice and
    /// there is no payment call.
    static func request(_ trace: TraceID, start: UInt64, slow: Bool = false) -> [FinishedSpan] {
        let ms: UInt64 = 1_000_000
        let orderTime: UInt64 = slow ? 90 : 40
        var spans = [
            span(
                trace, 1, parent: nil, "GET", .client, service: "http-client", start: start, milliseconds: 60 + orderTime,
                attributes: ["http.request.method": "GET"]),
            span(
                trace, 2, parent: 1, "GET /", .server, service: "http-server", start: start + 2 * ms, milliseconds: 55 + orderTime,
                attributes: ["http.route": "/", "http.response.status_code": 200]),
            span(trace, 3, parent: 2, "parent", .internal, service: "http-server", start: start + 4 * ms, milliseconds: 50 + orderTime),
            span(trace, 4, parent: 3, "GET", .client, service: "http-server", start: start + 6 * ms, milliseconds: 45 + orderTime),
            span(
                trace, 5, parent: 4, "order", .server, service: "order-example", start: start + 8 * ms, milliseconds: orderTime,
                events: [
                    SpanEvent(
                        name: "order.placed", at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: start + 9 * ms),
                        attributes: ["order.id": "A-17", "items": 3]),
                    SpanEvent(name: "order.shipped", at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: start + 40 * ms)),
                ]),
            span(trace, 6, parent: 5, "validate", .internal, service: "order-example", start: start + 10 * ms, milliseconds: 5),
        ]
        if slow {
            spans.append(
                span(trace, 7, parent: 5, "validate", .internal, service: "order-example", start: start + 20 * ms, milliseconds: 5))
        } else {
            spans.append(
                span(
                    trace, 7, parent: 5, "charge", .client, service: "payments", start: start + 20 * ms, milliseconds: 20,
                    error: "card declined"))
        }
        return spans
    }

    /// One trace of `count` spans: a root with a fan-out of chains four deep.
    static func large(_ trace: TraceID, count: Int, start: UInt64) -> [FinishedSpan] {
        var spans = [span(trace, 1, parent: nil, "batch", .server, service: "importer", start: start, milliseconds: UInt64(count))]
        for index in 1..<count {
            let parent = index % 4 == 1 ? 1 : UInt64(index)
            spans.append(
                span(
                    trace, UInt64(index + 1), parent: parent, "step \(index % 50)", .internal, service: "worker-\(index % 5)",
                    start: start + UInt64(index) * 500_000, milliseconds: 1, attributes: ["row": .int64(Int64(index))]))
        }
        return spans
    }
}
