import Otter
import Tracing

/// Spans that use every field the OTLP mapping carries.
enum OTLPFixtures {
    static let traceID = TraceID(hexString: "5b8efff798038103d269b633813fc60c")!
    static let resource = Resource(
        attributes: ["service.name": "otlp-tests", "deployment.environment": "test"], schemaURL: "https://opentelemetry.io/schemas/1.26.0")

    static var server: FinishedSpan {
        FinishedSpan(
            operationName: "GET /orders/{id}", kind: .server,
            spanContext: OtterSpanContext(
                traceID: traceID, spanID: SpanID(hexString: "eee19b7ec3c1b174")!, traceFlags: .sampled,
                traceState: TraceState(headerValue: "vendor=abc,other=1")!),
            parentSpanContext: OtterSpanContext(
                traceID: traceID, spanID: SpanID(hexString: "eee19b7ec3c1b173")!, traceFlags: .sampled, isRemote: true),
            startTimeNanosecondsSinceEpoch: 1_700_000_000_123_456_789, endTimeNanosecondsSinceEpoch: 1_700_000_000_223_456_789,
            attributes: [
                "http.request.method": "GET", "http.response.status_code": 200, "ratio": 0.25, "cached": true,
                "tags": .stringArray(["a", "b"]), "sizes": .int64Array([1, 2, 3]), "weights": .doubleArray([0.5, 1.5]),
                "flags": .boolArray([true, false]), "big": .int64(9_007_199_254_740_993),
            ],
            events: [
                SpanEvent(
                    name: "order.validated", at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: 1_700_000_000_150_000_000),
                    attributes: ["order.item_count": 3])
            ],
            links: [
                FinishedSpan.Link(
                    spanContext: OtterSpanContext(
                        traceID: TraceID(hexString: "0af7651916cd43dd8448eb211c80319c")!, spanID: SpanID(hexString: "b7ad6b7169203331")!,
                        traceFlags: .sampled, isRemote: true),
                    attributes: ["link.kind": "follows"], droppedAttributesCount: 1)
            ],
            status: SpanStatus(code: .ok),
            droppedAttributesCount: 2, droppedEventsCount: 3, droppedLinksCount: 4,
            resource: resource, instrumentationScope: InstrumentationScope(name: "hummingbird", version: "2.28.1"))
    }

    static var client: FinishedSpan {
        FinishedSpan(
            operationName: "SELECT orders", kind: .client,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(hexString: "00f067aa0ba902b7")!, traceFlags: .sampled),
            parentSpanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(hexString: "eee19b7ec3c1b174")!, traceFlags: .sampled),
            startTimeNanosecondsSinceEpoch: 1_700_000_000_130_000_000, endTimeNanosecondsSinceEpoch: 1_700_000_000_140_000_000,
            attributes: ["db.system": "sqlite", "quote": "say \"hi\"\n"],
            status: SpanStatus(code: .error, message: "disk full"),
            resource: resource, instrumentationScope: .otter)
    }

    static var spans: [FinishedSpan] { [server, client] }
}
