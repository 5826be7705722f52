import Hummingbird
import Otter
import Tracing

/// Jaeger's span metrics API (`/api/metrics/latencies`, `calls`, `errors`, `minstep`: what Jaeger UI's Monitor tab
/// reads) answered from the store's ``OperationMinute`` rows instead of a Prometheus: Jaeger's parameters and
/// defaults (service repeated, `groupByOperation`, `spanKind` default server, `endTs` ms, `lookback` 1 h, `step` 5 s,
/// `ratePer` 10 min) and its answer, a `MetricFamily` in protobuf JSON.
struct SpanMetricsAPI: Sendable {
    let store: any TraceStore

    /// The rows have minute resolution: a step below a minute repeats the same windows.
    static let minimumStepMilliseconds = 60_000

    func addRoutes(to router: Router<BasicRequestContext>) {
        for name in ["latencies", "calls", "errors"] {
            router.get("/api/metrics/\(name)") { request, _ -> Response in
                let parameters = QueryParameters(request)
                let metric: SpanMetrics.Metric
                let query: SpanMetrics.Query
                do {
                    metric = try Self.metric(name, parameters)
                    query = try Self.query(parameters, nowNanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch)
                } catch let invalid as InvalidParameter {
                    return HTTPAnswer.error(.badRequest, invalid.description)
                }
                guard let metrics = store as? any SpanMetricsReader else {
                    return HTTPAnswer.error(.notImplemented, "span metrics are not available: the store keeps no per-operation counts")
                }
                let rows = try await metrics.operationMinutes(services: query.services, kinds: query.kinds, minutes: query.minutes)
                let series = SpanMetrics.seriesCount(query: query, rows: rows)
                guard series * Int(clamping: query.pointCount) <= SpanMetrics.maximumPoints else {
                    return HTTPAnswer.error(
                        .badRequest,
                        "the answer would hold \(series) series of \(query.pointCount) points, more than \(SpanMetrics.maximumPoints): "
                            + "use a longer step, a shorter lookback, or fewer services")
                }
                return HTTPAnswer.json(MetricFamily(metric, query: query, series: SpanMetrics.series(metric, query: query, rows: rows)))
            }
        }
        router.get("/api/metrics/minstep") { _, _ -> Response in
            HTTPAnswer.json(["minStep": Self.minimumStepMilliseconds])
        }
    }

    static func metric(_ name: String, _ parameters: QueryParameters) throws -> SpanMetrics.Metric {
        switch name {
        case "latencies":
            let text = parameters.get("quantile") ?? ""
            guard let quantile = Double(text), quantile.isFinite else {
                throw InvalidParameter(
                    name: "quantile", detail: "strconv.ParseFloat: parsing \(UntrustedValue.quoted(text)): invalid syntax")
            }
            guard (0...1).contains(quantile) else {
                throw InvalidParameter(name: "quantile", detail: "\(text.prefix(40)) is not between 0 and 1")
            }
            return .latencies(quantile: quantile)
        case "calls": return .calls
        default: return .errors
        }
    }

    /// The query of a request, with Jaeger's parameter checks and messages.
    static func query(_ parameters: QueryParameters, nowNanoseconds: UInt64) throws -> SpanMetrics.Query {
        let services = parameters.getAll("service")
        guard parameters.names.contains("service") else {
            throw InvalidParameter(name: "service", detail: "please provide at least one service name")
        }
        var query = SpanMetrics.Query(services: services, endNanoseconds: nowNanoseconds)
        if let text = parameters.get("groupByOperation"), !text.isEmpty {
            query.groupByOperation = try UntrustedValue.bool("groupByOperation", text)
        }
        let kinds = parameters.getAll("spanKind")
        if !kinds.isEmpty {
            query.kinds = Set(
                try kinds.map { text in
                    // Jaeger UI sends `server`; the API also takes the proto names (`SPAN_KIND_SERVER`).
                    let name = text.lowercased().replacingOccurrences(of: "span_kind_", with: "")
                    guard let kind = SpanKindName(rawValue: name) else {
                        throw InvalidParameter(name: "spanKind", detail: "unsupported span kind: '\(text.prefix(80))'")
                    }
                    return kind
                })
        }
        if let text = parameters.get("endTs"), !text.isEmpty {
            query.endNanoseconds = try UntrustedValue.timestamp("endTs", text, unitNanoseconds: 1_000_000)
        }
        if let text = parameters.get("lookback"), !text.isEmpty {
            query.lookbackNanoseconds = try UntrustedValue.interval("lookback", text, unitNanoseconds: 1_000_000)
        }
        query.stepNanoseconds = 5_000_000_000
        if let text = parameters.get("step"), !text.isEmpty {
            query.stepNanoseconds = try UntrustedValue.interval("step", text, unitNanoseconds: 1_000_000)
        }
        guard query.stepNanoseconds > 0 else { throw InvalidParameter(name: "step", detail: "must be positive") }
        if let text = parameters.get("ratePer"), !text.isEmpty {
            query.ratePerNanoseconds = try UntrustedValue.interval("ratePer", text, unitNanoseconds: 1_000_000)
        }
        guard query.pointCount <= SpanMetrics.Query.maximumPoints else {
            throw InvalidParameter(
                name: "step", detail: "exceeded maximum resolution of 11,000 points per timeseries: use a longer step or a shorter lookback"
            )
        }
        return query
    }
}

/// Jaeger's `MetricFamily` (`api_v2/metrics/openmetrics.proto`) as protobuf JSON: gauges with a timestamp each.
struct MetricFamily: Encodable {
    struct Label: Encodable {
        var name: String
        var value: String
    }

    struct GaugeValue: Encodable {
        var doubleValue: Double
    }

    struct MetricPoint: Encodable {
        var gaugeValue: GaugeValue
        var timestamp: String
    }

    struct Metric: Encodable {
        var labels: [Label]
        var metricPoints: [MetricPoint]
    }

    var name: String
    var type = "GAUGE"
    var help: String
    var metrics: [Metric]

    init(_ metric: SpanMetrics.Metric, query: SpanMetrics.Query, series: [SpanMetrics.Series]) {
        let grouping = query.groupByOperation ? "grouped by service & operation" : "grouped by service"
        let prefix = query.groupByOperation ? "service_operation" : "service"
        switch metric {
        case .latencies(let quantile):
            name = prefix + "_latencies"
            // Go's %.2f, as Jaeger formats it.
            let hundredths = Int((quantile * 100).rounded())
            help = "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)th quantile latency, \(grouping)"
        case .calls:
            name = prefix + "_call_rate"
            help = "calls/sec, \(grouping)"
        case .errors:
            name = prefix + "_error_rate"
            help = "error rate, computed as a fraction of errors/sec over calls/sec, \(grouping)"
        }
        metrics = series.map { series in
            var labels = [Label(name: "service_name", value: series.service)]
            if let operation = series.operation { labels.append(Label(name: "operation", value: operation)) }
            return Metric(
                labels: labels,
                metricPoints: series.points.map {
                    MetricPoint(gaugeValue: GaugeValue(doubleValue: $0.value), timestamp: Self.timestamp($0.nanosecondsSinceEpoch))
                })
        }
    }

    /// RFC 3339 with seconds, as protobuf JSON writes a `Timestamp` with no fraction.
    static func timestamp(_ nanoseconds: UInt64) -> String {
        let text = TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: nanoseconds - nanoseconds % 1_000_000_000)
        return String(text.prefix(19)) + "Z"
    }
}
