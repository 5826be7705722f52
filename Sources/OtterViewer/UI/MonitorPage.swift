import Otter
import Tracing

/// The Monitor page: per service, request rate, error rate and p50/p95/p99 durations over time, overall and per
/// operation, computed from the store (``SpanMetrics``), for SERVER and CONSUMER spans unless other kinds are picked.
struct MonitorPage {
    struct Chart {
        var title: String
        var lines: [Line]
        var maximum: String
        var startLabel: String
        var endLabel: String
        var hasData: Bool
    }

    struct Line {
        var name: String
        var cssClass: String
        var points: String
    }

    struct OperationRow {
        var operation: String
        var searchURL: String
        var calls: UInt64
        var rate: String
        var errorRate: String
        var hasErrors: Bool
        var p50: String
        var p95: String
        var p99: String
        var rateLine: String
        var latencyLine: String
    }

    static let lookbacks: [(value: String, label: String, seconds: UInt64)] = [
        ("15m", "Last 15 minutes", 900), ("1h", "Last hour", 3600), ("6h", "Last 6 hours", 6 * 3600), ("24h", "Last 24 hours", 24 * 3600),
        ("168h", "Last 7 days", 168 * 3600),
    ]

    var services: [FormOption] = []
    var lookbacks: [FormOption] = []
    var kinds: [FormOption] = []
    var service = ""
    var color = "#999"
    var charts: [Chart] = []
    var operations: [OperationRow] = []
    var hasOperations = false
    var message: String?

    /// The first service (by name) that serves requests (SERVER or CONSUMER spans): the page's default charts then
    /// show something. Another service when none does.
    static func defaultService(_ names: [String], store: any TraceStore) async throws -> String {
        for name in names.prefix(100)
        where try await store.operationsWithKindNames(service: name).contains(where: { $0.kind == .server || $0.kind == .consumer }) {
            return name
        }
        return names.first ?? ""
    }

    init(_ form: QueryParameters, store: any TraceStore, nowNanoseconds: UInt64) async throws {
        let serviceNames = try await store.services()
        if let chosen = form.get("service").flatMap({ $0.isEmpty ? nil : $0 }) {
            service = chosen
        } else {
            service = try await Self.defaultService(serviceNames, store: store)
        }
        color = try await store.serviceColors()[service] ?? color
        let lookback = Self.lookbacks.first { $0.value == form.get("lookback") } ?? Self.lookbacks[1]
        let pickedKinds = Set(form.getAll("kind").compactMap(SpanKindName.init(rawValue:)))
        let selectedKinds: Set<SpanKindName> = pickedKinds.isEmpty ? [.server, .consumer] : pickedKinds
        services = serviceNames.map { FormOption(value: $0, label: $0, selected: $0 == service) }
        lookbacks = Self.lookbacks.map { FormOption(value: $0.value, label: $0.label, selected: $0.value == lookback.value) }
        kinds = SpanKindName.allCases.map {
            FormOption(value: $0.rawValue, label: $0.rawValue.uppercased(), selected: selectedKinds.contains($0))
        }
        guard !service.isEmpty else {
            message = "No spans stored yet."
            return
        }
        // About 30 points, whole minutes (the rows' resolution).
        let stepMinutes = max(1, lookback.seconds / 60 / 30)
        let step = stepMinutes * OperationMinute.nanosecondsPerMinute
        let end = nowNanoseconds
        var query = SpanMetrics.Query(
            services: [service], kinds: selectedKinds, endNanoseconds: end, lookbackNanoseconds: lookback.seconds * 1_000_000_000,
            stepNanoseconds: step, ratePerNanoseconds: step)
        guard let metrics = store as? any SpanMetricsReader else {
            message = "This store keeps no per-operation counts: span metrics are not available."
            return
        }
        let rows = try await metrics.operationMinutes(services: [service], kinds: selectedKinds, minutes: query.minutes)
        let window = (start: end - min(end, query.lookbackNanoseconds), end: end)
        let startLabel = String(TimestampFormatting.dateTime(nanosecondsSinceEpoch: window.start).dropFirst(11).prefix(5))
        let endLabel = String(TimestampFormatting.dateTime(nanosecondsSinceEpoch: window.end).dropFirst(11).prefix(5))
        func chart(_ title: String, _ lines: [(String, String, [SpanMetrics.Point])], unit: (Double) -> String) -> Chart {
            let maximum = lines.flatMap { $0.2.map(\.value) }.max() ?? 0
            return Chart(
                title: title,
                lines: lines.map {
                    Line(
                        name: $0.0, cssClass: $0.1,
                        points: Self.path($0.2, window: window, step: step, maximum: maximum, width: 300, height: 100))
                },
                maximum: unit(maximum), startLabel: startLabel, endLabel: endLabel, hasData: lines.contains { !$0.2.isEmpty })
        }
        let latencyLines = [(0.5, "p50", "p50"), (0.95, "p95", "p95"), (0.99, "p99", "p99")].map { quantile, name, cssClass in
            (name, cssClass, SpanMetrics.series(.latencies(quantile: quantile), query: query, rows: rows).first?.points ?? [])
        }
        charts = [
            chart("Latency", latencyLines) { Self.milliseconds($0) },
            chart("Request rate", [("req/s", "rate", SpanMetrics.series(.calls, query: query, rows: rows).first?.points ?? [])]) {
                Self.rate($0)
            },
            chart("Error rate", [("errors", "errors", SpanMetrics.series(.errors, query: query, rows: rows).first?.points ?? [])]) {
                Self.percent($0)
            },
        ]

        query.groupByOperation = true
        let rateSeries = Dictionary(
            SpanMetrics.series(.calls, query: query, rows: rows).map { ($0.operation ?? "", $0.points) }, uniquingKeysWith: { a, _ in a })
        let latencySeries = Dictionary(
            SpanMetrics.series(.latencies(quantile: 0.95), query: query, rows: rows).map { ($0.operation ?? "", $0.points) },
            uniquingKeysWith: { a, _ in a })
        let inWindow = rows.filter { $0.minute >= window.start / OperationMinute.nanosecondsPerMinute }
        var byOperation: [String: (calls: UInt64, errors: UInt64, durations: DurationHistogram)] = [:]
        for row in inWindow {
            var entry = byOperation[row.operation] ?? (0, 0, DurationHistogram())
            entry.calls &+= row.calls
            entry.errors &+= row.errors
            entry.durations.merge(row.durations)
            byOperation[row.operation] = entry
        }
        // The 100 busiest operations: a service with thousands of span names stays one page.
        operations = byOperation.sorted { ($1.value.calls, $0.key) < ($0.value.calls, $1.key) }.prefix(100).map { operation, entry in
            let rates = rateSeries[operation] ?? []
            let latencies = latencySeries[operation] ?? []
            return OperationRow(
                operation: operation,
                searchURL: "/search?service=\(Self.encoded(service))&operation=\(Self.encoded(operation))&lookback=\(lookback.value)",
                calls: entry.calls, rate: Self.rate(Double(entry.calls) / Double(lookback.seconds)),
                errorRate: Self.percent(entry.calls > 0 ? Double(entry.errors) / Double(entry.calls) : 0), hasErrors: entry.errors > 0,
                p50: Self.milliseconds((entry.durations.quantile(0.5) ?? 0) / 1_000_000),
                p95: Self.milliseconds((entry.durations.quantile(0.95) ?? 0) / 1_000_000),
                p99: Self.milliseconds((entry.durations.quantile(0.99) ?? 0) / 1_000_000),
                rateLine: Self.path(rates, window: window, step: step, maximum: rates.map(\.value).max() ?? 0, width: 120, height: 24),
                latencyLine: Self.path(
                    latencies, window: window, step: step, maximum: latencies.map(\.value).max() ?? 0, width: 120, height: 24))
        }
        hasOperations = !operations.isEmpty
    }

    /// An SVG path for a series in a `width` × `height` box, time across, 0...maximum up: points more than one step
    /// apart are not joined (no spans between them is not a ramp), and a point alone is a dot.
    static func path(
        _ points: [SpanMetrics.Point], window: (start: UInt64, end: UInt64), step: UInt64, maximum: Double, width: Int, height: Int
    ) -> String {
        let span = Double(max(window.end - min(window.end, window.start), 1))
        let top = maximum > 0 ? maximum : 1
        var commands: [String] = []
        var previous: UInt64?
        for (index, point) in points.enumerated() {
            let x = Double(point.nanosecondsSinceEpoch - min(point.nanosecondsSinceEpoch, window.start)) / span * Double(width)
            let y = Double(height) - min(max(point.value / top, 0), 1) * Double(height - 2) - 1
            let joined = previous.map { point.nanosecondsSinceEpoch - min(point.nanosecondsSinceEpoch, $0) <= step } ?? false
            commands.append("\(joined ? "L" : "M") \(Int(x.rounded())) \(Int(y.rounded()))")
            let nextJoined =
                index + 1 < points.count
                && points[index + 1].nanosecondsSinceEpoch - min(points[index + 1].nanosecondsSinceEpoch, point.nanosecondsSinceEpoch)
                    <= step
            if !joined, !nextJoined { commands.append("l 0.1 0") }
            previous = point.nanosecondsSinceEpoch
        }
        return commands.joined(separator: " ")
    }

    static func milliseconds(_ value: Double) -> String {
        TimestampFormatting.humanDuration(nanoseconds: UInt64(min(max(value * 1_000_000, 0), 1e18)))
    }

    /// Requests per second, or per minute, or per hour for a quiet service (so it does not read 0).
    static func rate(_ value: Double) -> String {
        if value >= 10 { return "\(Int(value.rounded())) req/s" }
        if value >= 1 { return "\((value * 10).rounded() / 10) req/s" }
        if value * 60 >= 0.1 { return "\((value * 600).rounded() / 10) req/min" }
        return "\((value * 36_000).rounded() / 10) req/h"
    }

    static func percent(_ fraction: Double) -> String {
        "\((fraction * 1000).rounded() / 10) %"
    }

    static func encoded(_ text: String) -> String { ViewerUI.queryValue(text) }

}
