import Foundation
import Otter
import OtterOTLP
import Testing
import Tracing

@testable import OtterViewer

/// Span metrics: the duration histogram's error bound, rates, error rates and quantiles from per-minute rows with
/// known answers, the SQLite store's rows, and Jaeger's `/api/metrics/*` answers.
@Suite("span metrics")
struct SpanMetricsTests {
    @Test func histogramQuantilesAreWithinTheBucketBound() {
        var histogram = DurationHistogram()
        for value in 1...10_000 { histogram.record(UInt64(value) * 1_000) }  // 1 µs ... 10 ms, uniform
        for (q, exact) in [(0.5, 5_000_000.0), (0.95, 9_500_000.0), (0.99, 9_900_000.0)] {
            let estimate = try! #require(histogram.quantile(q))
            #expect(abs(estimate - exact) / exact <= 0.0625, "q\(q): \(estimate) vs \(exact)")
        }
        #expect(DurationHistogram().quantile(0.5) == nil)
        var extremes = DurationHistogram()
        extremes.record(0)
        extremes.record(.max)
        #expect(extremes.quantile(0) == 0)
        #expect(extremes.quantile(1)! > 1e19)
        #expect(DurationHistogram(encoded: histogram.encoded) == histogram, "the stored form round-trips")
        #expect(DurationHistogram(encoded: [1, 2, 3]) == nil, "a truncated blob is refused")
        #expect(DurationHistogram(encoded: [0xff, 0xff, 1, 0, 0, 0]) == nil, "an impossible bucket is refused")
    }

    static func row(
        _ operation: String, minute: UInt64, calls: UInt64, errors: UInt64 = 0, durationMilliseconds: UInt64 = 10
    ) -> OperationMinute {
        var durations = DurationHistogram()
        durations.record(durationMilliseconds * 1_000_000, count: calls)
        return OperationMinute(
            service: "web", operation: operation, kind: .server, minute: minute, calls: calls, errors: errors, durations: durations)
    }

    @Test func ratesErrorRatesAndLatenciesOverSlidingWindows() {
        // Minutes 100...104: 60 calls a minute to GET /, 6 failing in minute 104, slower (100 ms) in minute 104.
        var rows = (100...103).map { Self.row("GET /", minute: $0, calls: 60) }
        rows.append(Self.row("GET /", minute: 104, calls: 60, errors: 6, durationMilliseconds: 100))
        rows.append(Self.row("POST /", minute: 104, calls: 30))
        let minute: UInt64 = 60_000_000_000
        var query = SpanMetrics.Query(
            services: ["web"], endNanoseconds: 104 * minute + 30_000_000_000, lookbackNanoseconds: 2 * minute, stepNanoseconds: minute,
            ratePerNanoseconds: 2 * minute)
        // Points at 102:30, 103:30, 104:30; windows of two minutes: (101,102), (102,103), (103,104).
        let calls = SpanMetrics.series(.calls, query: query, rows: rows)
        #expect(calls.map(\.service) == ["web"])
        #expect(calls[0].points.map(\.value) == [1.0, 1.0, 1.25], "120 calls / 120 s, then 150 / 120 s")
        let errors = SpanMetrics.series(.errors, query: query, rows: rows)
        #expect(errors[0].points.map(\.value) == [0, 0, 6.0 / 150])
        let p99 = SpanMetrics.series(.latencies(quantile: 0.99), query: query, rows: rows)[0].points.map(\.value)
        #expect(abs(p99[0] - 10) / 10 <= 0.0625 && abs(p99[2] - 100) / 100 <= 0.0625, "\(p99) in ms")
        query.groupByOperation = true
        let byOperation = SpanMetrics.series(.calls, query: query, rows: rows)
        #expect(byOperation.map { $0.operation ?? "" } == ["GET /", "POST /"])
        #expect(byOperation[1].points.map(\.value) == [0, 0, 0.25])
        query.kinds = [.client]
        #expect(SpanMetrics.series(.calls, query: query, rows: rows).isEmpty, "kinds filter")
    }

    @Test func theStoreKeepsPerMinuteRowsAndRetentionDeletesThem() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-metrics-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteTraceStore(path: directory.appendingPathComponent("spans.sqlite").path)
        let minute: UInt64 = 60_000_000_000
        let start = 28_000_000 * minute
        var spans: [FinishedSpan] = []
        for index in 0..<300 {
            spans.append(
                FinishedSpan(
                    operationName: index % 3 == 0 ? "POST /orders" : "GET /", kind: index % 5 == 0 ? .client : .server,
                    spanContext: OtterSpanContext(
                        traceID: TraceID(high: 1, low: UInt64(index)), spanID: SpanID(UInt64(index + 1)), traceFlags: .sampled),
                    startTimeNanosecondsSinceEpoch: start + UInt64(index) * 1_000_000_000,
                    endTimeNanosecondsSinceEpoch: start + UInt64(index) * 1_000_000_000 + UInt64(index + 1) * 1_000_000,
                    status: index % 10 == 0 ? SpanStatus(code: .error) : nil,
                    resource: Resource(attributes: ["service.name": "shop"])))
        }
        // Two writes, so one minute's rows come from two blocks and are merged.
        try await store.write(Array(spans[0..<150]))
        try await store.write(Array(spans[150...]))
        let minutes = (start / minute)...(start / minute + 10)
        let rows = try await store.operationMinutes(services: ["shop"], kinds: [.server], minutes: minutes)
        let expected = OperationMinute.rows(of: spans.filter { $0.kind == .server })
        #expect(rows == OperationMinute.merged(expected))
        #expect(rows.reduce(0) { $0 + $1.calls } == 240)
        #expect(rows.reduce(0) { $0 + $1.errors } == UInt64(spans.filter { $0.kind == .server && $0.status?.code == .error }.count))
        #expect(try await store.operationMinutes(services: ["other"], kinds: [.server], minutes: minutes).isEmpty)
        // Deleting the first block (spans 0..<150, minutes 0 to 2) drops the minutes no remaining span starts in; the
        // minute the two blocks share keeps its row.
        _ = try await store.deleteSpans(startedBefore: start + 150 * 1_000_000_000)
        let remaining = try await store.operationMinutes(services: ["shop"], kinds: [.server, .client], minutes: minutes)
        #expect(remaining.map(\.minute).min() == start / minute + 2)
        let later = { (row: OperationMinute) in row.minute > start / minute + 2 && row.kind == .server }
        #expect(remaining.filter(later) == rows.filter(later), "later minutes untouched")
        _ = try await store.deleteSpans(startedBefore: start + 400 * 1_000_000_000)
        #expect(try await store.operationMinutes(services: ["shop"], kinds: [.server, .client], minutes: minutes).isEmpty)
    }

    @Test func upgradingAStoreCountsTheSpansItAlreadyHolds() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-backfill-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("spans.sqlite").path
        let minute: UInt64 = 60_000_000_000
        let start = 28_000_000 * minute
        let spans = (0..<200).map { (index: Int) -> FinishedSpan in
            let begin: UInt64 = start + UInt64(index) * 700_000_000
            let kind: SpanKind = index % 4 == 3 ? .consumer : .server
            let status: SpanStatus? = index % 9 == 0 ? SpanStatus(code: .error) : nil
            return FinishedSpan(
                operationName: index % 2 == 0 ? "GET /" : "POST /", kind: kind,
                spanContext: OtterSpanContext(
                    traceID: TraceID(high: 2, low: UInt64(index)), spanID: SpanID(UInt64(index + 1)), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: begin, endTimeNanosecondsSinceEpoch: begin + UInt64(index % 7 + 1) * 3_000_000,
                status: status, resource: Resource(attributes: ["service.name": "shop"]))
        }
        do {
            let store = try SQLiteTraceStore(path: path)
            try await store.write(spans)
            // The store as the previous version left it: blocks, no per-minute rows, migration v6 not applied.
            try await store.database.write { db in
                try db.execute(sql: "DROP TABLE operation_minute; DELETE FROM grdb_migrations WHERE identifier = 'v6: operation minutes'")
            }
        }
        let upgraded = try SQLiteTraceStore(path: path)
        let rows = try await upgraded.operationMinutes(
            services: ["shop"], kinds: [.server, .consumer], minutes: (start / minute)...(start / minute + 10))
        #expect(rows == OperationMinute.merged(OperationMinute.rows(of: spans)))
        #expect(rows.reduce(0) { $0 + $1.calls } == 200)
    }

    @Test func jaegerMetricsEndpointsAnswerFromTheStore() async throws {
        let viewer = try await RunningViewer()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        let minute: UInt64 = 60_000_000_000
        // 120 SERVER spans of checkout over the last two minutes, 12 failing; 30 CLIENT spans that the default kind
        // filter leaves out.
        var spans: [FinishedSpan] = []
        for index in 0..<150 {
            let start = now - 2 * minute + UInt64(index) * 500_000_000
            spans.append(
                FinishedSpan(
                    operationName: index < 120 ? "POST /checkout" : "GET /price", kind: index < 120 ? .server : .client,
                    spanContext: OtterSpanContext(
                        traceID: TraceID(high: 5, low: UInt64(index)), spanID: SpanID(UInt64(index + 1)), traceFlags: .sampled),
                    startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + 20_000_000,
                    status: index < 12 ? SpanStatus(code: .error) : nil, resource: Resource(attributes: ["service.name": "shop"])))
        }
        try await viewer.store.write(spans)
        let end = now / 1_000_000
        let common = "service=shop&endTs=\(end)&lookback=60000&step=60000&ratePer=600000"
        let (status, calls) = try await viewer.get("/api/metrics/calls?\(common)&groupByOperation=true")
        #expect(status == 200)
        #expect(calls["name"] as? String == "service_operation_call_rate")
        #expect(calls["type"] as? String == "GAUGE")
        #expect(calls["help"] as? String == "calls/sec, grouped by service & operation")
        let metrics = try #require(calls["metrics"] as? [[String: Any]])
        #expect(metrics.count == 1, "only the SERVER operation by default")
        let labels = (metrics[0]["labels"] as? [[String: String]]) ?? []
        #expect(labels == [["name": "service_name", "value": "shop"], ["name": "operation", "value": "POST /checkout"]])
        let points = try #require(metrics[0]["metricPoints"] as? [[String: Any]])
        #expect(points.count == 2, "end - lookback and end")
        let last = try #require((points.last?["gaugeValue"] as? [String: Any])?["doubleValue"] as? Double)
        #expect(abs(last - 120.0 / 600) < 1e-9, "120 calls in the 10-minute window: \(last)/s")
        #expect((points.last?["timestamp"] as? String)?.hasSuffix("Z") == true)

        let (_, errors) = try await viewer.get("/api/metrics/errors?\(common)")
        #expect(errors["name"] as? String == "service_error_rate")
        let errorPoints = ((errors["metrics"] as? [[String: Any]])?.first?["metricPoints"] as? [[String: Any]]) ?? []
        #expect((errorPoints.last?["gaugeValue"] as? [String: Any])?["doubleValue"] as? Double == 0.1)

        let (_, latencies) = try await viewer.get("/api/metrics/latencies?\(common)&quantile=0.95&spanKind=client")
        #expect(latencies["help"] as? String == "0.95th quantile latency, grouped by service")
        let latencyPoints = ((latencies["metrics"] as? [[String: Any]])?.first?["metricPoints"] as? [[String: Any]]) ?? []
        let p95 = try #require((latencyPoints.last?["gaugeValue"] as? [String: Any])?["doubleValue"] as? Double)
        #expect(abs(p95 - 20) / 20 <= 0.0625, "20 ms spans: \(p95) ms")

        let (minStepStatus, minStep) = try await viewer.get("/api/metrics/minstep")
        #expect(minStepStatus == 200 && minStep["minStep"] as? Int == 60_000)
        let (tooFine, refusal) = try await viewer.get("/api/metrics/calls?service=shop&lookback=86400000&step=1")
        #expect(tooFine == 400)
        #expect(((refusal["errors"] as? [[String: Any]])?.first?["msg"] as? String)?.contains("11,000 points") == true)
        #expect(try await viewer.get("/api/metrics/latencies?service=shop&quantile=1.5").status == 400)
        // The longest window there is costs what a short one does (the window slides over the minutes with spans).
        let (allTime, allTimeBody) = try await viewer.get("/api/metrics/latencies?service=shop&quantile=0.5&ratePer=9223372036854775807")
        #expect(allTime == 200 && (allTimeBody["metrics"] as? [[String: Any]])?.count == 1)
        // Two thousand operation names × 721 points is refused before it is computed.
        try await viewer.store.write(
            (0..<2_000).map { index in
                FinishedSpan(
                    operationName: "GET /item/\(index)", kind: .server,
                    spanContext: OtterSpanContext(
                        traceID: TraceID(high: 6, low: UInt64(index)), spanID: SpanID(UInt64(index + 1)), traceFlags: .sampled),
                    startTimeNanosecondsSinceEpoch: now - minute, endTimeNanosecondsSinceEpoch: now - minute + 1_000,
                    resource: Resource(attributes: ["service.name": "sprawl"]))
            })
        let (sprawl, sprawlBody) = try await viewer.get("/api/metrics/calls?service=sprawl&groupByOperation=true")
        #expect(sprawl == 400)
        #expect(((sprawlBody["errors"] as? [[String: Any]])?.first?["msg"] as? String)?.contains("2000 series of 721 points") == true)
        #expect(try await viewer.get("/api/metrics/calls?service=sprawl&groupByOperation=true&step=60000").status == 200)

        let (pageStatus, page) = try await viewer.html("/monitor?service=shop&lookback=15m")
        #expect(pageStatus == 200)
        #expect(page.contains(">POST /checkout</a></td><td>120</td>"), "SERVER spans per operation on the Monitor page")
        #expect(page.contains("10.0 %"), "its error rate")
        #expect(!page.contains("GET /price"), "CLIENT spans only when picked")
        let (_, clients) = try await viewer.html("/monitor?service=shop&lookback=15m&kind=client")
        #expect(clients.contains(">GET /price</a></td><td>30</td>"))
        await viewer.stop()
    }

    /// Issue 27's gap: /monitor opened on the first service by name even when it serves nothing (empty charts); it opens
    /// on the first service with SERVER or CONSUMER spans.
    @Test func monitorOpensOnAServiceThatServesRequests() async throws {
        let viewer = try await RunningViewer()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        func span(_ service: String, _ kind: SpanKind, _ low: UInt64) -> FinishedSpan {
            FinishedSpan(
                operationName: "work", kind: kind,
                spanContext: OtterSpanContext(traceID: TraceID(high: 7, low: low), spanID: SpanID(low), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: now - 60_000_000_000, endTimeNanosecondsSinceEpoch: now - 59_000_000_000,
                resource: Resource(attributes: ["service.name": .string(service)]))
        }
        try await viewer.store.write([span("a-batch-job", .internal, 1), span("b-worker", .client, 2), span("c-api", .server, 3)])
        let page = try await viewer.html("/monitor")
        #expect(page.body.contains(#"<option value="c-api" selected>"#), "\(page.body.prefix(2000))")
        #expect(try await viewer.html("/monitor?service=a-batch-job").body.contains(#"<option value="a-batch-job" selected>"#))
        await viewer.stop()
    }

    /// Issue 27's gap: an exporter's retry of a batch (OTLP delivers at least once) counted its spans twice in the span
    /// metrics and the call counts.
    @Test func aRetriedBatchCountsOnce() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        let start: UInt64 = 1_800_000_000_000_000_000
        let traceID = TraceID(high: 5, low: 1)
        let parent = FinishedSpan(
            operationName: "GET /", kind: .server, spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(1), traceFlags: .sampled),
            startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + 5_000,
            resource: Resource(attributes: ["service.name": "front"]))
        let child = FinishedSpan(
            operationName: "charge", kind: .server,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(2), traceFlags: .sampled),
            parentSpanContext: parent.spanContext, startTimeNanosecondsSinceEpoch: start + 1_000,
            endTimeNanosecondsSinceEpoch: start + 2_000, resource: Resource(attributes: ["service.name": "payments"]))
        let batch = OTLPTraces([parent, child])
        try await store.write(batch)
        try await store.write(try OTLPTraces(protobuf: try batch.protobuf()))  // the retry
        let minute = start / OperationMinute.nanosecondsPerMinute
        let minutes = try await store.operationMinutes(services: ["front", "payments"], kinds: [.server], minutes: minute...minute)
        #expect(minutes.map(\.calls).reduce(0, +) == 2, "\(minutes)")
        let dependencies = try await store.dependencies(startNanoseconds: start - 1, endNanoseconds: start + 10_000)
        #expect(dependencies.map(\.callCount) == [1])
        #expect(try await store.trace(traceID).count == 2)
    }

    /// A store that reads and writes spans and has no other capability (as a store from outside the package).
    struct SpansOnlyStore: ReadingThroughStore {
        let reads: SQLiteTraceStore

        func write(_ traces: OTLPTraces) async throws -> [String] { try await reads.write(traces) }
    }

    @Test func withoutTheCapabilitySpanMetricsSaySoInsteadOfShowingNothing() async throws {
        let viewer = try await RunningViewer(serving: { SpansOnlyStore(reads: $0) })
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        try await viewer.store.write([
            FinishedSpan(
                operationName: "GET /", kind: .server,
                spanContext: OtterSpanContext(traceID: TraceID(high: 6, low: 1), spanID: SpanID(1), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: now - 1_000_000_000, endTimeNanosecondsSinceEpoch: now,
                resource: Resource(attributes: ["service.name": "shop"]))
        ])
        let (status, answer) = try await viewer.get("/api/metrics/calls?service=shop")
        #expect(status == 501)
        let message = ((answer["errors"] as? [[String: Any]])?.first?["msg"] as? String) ?? ""
        #expect(message.contains("span metrics are not available"), "\(answer)")
        let monitor = try await viewer.html("/monitor?service=shop")
        #expect(monitor.status == 200)
        #expect(monitor.body.contains("span metrics are not available"))
        let toolbox = ViewerToolbox(store: SpansOnlyStore(reads: viewer.store), logStore: nil)
        let stats = await toolbox.call("get_operation_stats", arguments: ["service_name": .string("shop")])
        #expect(stats.isError && stats.text.contains("span metrics are not available"), "\(stats.text)")
        await viewer.stop()
    }
}
