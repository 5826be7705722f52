import Foundation
import Otter
import OtterOTLP
import SwiftProtobuf
import Testing
import Tracing

@testable import OtterViewer

/// The viewer against Jaeger v2.20.0's own test data (`Fixtures/jaeger`, a test resource; its README says where each
/// file comes from) and the HTTP-level cases of Jaeger's Go tests (`http_handler_test.go`, `apiv3/http_gateway_test.go`):
/// same status, same message, same JSON. What differs on purpose is listed in docs/jaeger-conformance.md; the only
/// freedoms taken here are JSON key order.
@Suite("Jaeger conformance")
struct JaegerConformanceTests {
    static func fixture(_ name: String) throws -> Data {
        let directory = try #require(
            Bundle.module.url(forResource: "jaeger", withExtension: nil), "Jaeger's fixtures are a resource of OtterViewerTests")
        return try Data(contentsOf: directory.appendingPathComponent(name))
    }

    /// JSON values compared as values: object key order is free, everything else (array order included) exact.
    static func json(_ data: Data) throws -> NSObject {
        try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as! NSObject
    }

    @Test func transformAnswersExactlyAsJaeger() async throws {
        let viewer = try await RunningViewer()
        let (status, body) = try await viewer.postRaw("/api/transform", try Self.fixture("otlp2jaeger-in.json"))
        #expect(status == 200)
        #expect(try Self.json(body) == Self.json(try Self.fixture("otlp2jaeger-out.json")), "\(String(decoding: body, as: UTF8.self))")
        await viewer.stop()
    }

    /// ui_01.json: every value type, an int64 beyond 2^53 as a string, bytes as base64 `binary`, two spans sharing
    /// a span id (both kept), CHILD_OF and FOLLOWS_FROM references. The same spans sent over OTLP come back in the
    /// same form.
    @Test func valueTypesAndReferencesMatchJaegersUIModel() async throws {
        let expected = try #require(try Self.json(try Self.fixture("ui_01.json")) as? [String: Any])
        let expectedSpans = try #require(expected["spans"] as? [[String: Any]])
        let tagged = try #require(
            expectedSpans.first { $0["operationName"] as? String == "some-operation" && ($0["tags"] as? [Any])?.isEmpty == false })

        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data([UInt8](repeating: 0, count: 15) + [1])
        span.spanID = Data([UInt8](repeating: 0, count: 7) + [2])
        span.name = "some-operation"
        span.startTimeUnixNano = 1_485_467_191_639_875_000
        span.endTimeUnixNano = 1_485_467_191_639_880_000
        func attribute(
            _ key: String, _ set: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void
        ) -> Opentelemetry_Proto_Common_V1_KeyValue {
            var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
            keyValue.key = key
            set(&keyValue.value)
            return keyValue
        }
        span.attributes = [
            attribute("peer.service") { $0.stringValue = "service-y" }, attribute("peer.ipv4") { $0.intValue = 23456 },
            attribute("error") { $0.boolValue = true }, attribute("temperature") { $0.doubleValue = 72.5 },
            attribute("javascript_limit") { $0.intValue = 9_223_372_036_854_775_222 },
            attribute("blob") { $0.bytesValue = Data([0, 0, 0x30, 0x39]) },
        ]
        var sameID = span
        sameID.name = "test-general-conversion"
        sameID.attributes = []
        var request = OTLPExportTraceServiceRequest()
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource.attributes = [attribute("service.name") { $0.stringValue = "service-x" }]
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.spans = [sameID, span]
        resourceSpans.scopeSpans = [scopeSpans]
        request.resourceSpans = [resourceSpans]

        let viewer = try await RunningViewer()
        #expect(try await viewer.post(try request.serializedBytes(), contentType: "application/x-protobuf").status == 200)
        let (_, body) = try await viewer.get("/api/traces/1")
        let trace = try #require((body["data"] as? [[String: Any]])?.first)
        #expect(trace["traceID"] as? String == expected["traceID"] as? String, "a 64-bit trace id prints as 16 hex digits")
        let spans = try #require(trace["spans"] as? [[String: Any]])
        #expect(spans.count == 2, "two spans sharing a span id are both kept")
        let ours = try #require(spans.first { $0["operationName"] as? String == "some-operation" })
        let ourTags = Dictionary(
            ((ours["tags"] as? [[String: Any]]) ?? []).map { ($0["key"] as! String, $0 as NSDictionary) }, uniquingKeysWith: { a, _ in a })
        for tag in tagged["tags"] as! [[String: Any]] {
            let key = tag["key"] as! String
            if key == "error" { continue }  // Jaeger's fixture is a Jaeger-model tag; OTLP has no "error" attribute semantics
            #expect(ourTags[key] == tag as NSDictionary, "tag \(key): ours \(String(describing: ourTags[key])), Jaeger's \(tag)")
        }
        #expect(ours["spanID"] as? String == tagged["spanID"] as? String)
        #expect(ours["startTime"] as? Int == tagged["startTime"] as? Int)
        #expect(ours["duration"] as? Int == tagged["duration"] as? Int)
        #expect(ours["flags"] == nil, "Jaeger's UI model has no flags field")
        #expect(spans.allSatisfy { $0["warnings"] is NSNull }, "no warning for a shared id, as in Jaeger's fixture")
        await viewer.stop()
    }

    @Test func apiV3AnswersMatchJaegersSnapshots() async throws {
        let viewer = try await RunningViewer()
        // GetTrace / FindTraces: a span with only ids, name, kind SERVER and status ERROR (http_gateway_test.go).
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data([UInt8](repeating: 0, count: 15) + [1])
        span.spanID = Data([UInt8](repeating: 0, count: 7) + [2])
        span.name = "foobar"
        span.kind = .server
        span.status.code = .error
        var request = OTLPExportTraceServiceRequest()
        request.resourceSpans = [Opentelemetry_Proto_Trace_V1_ResourceSpans()]
        request.resourceSpans[0].scopeSpans = [Opentelemetry_Proto_Trace_V1_ScopeSpans()]
        request.resourceSpans[0].scopeSpans[0].spans = [span]
        #expect(try await viewer.post(try request.serializedBytes(), contentType: "application/x-protobuf").status == 200)
        let (status, body) = try await viewer.getRaw("/api/v3/traces/00000000000000000000000000000001")
        #expect(status == 200)
        #expect(
            try Self.json(body) == Self.json(try Self.fixture("apiv3-snapshots/GetTrace.json")), "\(String(decoding: body, as: UTF8.self))")
        let (findStatus, found) = try await viewer.getRaw(
            "/api/v3/traces?query.startTimeMin=1970-01-01T00:00:00Z&query.startTimeMax=1970-01-01T00:00:01Z")
        #expect(findStatus == 200)
        #expect(
            try Self.json(found) == Self.json(try Self.fixture("apiv3-snapshots/FindTraces.json")),
            "\(String(decoding: found, as: UTF8.self))")
        await viewer.stop()
    }

    @Test func traceSummariesMatchJaegersSnapshot() async throws {
        let viewer = try await RunningViewer()
        let traceID = TraceID(high: 0, low: 1)
        let root = FinishedSpan(
            operationName: "HTTP GET /", kind: .server,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(1), traceFlags: .sampled),
            startTimeNanosecondsSinceEpoch: 1_000_000_000_000, endTimeNanosecondsSinceEpoch: 1_001_000_000_000,
            status: SpanStatus(code: .error), resource: Resource(attributes: ["service.name": "frontend"]))
        var child = root
        child.operationName = "SELECT"
        child.kind = .client
        child.status = nil
        child.spanContext = OtterSpanContext(traceID: traceID, spanID: SpanID(2), traceFlags: .sampled)
        child.parentSpanContext = root.spanContext
        child.startTimeNanosecondsSinceEpoch = 1_000_100_000_000
        child.endTimeNanosecondsSinceEpoch = 1_000_200_000_000
        try await viewer.store.write([root, child])
        let (status, body) = try await viewer.getRaw(
            "/api/v3/trace-summaries?query.serviceName=frontend&query.startTimeMin=1970-01-01T00:00:00Z&query.startTimeMax=1970-01-02T00:00:00Z"
        )
        #expect(status == 200)
        #expect(
            try Self.json(body) == Self.json(try Self.fixture("apiv3-snapshots/FindTraceSummaries.json")),
            "\(String(decoding: body, as: UTF8.self))")
        await viewer.stop()
    }

    @Test func servicesAndOperationsMatchJaegersSnapshots() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write([
            FinishedSpan(
                operationName: "get_users", kind: .server,
                spanContext: OtterSpanContext(traceID: TraceID(high: 0, low: 1), spanID: SpanID(1), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: 1_000, endTimeNanosecondsSinceEpoch: 2_000,
                resource: Resource(attributes: ["service.name": "foo"]))
        ])
        let (_, services) = try await viewer.getRaw("/api/v3/services")
        #expect(try Self.json(services) == Self.json(try Self.fixture("apiv3-snapshots/GetServices.json")))
        let (_, operations) = try await viewer.getRaw("/api/v3/operations?service=foo&spanKind=server")
        #expect(try Self.json(operations) == Self.json(try Self.fixture("apiv3-snapshots/GetOperations.json")))
        await viewer.stop()
    }

    /// Jaeger's HTTP-level cases: status and message (`errors[0].msg` in v1, `error.message` in v3).
    @Test(
        arguments: [
            ("/api/operations", 400, "parameter 'service' is required"),
            ("/api/traces", 400, "parameter 'service' is required"),
            (
                "/api/traces?service=service&start=string", 400,
                #"unable to parse param 'start': strconv.ParseInt: parsing "string": invalid syntax"#
            ),
            (
                "/api/traces?service=service&end=string", 400,
                #"unable to parse param 'end': strconv.ParseInt: parsing "string": invalid syntax"#
            ),
            (
                "/api/traces?service=service&start=0&end=0&operation=operation&limit=200&minDuration=20", 400,
                #"unable to parse param 'minDuration': time: missing unit in duration "20""#
            ),
            (
                "/api/traces?service=service&start=0&end=0&operation=operation&limit=200&minDuration=20s&maxDuration=30", 400,
                #"unable to parse param 'maxDuration': time: missing unit in duration "30""#
            ),
            ("/api/traces?service=service&minDuration=abc", 400, #"unable to parse param 'minDuration': time: invalid duration "abc""#),
            (
                "/api/traces?service=service&start=0&end=0&operation=operation&maxDuration=10ms&limit=200&minDuration=20ms", 400,
                "'maxDuration' should be greater than 'minDuration'"
            ),
            ("/api/traces?service=service&tag=k:v&tag=x:y&tag=k", 400, "malformed 'tag' parameter, expecting key:value, received: k"),
            (
                "/api/traces?service=service&raw=foobar", 400,
                #"unable to parse param 'raw': strconv.ParseBool: parsing "foobar": invalid syntax"#
            ),
            ("/api/traces?traceID=100&traceID=x200", 400, "cannot parse traceID param: x200"),
            ("/api/traces/123456?start=a", 400, #"unable to parse param 'start': strconv.ParseInt: parsing "a": invalid syntax"#),
            ("/api/traces/123456?end=b", 400, #"unable to parse param 'end': strconv.ParseInt: parsing "b": invalid syntax"#),
            ("/api/traces/123456?raw=foobar", 400, #"unable to parse param 'raw': strconv.ParseBool: parsing "foobar": invalid syntax"#),
            ("/api/traces/123456", 404, "trace not found"),
            ("/api/traces/x", 400, #"strconv.ParseUint: parsing "x": invalid syntax"#),
            (
                "/api/traces/0123456789abcdef0123456789abcdef0", 400,
                "TraceID cannot be longer than 32 hex characters: 0123456789abcdef0123456789abcdef0"
            ),
            (
                "/api/dependencies?endTs=shazbot", 400,
                #"unable to parse param 'endTs': strconv.ParseInt: parsing "shazbot": invalid syntax"#
            ),
            (
                "/api/dependencies?endTs=1476374248550&lookback=shazbot", 400,
                #"unable to parse param 'lookback': strconv.ParseInt: parsing "shazbot": invalid syntax"#
            ),
            ("/api/metrics/calls", 400, "unable to parse param 'service': please provide at least one service name"),
            (
                "/api/metrics/calls?service=emailservice&groupByOperation=foo", 400,
                #"unable to parse param 'groupByOperation': strconv.ParseBool: parsing "foo": invalid syntax"#
            ),
            ("/api/metrics/calls?service=emailservice&spanKind=foo", 400, "unable to parse param 'spanKind': unsupported span kind: 'foo'"),
            (
                "/api/metrics/latencies?service=emailservice&quantile=foo", 400,
                #"unable to parse param 'quantile': strconv.ParseFloat: parsing "foo": invalid syntax"#
            ),
            (
                "/api/metrics/calls?service=emailservice&endTs=foo", 400,
                #"unable to parse param 'endTs': strconv.ParseInt: parsing "foo": invalid syntax"#
            ),
            (
                "/api/metrics/calls?service=emailservice&step=foo", 400,
                #"unable to parse param 'step': strconv.ParseInt: parsing "foo": invalid syntax"#
            ),
            // Jaeger's cases for a query service without a metrics backend (501) do not apply: the viewer computes span
            // metrics from its store (SpanMetricsTests.jaegerMetricsEndpointsAnswerFromTheStore).
            ("/api/no-such-endpoint", 404, "404 page not found"),
            ("/api/v3/traces", 400, "query.startTimeMin and query.startTimeMax are required"),
            (
                "/api/v3/traces?query.startTimeMin=2000-01-02T00:00:00Z&query.startTimeMax=2000-01-01T00:00:00Z", 400,
                "query.startTimeMin must be before query.startTimeMax"
            ),
            (
                "/api/v3/traces?query.startTimeMin=2000-01-01T00:00:00Z&query.startTimeMax=2000-01-02T00:00:00Z&query.searchDepth=NaN", 400,
                #"malformed parameter query.searchDepth: strconv.ParseInt: parsing "NaN": invalid syntax"#
            ),
            (
                "/api/v3/traces?query.startTimeMin=2000-01-01T00:00:00Z&query.startTimeMax=2000-01-02T00:00:00Z&query.durationMin=NaN", 400,
                #"malformed parameter query.durationMin: time: invalid duration "NaN""#
            ),
            (
                "/api/v3/traces?query.startTimeMin=2000-01-01T00:00:00Z&query.startTimeMax=2000-01-02T00:00:00Z&query.rawTraces=foobar",
                400,
                #"malformed parameter query.rawTraces: strconv.ParseBool: parsing "foobar": invalid syntax"#
            ),
            ("/api/v3/traces?query.startTimeMin=2000-01-01T00:00:00Z&query.startTimeMax=2000-01-02T00:00:00Z", 404, "No traces found"),
            ("/api/v3/traces/x", 400, #"malformed parameter trace_id: strconv.ParseUint: parsing "x": invalid syntax"#),
            ("/api/v3/traces/1?startTime=abc", 400, "malformed parameter startTime: parsing time \"abc\""),
            (
                "/api/v3/traces/1?rawTraces=foobar", 400,
                #"malformed parameter rawTraces: strconv.ParseBool: parsing "foobar": invalid syntax"#
            ),
            ("/api/v3/traces/1", 404, "No traces found"),
        ] as [(String, Int, String)])
    func httpCasesOfJaegersTests(path: String, status: Int, message: String) async throws {
        let viewer = try await RunningViewer()
        let (actualStatus, body) = try await viewer.get(path)
        #expect(actualStatus == status, "\(path)")
        let v1Message = (body["errors"] as? [[String: Any]])?.first?["msg"] as? String
        let v3Message = (body["error"] as? [String: Any])?["message"] as? String
        let actual = v1Message ?? v3Message ?? "(no message)"
        #expect(actual.hasPrefix(message), "\(path): \(actual)")
        await viewer.stop()
    }

    @Test func jaegersEnvelopeAndTraceIDForms() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(ViewerFixtures.spans)
        let (_, services) = try await viewer.getRaw("/api/services")
        let envelope = try #require(try Self.json(services) as? [String: Any])
        #expect(Set(envelope.keys) == ["data", "total", "limit", "offset", "errors"])
        #expect(envelope["total"] as? Int == 2 && envelope["limit"] as? Int == 0 && envelope["offset"] as? Int == 0)
        #expect(envelope["errors"] is NSNull)
        // Base64 trace ids (standard and URL-safe), as Jaeger's TraceIDFromString accepts them.
        let base64 = Data(ViewerFixtures.traceID.bytes).base64EncodedString()
        let urlSafe = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        for id in [ViewerFixtures.traceID.hexString, base64.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, urlSafe] {
            #expect(try await viewer.get("/api/traces/\(id)").status == 200, "\(id)")
        }
        // A search by trace ids that finds some: 200 with the found ones and an error entry per missing id.
        let (status, body) = try await viewer.get("/api/traces?traceID=\(ViewerFixtures.traceID.hexString)&traceID=1")
        #expect(status == 200)
        #expect((body["data"] as? [Any])?.count == 1)
        let errors = try #require(body["errors"] as? [[String: Any]])
        #expect(
            errors.count == 1 && errors[0]["msg"] as? String == "trace not found" && errors[0]["traceID"] as? String == "0000000000000001")
        #expect(errors[0]["code"] == nil)
        let trace = try #require((body["data"] as? [[String: Any]])?.first)
        #expect(trace["warnings"] is NSNull)
        // Archive storage is not configured: Jaeger's 500.
        let (archive, archiveBody) = try await viewer.postToQueryPort("/api/archive/\(ViewerFixtures.traceID.hexString)", [])
        #expect(archive == 500)
        #expect((archiveBody["errors"] as? [[String: Any]])?.first?["msg"] as? String == "archive span storage was not configured")
        await viewer.stop()
    }

    /// An OTLP span of unspecified kind shows no `span.kind` tag; a link marked `opentracing.ref_type=child_of` is
    /// a CHILD_OF reference; a link with all-zero ids is removed with Jaeger's warning.
    @Test func kindsLinksAndReferenceTypes() async throws {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data([UInt8](repeating: 7, count: 16))
        span.spanID = Data([UInt8](repeating: 1, count: 8))
        span.name = "unspecified"
        span.startTimeUnixNano = 1_000
        span.endTimeUnixNano = 2_000
        var childOf = Opentelemetry_Proto_Trace_V1_Span.Link()
        childOf.traceID = Data([UInt8](repeating: 8, count: 16))
        childOf.spanID = Data([UInt8](repeating: 2, count: 8))
        var refType = Opentelemetry_Proto_Common_V1_KeyValue()
        refType.key = "opentracing.ref_type"
        refType.value.stringValue = "child_of"
        childOf.attributes = [refType]
        var follows = childOf
        follows.attributes = []
        follows.spanID = Data([UInt8](repeating: 3, count: 8))
        var zero = Opentelemetry_Proto_Trace_V1_Span.Link()
        zero.traceID = Data(count: 16)
        zero.spanID = Data(count: 8)
        span.links = [childOf, follows, zero]
        var request = OTLPExportTraceServiceRequest()
        request.resourceSpans = [Opentelemetry_Proto_Trace_V1_ResourceSpans()]
        request.resourceSpans[0].scopeSpans = [Opentelemetry_Proto_Trace_V1_ScopeSpans()]
        request.resourceSpans[0].scopeSpans[0].spans = [span]
        let traces = JaegerTrace.traces(from: request)
        let converted = try #require(traces.first?.spans.first)
        #expect(!converted.tags.contains { $0.key == "span.kind" })
        #expect(converted.references.map(\.refType) == ["CHILD_OF", "FOLLOWS_FROM"])
        #expect(converted.warnings == ["Invalid span link removed"])
    }
}

extension RunningViewer {
    func getRaw(_ path: String) async throws -> (status: Int, body: Data) {
        let response = try await query(path)
        return (response.status, Data(response.body.utf8))
    }

    func postRaw(_ path: String, _ body: Data) async throws -> (status: Int, body: Data) {
        let response = try await RawHTTPResponse.exchange(
            port: queryPort,
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n",
            body: Array(body))
        return (response.status, Data(response.body.utf8))
    }
}
