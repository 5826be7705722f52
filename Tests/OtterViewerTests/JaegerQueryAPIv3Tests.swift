import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterOTLP
import Testing
import Tracing

@testable import OtterViewer

extension RunningViewer {
    func postToQueryPort(_ path: String, _ body: [UInt8]) async throws -> (status: Int, json: [String: Any]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(queryPort)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }
}

/// The api_v3 search endpoints (`/api/v3/traces`, `/api/v3/trace-summaries`), `POST /api/transform` and the
/// dependencies page, on the known-answer data set of the v1 search tests.
@Suite("Jaeger api_v3, transform and dependencies page", .serialized)
struct JaegerQueryAPIv3Tests {
    static let window =
        "query.startTimeMin=2023-11-14T22:13:20Z&query.startTimeMax=2023-11-14T22:15:00Z"

    /// The data-set indexes of the traces in an OTLP JSON `{"result":...}` answer, in answer order.
    func traceIndexes(_ body: [String: Any]) -> [Int] {
        let resourceSpans = (body["result"] as? [String: Any])?["resourceSpans"] as? [[String: Any]] ?? []
        var indexes: [Int] = []
        for resource in resourceSpans {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    guard let traceID = span["traceId"] as? String, let low = Int(traceID.suffix(16), radix: 16) else { continue }
                    if !indexes.contains(low - 1) { indexes.append(low - 1) }
                }
            }
        }
        return indexes
    }

    @Test func searchReturnsWholeTracesAsOTLPJSON() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(JaegerSearchTests.dataSet())

        let bySerivce = try await viewer.get("/api/v3/traces?query.serviceName=frontend&query.searchDepth=4&\(Self.window)")
        #expect(bySerivce.status == 200)
        #expect(Set(traceIndexes(bySerivce.json)) == [29, 28, 27, 26])
        let spanCount = ((bySerivce.json["result"] as? [String: Any])?["resourceSpans"] as? [[String: Any]] ?? [])
            .flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }.flatMap { $0["spans"] as? [[String: Any]] ?? [] }.count
        #expect(spanCount == 8, "every span of each found trace, the backend child included")

        let attributes = "query.attributes=" + "{\"customer.id\":\"c2\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let byAttribute = try await viewer.get("/api/v3/traces?query.serviceName=backend&\(attributes)&\(Self.window)")
        #expect(Set(traceIndexes(byAttribute.json)) == Set((0..<30).filter { $0 % 5 == 2 }))

        let everyService = try await viewer.get("/api/v3/traces?query.durationMin=25ms&\(Self.window)")
        #expect(Set(traceIndexes(everyService.json)) == Set(25..<30), "no service name searches every service")

        let snakeCase = try await viewer.get(
            "/api/v3/traces?query.service_name=frontend&query.operation_name=GET%20/x1&query.search_depth=2"
                + "&query.start_time_min=2023-11-14T22:13:20Z&query.start_time_max=2023-11-14T23:15:00%2B01:00")
        #expect(traceIndexes(snakeCase.json).sorted() == [25, 28], "the deprecated aliases Grafana sends still work")

        let nothing = try await viewer.get("/api/v3/traces?query.serviceName=nobody&\(Self.window)")
        #expect(nothing.status == 404)
        #expect((nothing.json["error"] as? [String: Any])?["httpCode"] as? Int == 404)
        #expect((nothing.json["error"] as? [String: Any])?["message"] as? String == "No traces found")
        await viewer.stop()
    }

    @Test(arguments: [
        ("query.serviceName=frontend", "query.startTimeMin and query.startTimeMax are required"),
        (
            "query.startTimeMin=2023-11-14T22:13:20Z&query.startTimeMax=yesterday",
            #"malformed parameter query.startTimeMax: parsing time "yesterday": expecting RFC 3339, like 2006-01-02T15:04:05.999999999Z07:00"#
        ),
        (
            "query.startTimeMin=2023-11-14T22:15:00Z&query.startTimeMax=2023-11-14T22:13:20Z",
            "query.startTimeMin must be before query.startTimeMax"
        ),
        ("\(window)&query.durationMin=fast", #"malformed parameter query.durationMin: time: invalid duration "fast""#),
        ("\(window)&query.attributes=%5B1%5D", "malformed parameter query.attributes: expecting a JSON map: [1]"),
    ])
    func invalidSearchesAre400WithAMessage(parameters: String, message: String) async throws {
        let viewer = try await RunningViewer()
        for path in ["/api/v3/traces", "/api/v3/trace-summaries"] {
            let (status, body) = try await viewer.get("\(path)?\(parameters)")
            #expect(status == 400)
            #expect((body["error"] as? [String: Any])?["message"] as? String == message)
        }
        await viewer.stop()
    }

    @Test func traceSummariesAreComputedWithoutTheSpans() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(JaegerSearchTests.dataSet())
        let (status, body) = try await viewer.get("/api/v3/trace-summaries?query.serviceName=frontend&query.searchDepth=3&\(Self.window)")
        #expect(status == 200)
        let summaries = body["summaries"] as? [[String: Any]] ?? []
        #expect(
            summaries.compactMap { $0["traceId"] as? String } == [29, 28, 27].map { TraceID(high: 0xABC, low: UInt64($0 + 1)).hexString })
        let failing = try #require(summaries.dropFirst().first)
        #expect(failing["rootServiceName"] as? String == "frontend")
        #expect(failing["rootOperationName"] as? String == "GET /x1")
        #expect(failing["spanCount"] as? Int == 2)
        #expect(failing["errorSpanCount"] as? Int == 1, "trace 28's backend span failed")
        #expect(failing["orphanSpanCount"] == nil, "zero, which protobuf JSON (and Jaeger) leaves out")
        let start = (JaegerSearchTests.baseSeconds + 28) * 1_000_000_000
        #expect(failing["minStartTimeUnixNano"] as? String == String(start))
        #expect(failing["maxEndTimeUnixNano"] as? String == String(start + 28_000_000))
        let services = (failing["services"] as? [[String: Any]] ?? []).map {
            "\($0["name"] ?? "")/\($0["spanCount"] ?? "")/\($0["errorSpanCount"] ?? "")"
        }
        #expect(services == ["backend/1/1", "frontend/1/"], "a zero errorSpanCount is left out, as protobuf JSON does")

        let none = try await viewer.get("/api/v3/trace-summaries?query.serviceName=nobody&\(Self.window)")
        #expect(none.status == 200)
        #expect((none.json["summaries"] as? [Any])?.isEmpty == true)
        await viewer.stop()
    }

    @Test func summaryOfATraceWithMissingSpansCountsOrphans() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        var spans = JaegerSearchTests.dataSet().prefix(2).map { $0 }
        // A second child whose parent never arrived.
        var orphan = spans[1]
        orphan.spanContext.spanID = SpanID(0xDEAD)
        orphan.parentSpanContext = OtterSpanContext(traceID: orphan.spanContext.traceID, spanID: SpanID(0xBEEF), traceFlags: .sampled)
        spans.append(orphan)
        try await store.write(spans)
        let summary = try #require(try await store.summaries([spans[0].spanContext.traceID, TraceID(high: 1, low: 1)]).first)
        #expect(summary.spanCount == 3)
        #expect(summary.orphanSpanCount == 1)
        #expect(summary.rootOperationName == "GET /x0")
        #expect(try await store.summaries([TraceID(high: 1, low: 1)]).isEmpty)
    }

    @Test func rfc3339Timestamps() {
        #expect(RFC3339.nanoseconds("2023-11-14T22:13:20Z") == 1_700_000_000_000_000_000)
        #expect(RFC3339.nanoseconds("2023-11-14T23:13:20+01:00") == 1_700_000_000_000_000_000)
        #expect(RFC3339.nanoseconds("2023-11-14T22:13:20.5Z") == 1_700_000_000_500_000_000)
        #expect(RFC3339.nanoseconds("2023-11-14T22:13:20.123456789Z") == 1_700_000_000_123_456_789)
        #expect(RFC3339.nanoseconds("2024-02-29T00:00:00Z") == 1_709_164_800_000_000_000)
        #expect(RFC3339.nanoseconds("1970-01-01T00:00:00Z") == 0)
        for invalid in ["", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z", "2023-11-14T22:13:20.Z", "2023-11-14 22:13:20Z x"]
        {
            #expect(RFC3339.nanoseconds(invalid) == nil, "\(invalid)")
        }
    }

    @Test func transformTurnsAnOTLPJSONUploadIntoJaegerTraces() async throws {
        let viewer = try await RunningViewer()
        let upload = OTLPJSON.encode(OTLPMapping.request(for: ViewerFixtures.spans))
        let (status, body) = try await viewer.postToQueryPort("/api/transform", Array(upload))
        #expect(status == 200)
        let traces = body["data"] as? [[String: Any]] ?? []
        #expect(traces.count == 1)
        #expect(traces.first?["traceID"] as? String == ViewerFixtures.traceID.hexString)
        #expect((traces.first?["spans"] as? [Any])?.count == ViewerFixtures.spans.count)
        #expect(try await viewer.store.services().isEmpty, "a transform stores nothing")

        let (badStatus, badBody) = try await viewer.postToQueryPort("/api/transform", Array("{\"resourceSpans\":".utf8))
        #expect(badStatus == 400)
        let message = (badBody["errors"] as? [[String: Any]])?.first?["msg"] as? String ?? ""
        #expect(message.hasPrefix("cannot unmarshal OTLP : "), "Jaeger's message")
        await viewer.stop()
    }

    @Test func dependenciesPageDrawsTheCallsBetweenServices() async throws {
        let viewer = try await RunningViewer()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        try await viewer.store.write([
            RetentionAndDependencyTests.span("/", service: "frontend", trace: 1, id: 1, start: now - 1000),
            RetentionAndDependencyTests.span("/users", service: "users", trace: 1, id: 2, parent: 1, start: now - 900),
            RetentionAndDependencyTests.span("query", service: "<b>db</b>", trace: 1, id: 3, parent: 2, start: now - 800),
        ])
        let (status, html) = try await viewer.html("/dependencies")
        #expect(status == 200)
        #expect(html.contains("<svg"))
        #expect(html.components(separatedBy: "<path class=\"edge\"").count - 1 == 2)
        #expect(html.components(separatedBy: "<g class=\"node\"").count - 1 == 3)
        #expect(
            html.contains(
                "<td><a href=\"/search?service=frontend\">frontend</a></td><td><a href=\"/search?service=users\">users</a></td><td>1</td>"))
        #expect(html.contains("&lt;b&gt;db&lt;/b&gt;"))
        #expect(!html.contains("<b>db</b>"))

        #expect(html.contains("href=\"/search?service=%3Cb%3Edb%3C%2Fb%3E\""), "service names are percent-encoded in links")
        let (_, lastHour) = try await viewer.html("/dependencies?lookback=1h")
        #expect(lastHour.contains("<svg"), "the spans are a second old, inside the last hour")
        await viewer.stop()
    }
}
