import Otter

/// Span metrics: request rate, error rate and latency quantiles over time, computed from ``OperationMinute`` rows the way Jaeger's
/// Prometheus queries compute them from span metrics: at each step from `end - lookback` to `end`, the value over the
/// `ratePer` window that ends there (`rate(...[ratePer])`). The rows have minute resolution, so a window is the whole
/// minutes that end at the step's minute (at least one), and latencies are within 6.25 % (log-linear histogram buckets, 8 per power of two).
package struct SpanMetrics {
    /// What a series measures.
    package enum Metric: Equatable, Sendable {
        /// The quantile (0...1) of durations, in milliseconds.
        case latencies(quantile: Double)
        /// Spans per second.
        case calls
        /// Failed spans / spans (0...1).
        case errors
    }

    /// Which spans, and the points in time: Jaeger's `/api/metrics` parameters.
    package struct Query: Equatable, Sendable {
        package var services: [String]
        /// One series per operation instead of per service.
        package var groupByOperation = false
        package var kinds: Set<SpanKindName> = [.server]
        package var endNanoseconds: UInt64
        package var lookbackNanoseconds: UInt64 = 3_600_000_000_000
        package var stepNanoseconds: UInt64 = 60_000_000_000
        /// The length of the window each point is computed over.
        package var ratePerNanoseconds: UInt64 = 600_000_000_000

        /// The minutes of rows the query reads.
        package var minutes: ClosedRange<UInt64> {
            let perMinute = OperationMinute.nanosecondsPerMinute
            let earliest = endNanoseconds - min(endNanoseconds, lookbackNanoseconds &+ ratePerNanoseconds)
            return (earliest / perMinute)...(endNanoseconds / perMinute)
        }

        /// The times of the points: from `end - lookback` by `step` while not after `end`.
        var pointTimes: StrideThrough<UInt64> {
            stride(
                from: endNanoseconds - min(endNanoseconds, lookbackNanoseconds), through: endNanoseconds,
                by: UInt64.Stride(max(stepNanoseconds, 1)))
        }

        /// Prometheus refuses more than 11,000 points per series, and so does the viewer.
        static let maximumPoints: UInt64 = 11_000
        var pointCount: UInt64 { lookbackNanoseconds / max(stepNanoseconds, 1) + 1 }
    }

    /// The points of one service, or of one operation of a service.
    package struct Series: Equatable, Sendable {
        package var service: String
        /// Nil unless the query groups by operation.
        package var operation: String?
        package var points: [Point]
    }

    /// A value at a time.
    package struct Point: Equatable, Sendable {
        package var nanosecondsSinceEpoch: UInt64
        package var value: Double
    }

    /// One series per service (or service and operation), by name; a point is left out where its window has no spans,
    /// except for calls (0) and, as Jaeger reports it, errors of a series that has calls (0).
    package static func series(_ metric: Metric, query: Query, rows: [OperationMinute]) -> [Series] {
        struct Key: Hashable, Comparable {
            var service: String
            var operation: String?
            static func < (a: Key, b: Key) -> Bool { (a.service, a.operation ?? "") < (b.service, b.operation ?? "") }
        }
        struct Counts {
            var calls: UInt64 = 0
            var errors: UInt64 = 0
            var durations = DurationHistogram()
        }
        var byKey: [Key: [UInt64: Counts]] = [:]
        for row in rows where query.services.contains(row.service) && query.kinds.contains(row.kind) && query.minutes.contains(row.minute) {
            let key = Key(service: row.service, operation: query.groupByOperation ? row.operation : nil)
            var counts = byKey[key, default: [:]][row.minute] ?? Counts()
            counts.calls &+= row.calls
            counts.errors &+= row.errors
            counts.durations.merge(row.durations)
            byKey[key, default: [:]][row.minute] = counts
        }
        let perMinute = OperationMinute.nanosecondsPerMinute
        let windowMinutes = max(1, query.ratePerNanoseconds / perMinute)
        let isLatency = if case .latencies = metric { true } else { false }
        return byKey.keys.sorted().map { key in
            let minutes = byKey[key] ?? [:]
            let present = minutes.keys.sorted()
            // A window sliding forward over the minutes that have spans: each minute enters and leaves once, so a long
            // `ratePer` costs no more than a short one.
            var window = Counts()
            var entering = 0
            var leaving = 0
            var computedFor: UInt64?
            var value: Double?
            var points: [Point] = []
            for time in query.pointTimes {
                let last = time / perMinute
                if computedFor != last {
                    let first = last - min(last, windowMinutes - 1)
                    while entering < present.count, present[entering] <= last {
                        let counts = minutes[present[entering]] ?? Counts()
                        window.calls &+= counts.calls
                        window.errors &+= counts.errors
                        if isLatency { window.durations.merge(counts.durations) }
                        entering += 1
                    }
                    while leaving < entering, present[leaving] < first {
                        let counts = minutes[present[leaving]] ?? Counts()
                        window.calls &-= counts.calls
                        window.errors &-= counts.errors
                        if isLatency { window.durations.subtract(counts.durations) }
                        leaving += 1
                    }
                    computedFor = last
                    switch metric {
                    case .calls: value = Double(window.calls) / Double(windowMinutes * 60)
                    case .errors: value = window.calls > 0 ? Double(window.errors) / Double(window.calls) : nil
                    case .latencies(let quantile): value = window.durations.quantile(quantile).map { $0 / 1_000_000 }
                    }
                }
                if let value { points.append(Point(nanosecondsSinceEpoch: time, value: value)) }
            }
            return Series(service: key.service, operation: key.operation, points: points)
        }
    }

    /// How many series a query of these rows makes (services, or operations with `groupByOperation`).
    package static func seriesCount(query: Query, rows: [OperationMinute]) -> Int {
        var keys = Set<String>()
        for row in rows where query.services.contains(row.service) && query.kinds.contains(row.kind) && query.minutes.contains(row.minute) {
            keys.insert(query.groupByOperation ? row.service + "\u{0}" + row.operation : row.service)
        }
        return keys.count
    }

    /// The most points an answer may hold (series × points per series): beyond it a query is refused, not computed.
    package static let maximumPoints = 200_000
}

extension SpanMetrics.Query {
    /// A query of these services' SERVER spans over the hour before `endNanoseconds`, a point a minute, each over the
    /// 10 minutes before it.
    package init(services: [String], endNanoseconds: UInt64) {
        self.init(services: services, groupByOperation: false, endNanoseconds: endNanoseconds)
    }
}
