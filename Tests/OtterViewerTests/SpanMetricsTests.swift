import Foundation
import Otter
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

    static func row(_ operation: String, minute: UInt64, calls: UInt64, errors: UInt64 = 0, durationMilliseconds: UInt64 = 10) -> OperationMinute {
        var durations = DurationHistogram()
        durations.record(durationMilliseconds * 1_000_000, count: calls)
        return OperationMinute(service: "web", operation: operation, kind: .server, minute: minute, calls: calls, errors: errors, durations: durations)
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
                    spanContext: OtterSpanContext(traceID: TraceID(high: 1, low: UInt64(index)), spanID: SpanID(UInt64(index + 1)), traceFlags: .sampled),
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
        _ = try await store.deleteSpans(startedBefore: start + 400 * 1_000_000_000)
        #expect(try await store.operationMinutes(services: ["shop"], kinds: [.server, .client], minutes: minutes).isEmpty)
    }
}
