import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterOTLP
import OtterViewer
import Testing
import Tracing

extension RunningViewer {
    func html(_ path: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(queryPort)\(path)"), timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 16 << 20)))
    }
}

@Suite("otter viewer web UI", .serialized)
struct ViewerUITests {
    /// Recent spans (the UI searches the last hour by default), one of them hostile.
    static func recentSpans() -> [FinishedSpan] {
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        return ViewerFixtures.spans.map { span in
            var recent = span
            recent.startTimeNanosecondsSinceEpoch = now - 60_000_000_000 + (span.startTimeNanosecondsSinceEpoch - 1_700_000_000_000_000_000)
            recent.endTimeNanosecondsSinceEpoch = now - 60_000_000_000 + (span.endTimeNanosecondsSinceEpoch - 1_700_000_000_000_000_000)
            if recent.operationName == "order" {
                recent.operationName = "<script>alert(1)</script>"
                recent.attributes = ["note": "<img src=x onerror=alert(2)>"]
            }
            return recent
        }
    }

    @Test func searchPageListsTracesWithTheirSummary() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.recentSpans())
        let (status, html) = try await viewer.html("/search?service=http-server&lookback=1h")
        #expect(status == 200)
        #expect(html.contains(#"<option value="http-server" selected>http-server</option>"#))
        #expect(html.contains(#"<a href="/trace/4bf92f3577b34da6a3ce929d0e0e4736">http-server: /</a>"#))
        #expect(
            html.contains(#"http-server (2)</span>"#) && html.contains(#"order-example (1)</span> </td><td>3</td>"#),
            "services and span count")
        #expect(html.contains(#"<span class="error">1</span>"#), "one error span")
        #expect(!html.contains(#"<span class="error">0</span>"#))
        #expect(html.contains("<circle"), "the duration scatter")
        let (_, filtered) = try await viewer.html("/search?service=http-server&tags=http.request.method%3DPOST")
        #expect(filtered.contains("No traces found."))
        let (_, invalid) = try await viewer.html("/search?service=http-server&minDuration=fast")
        #expect(invalid.contains("unable to parse param &#39;minDuration&#39;") || invalid.contains("unable to parse param 'minDuration'"))
        await viewer.stop()
    }

    @Test func tracePageShowsTheWaterfallAndEscapesEverySpanString() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.recentSpans())
        let (status, html) = try await viewer.html("/trace/4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(status == 200)
        #expect(!html.contains("<script>alert(1)</script>"), "span names are escaped")
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<img src=x"))
        #expect(html.components(separatedBy: "<details>").count - 1 == 3, "one waterfall row per span")
        let serverRow = try #require(html.range(of: "<b>/</b>"))
        let clientRow = try #require(html.range(of: "<b>GET</b>"))
        #expect(serverRow.lowerBound < clientRow.lowerBound, "the parent comes before its child")
        #expect(html.contains("padding-left:24px"), "children are indented")
        #expect(html.contains("status ERROR: 503 from downstream"))
        #expect(html.contains("order.validated"))
        #expect(html.contains(#"<a href="/api/traces/4bf92f3577b34da6a3ce929d0e0e4736">Jaeger JSON</a>"#))
        #expect(try await viewer.html("/trace/0123456789abcdef0123456789abcdef").status == 404)
        await viewer.stop()
    }

    @Test func otlpJSONDownloadIsTheApiV3Shape() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(ViewerFixtures.spans)
        let (status, body) = try await viewer.get("/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(status == 200)
        let result = try #require(body["result"] as? [String: Any])
        let request = try OTLPJSON.decodeRequest(try JSONSerialization.data(withJSONObject: result))
        #expect(try OTLPReading.finishedSpans(from: request).count == 3)
        let missing = try await viewer.get("/api/v3/traces/0123456789abcdef0123456789abcdef")
        #expect(missing.status == 404)
        #expect((missing.json["error"] as? [String: Any])?["httpCode"] as? Int == 404)
        await viewer.stop()
    }

    /// Found by the explorer issue's review: a boolean in JSON tags (`{"cached":true}`) was read as "1" and never
    /// matched; numbers match as their text. The search page and api_v3 read them alike.
    @Test func jsonTagsMatchBooleansAndNumbers() async throws {
        let viewer = try await RunningViewer()
        var span = Self.recentSpans()[0]
        span.attributes = ["cached": true, "http.response.status_code": 200, "ratio": 0.5]
        try await viewer.store.write([span])
        let trace = #"<a href="/trace/4bf92f3577b34da6a3ce929d0e0e4736">"#
        for tags in [#"{"cached":true}"#, #"{"http.response.status_code":200}"#, #"{"ratio":0.5}"#] {
            let query = tags.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            #expect(try await viewer.html("/search?service=http-server&tags=\(query)").body.contains(trace), "\(tags)")
        }
        let falseTag = #"{"cached":false}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        #expect(try await viewer.html("/search?service=http-server&tags=\(falseTag)").body.contains("No traces found."))
        let now = Date()
        let window =
            "query.startTimeMin=\(ISO8601DateFormatter().string(from: now.addingTimeInterval(-3600)))"
            + "&query.startTimeMax=\(ISO8601DateFormatter().string(from: now.addingTimeInterval(60)))"
        let attributes = #"{"cached":true}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let (status, body) = try await viewer.get("/api/v3/traces?query.serviceName=http-server&query.attributes=\(attributes)&\(window)")
        #expect(status == 200)
        #expect("\(body)".contains("4bf92f3577b34da6a3ce929d0e0e4736"))
        await viewer.stop()
    }

    /// Issue 27's gaps: HEAD on pages was 404 and there was no favicon.
    @Test func headAnswersLikeGetWithoutABodyAndThereIsAnIcon() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.recentSpans())
        for path in ["/search", "/trace/4bf92f3577b34da6a3ce929d0e0e4736", "/logs", "/static/otter.css", "/api/services"] {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)\(path)")
            request.method = .HEAD
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok, "\(path)")
            #expect(response.headers.first(name: "Content-Security-Policy") != nil, "\(path): the same headers as GET")
            #expect(try await response.body.collect(upTo: 1 << 20).readableBytes == 0, "\(path)")
        }
        var missing = HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)/trace/00000000000000000000000000000001")
        missing.method = .HEAD
        #expect(try await HTTPClient.shared.execute(missing, timeout: .seconds(30)).status == .notFound)
        let icon = try await viewer.html("/favicon.ico")
        #expect(icon.status == 200 && icon.body.hasPrefix("<svg"))
        #expect(try await viewer.html("/search").body.contains(#"<link rel="icon" href="/static/otter.svg""#))
        await viewer.stop()
    }

    @Test func aPathOrMethodWithNoRouteIsAnsweredWithWhatWasAsked() async throws {
        let viewer = try await RunningViewer()
        let cases: [(String, String, String)] = [
            ("GET", "/nope?x=1", #"nothing answers GET "/nope""#),
            ("DELETE", "/api/otter/traces/4bf92f3577b34da6a3ce929d0e0e4736/spans", "nothing answers DELETE"),
            ("PUT", "/api/services", #"nothing answers PUT "/api/services""#),
            ("GET", "/\u{1B}[31m" + String(repeating: "a", count: 5_000), #"nothing answers GET "/%1B%5B31maaa"#),
        ]
        for (method, path, message) in cases {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)\(path)")
            request.method = .RAW(value: method)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            let text = try #require((json?["errors"] as? [[String: Any]])?.first?["msg"] as? String)
            #expect(response.status == .notFound, "\(method) \(path.prefix(40))")
            #expect(text.hasPrefix(message) && text.count < 300, "\(method) \(path.prefix(40)): \(text)")
            #expect(response.headers.first(name: "Content-Security-Policy") != nil)
        }
        await viewer.stop()
    }

    @Test func searchAcceptsJaegerUILinks() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.recentSpans())
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch / 1_000
        let trace = #"<a href="/trace/4bf92f3577b34da6a3ce929d0e0e4736">"#
        // Jaeger UI's custom range is in microseconds; its tags are a JSON object; its lookbacks include 2h and 2d.
        let custom = "/search?service=http-server&lookback=custom&start=\(now - 600_000_000)&end=\(now)"
        #expect(try await viewer.html(custom).body.contains(trace))
        #expect(
            try await viewer.html("/search?service=http-server&lookback=custom&start=\(now - 60_000)&end=\(now)").body.contains(
                "No traces found."))
        let tags = "/search?service=http-server&tags=%7B%22http.request.method%22%3A%22GET%22%7D"
        #expect(try await viewer.html(tags).body.contains(trace))
        #expect(
            try await viewer.html("/search?service=http-server&tags=%7B%22http.request.method%22%3A%22PUT%22%7D").body.contains(
                "No traces found."))
        #expect(try await viewer.html("/search?service=http-server&lookback=2d").body.contains(trace))
        // Issue 27's gap: the form lost a linked lookback and a µs range (submitting it searched something else).
        #expect(
            try await viewer.html("/search?service=http-server&lookback=2d").body.contains(#"<option value="2d" selected>Last 2d</option>"#)
        )
        let range = try await viewer.html("/search?service=http-server&lookback=custom&start=1700000000000000&end=1700000600000000").body
        #expect(range.contains(#"name="start" value="2023-11-14T22:13""#) && range.contains(#"name="end" value="2023-11-14T22:23""#))
        let bad = try await viewer.html("/search?service=http-server&lookback=soon")
        #expect(bad.body.contains("is not a lookback such as 30m"))
        // Weeks enough to overflow nanoseconds are refused, not trapped on.
        for lookback in ["30501w", "100000w", "18446744073709551615d"] {
            let huge = try await viewer.html("/search?service=http-server&lookback=\(lookback)")
            #expect(huge.status == 200 && huge.body.contains("is not a lookback such as 30m"), "\(lookback)")
        }
        #expect(try await viewer.html("/search?service=http-server&lookback=5000w").body.contains(trace), "under 100 years is accepted")
        let february = try await viewer.html("/search?service=http-server&lookback=custom&start=2026-02-31T10:00")
        #expect(february.body.contains("is not YYYY-MM-DDTHH:MM"), "31 February is refused")
        let reversed = try await viewer.html("/search?service=http-server&lookback=custom&start=2026-03-02T10:00&end=2026-03-01T10:00")
        #expect(reversed.body.contains("the range ends before it starts"))
        // An operation from a link that the service does not have stays selected.
        let unknown = try await viewer.html("/search?service=http-server&operation=POST%20%2Fpay")
        #expect(unknown.body.contains(#"<option value="POST /pay" selected>POST /pay</option>"#))
        await viewer.stop()
    }

    @Test func uploadReadsOTLPJSONLinesAndTheViewersOwnDownloads() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(ViewerFixtures.spans)
        // The viewer's "OTLP JSON" link (api_v3: the request wrapped in `result`), uploaded back.
        let download = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)/api/v3/traces/4bf92f3577b34da6a3ce929d0e0e4736"),
            timeout: .seconds(30))
        let v3 = try await download.body.collect(upTo: 1 << 20)
        let fromV3 = try await Self.upload(viewer, Array(v3.readableBytesView))
        #expect(fromV3.status == 200 && fromV3.body.contains(#""rootName":"/""#), "\(fromV3.body.prefix(300))")
        // JSON Lines, as the Collector's file exporter writes: one request per line, spans of one trace split across them.
        let line = { (spans: [FinishedSpan]) in String(decoding: OTLPJSON.encode(OTLPMapping.request(for: spans)), as: UTF8.self) }
        let lines = line(Array(ViewerFixtures.spans.prefix(1))) + "\n" + line(Array(ViewerFixtures.spans.dropFirst())) + "\n"
        let fromLines = try await Self.upload(viewer, Array(lines.utf8))
        #expect(fromLines.status == 200)
        let model = try JSONSerialization.jsonObject(with: Data(fromLines.body.utf8)) as? [String: Any]
        #expect(((model?["traces"] as? [[String: Any]])?.first?["spans"] as? [Any])?.count == 3, "one trace of 3 spans")
        // A UTF-8 byte order mark (as some editors save a file) is passed over.
        let withMark = try await Self.upload(viewer, [0xEF, 0xBB, 0xBF] + Array(lines.utf8))
        #expect(withMark.status == 200 && withMark.body == fromLines.body, "\(withMark.body.prefix(200))")
        let broken = try await Self.upload(viewer, Array("{\"resourceSpans\": [".utf8))
        #expect(broken.status == 400 && broken.body.contains("cannot read the OTLP JSON"))
        await viewer.stop()
    }

    static func upload(_ viewer: RunningViewer, _ bytes: [UInt8]) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)/api/otter/trace-models")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 16 << 20)))
    }
}
