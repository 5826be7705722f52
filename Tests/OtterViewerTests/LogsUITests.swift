import Foundation
import Otter
import OtterOTLP
import OtterViewer
import Testing
import Tracing

/// The Logs page as plain HTTP (no JavaScript): the server renders the search's records, escapes every value taken
/// from a record, shows the logs API's message for a bad parameter, and says so when the viewer keeps no logs.
@Suite("otter viewer logs page", .serialized)
struct LogsUITests {
    static let trace = TraceID(hexString: "4bf92f3577b34da6a3ce929d0e0e4736")!

    static func records(now: UInt64) -> OTLPLogs {
        func record(_ body: LogValue, _ seconds: UInt64, _ severity: LogSeverity, _ service: String, span: UInt64? = nil) -> OtterLogRecord
        {
            OtterLogRecord(
                timeNanosecondsSinceEpoch: now - seconds * 1_000_000_000, severity: severity, body: body,
                attributes: ["user": "<b>eve</b>", "count": 3],
                spanContext: span.map { OtterSpanContext(traceID: trace, spanID: SpanID($0), traceFlags: .sampled) },
                resource: Resource(attributes: ["service.name": .string(service)]))
        }
        return OTLPLogs([
            record("payment declined", 60, .error, "payments", span: 0x11),
            record("<img src=x onerror=alert(1)>", 50, .info, "payments", span: 0x12),
            record("cache warmed", 40, .debug, "<cache>"),
            record("an old record", 3 * 3600, .error, "payments"),
        ])
    }

    @Test func logsPageRendersASearchWithoutJavaScript() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.records(now: DefaultTracerClock.now.nanosecondsSinceEpoch))

        let (status, html) = try await viewer.html("/logs?service=payments&minSeverity=error&query=declined&lookback=1h")
        #expect(status == 200)
        #expect(html.contains(#"<a href="/logs">Logs</a>"#), "in the nav")
        #expect(html.contains(#"<h3 id="result-count">1 record</h3>"#))
        #expect(html.contains(#"<td class="body">payment declined</td>"#))
        #expect(html.contains(#"<td class="severity-error">ERROR</td>"#))
        #expect(html.contains(#"<a class="trace-link" href="/trace/4bf92f3577b34da6a3ce929d0e0e4736?span=0000000000000011">"#))
        #expect(html.contains(#"<option value="payments" selected>payments</option>"#))
        #expect(html.contains(#"<option value="error" selected>error</option>"#))
        #expect(html.contains(#"<option value="&lt;cache&gt;">&lt;cache&gt;</option>"#), "service names are escaped")
        #expect(!html.contains("an old record"), "outside the lookback")
        #expect(!html.contains("cache warmed"))

        // Every value of a record is escaped: the body, attribute values, service names.
        let (_, all) = try await viewer.html("/logs")
        #expect(all.contains(#"<h3 id="result-count">3 records</h3>"#))
        #expect(all.contains(#"<td class="body">&lt;img src=x onerror=alert(1)&gt;</td>"#))
        #expect(!all.contains("<img src=x"))
        #expect(all.contains("&lt;b&gt;eve&lt;/b&gt;") && !all.contains("<b>eve</b>"))
        #expect(all.contains(#"<td class="service">&lt;cache&gt;</td>"#))
        #expect(all.contains(#"<span class="key">count</span>=<span class="value">3</span>"#))

        let (_, old) = try await viewer.html("/logs?lookback=all&minSeverity=error")
        #expect(old.contains("an old record") && old.contains("payment declined"))
        let (_, byTrace) = try await viewer.html("/logs?traceID=\(Self.trace.hexString)")
        #expect(byTrace.contains("2 records"), "a trace's records from any time")

        // A bad parameter shows the API's message, and the form keeps the value.
        let (badStatus, bad) = try await viewer.html("/logs?minSeverity=loud")
        #expect(badStatus == 200)
        #expect(
            bad.contains("unable to parse param &#39;minSeverity&#39;") || bad.contains("unable to parse param 'minSeverity'"), "\(bad)")
        #expect(bad.contains(#"<option value="loud" selected>loud</option>"#))
        let (_, badTags) = try await viewer.html("/logs?tags=%22unterminated")
        #expect(badTags.contains("unable to parse param &#39;tags&#39;") || badTags.contains("unable to parse param 'tags'"))
        let (_, badLookback) = try await viewer.html("/logs?lookback=2d")
        #expect(
            badLookback.contains("unable to parse param &#39;lookback&#39;") || badLookback.contains("unable to parse param 'lookback'"))

        // The trace page links to its records when there are any.
        let (_, trace) = try await viewer.html("/trace/\(Self.trace.hexString)")
        #expect(!trace.contains("trace-logs-link"), "no spans, no trace page")
        try await viewer.store.write(ViewerUITests.recentSpans())
        let (_, withSpans) = try await viewer.html("/trace/\(Self.trace.hexString)")
        #expect(withSpans.contains(#"<a id="trace-logs-link" href="/logs?traceID=4bf92f3577b34da6a3ce929d0e0e4736">Logs</a>"#))
        await viewer.stop()
    }

    @Test func logsPageWithoutRecordsOrWithoutALogStore() async throws {
        let viewer = try await RunningViewer()
        let (_, empty) = try await viewer.html("/logs")
        #expect(empty.contains("No log records found.") && empty.contains("No log records stored yet"))
        await viewer.stop()

        let withoutLogs = try await RunningViewer(keepsLogs: false)
        let (status, html) = try await withoutLogs.html("/logs")
        #expect(status == 200)
        #expect(html.contains("This viewer keeps no log records."))
        await withoutLogs.stop()
    }
}
