import Foundation
import Otter

extension ViewerToolbox {
    func searchTraces(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let now = now()
        let service = try arguments.string("service_name")
        let operation = try arguments.string("span_name")
        if operation != nil, service == nil {
            throw InvalidArgument(name: "span_name", detail: "needs service_name (span names belong to a service)")
        }
        var tags = try arguments.stringMap("attributes", maximumCount: 32)
        if !tags.isEmpty, service == nil {
            // Without a service, attribute conditions would be checked in every block of every service.
            throw InvalidArgument(name: "attributes", detail: "need service_name (find services with get_services)")
        }
        if try arguments.bool("with_errors") == true { tags.append((key: "error", value: "true")) }
        let end = try arguments.time("start_time_max", now: now) ?? now
        let start = try arguments.time("start_time_min", now: now) ?? end - min(end, 3_600_000_000_000)
        guard start <= end else { throw InvalidArgument(name: "start_time_max", detail: "must be after start_time_min") }
        let minimumDuration = try arguments.duration("duration_min")
        let maximumDuration = try arguments.duration("duration_max")
        if let minimumDuration, let maximumDuration, maximumDuration < minimumDuration {
            throw InvalidArgument(name: "duration_max", detail: "must not be less than duration_min")
        }
        let depth = try arguments.integer("search_depth", in: 1...100, default: 20)
        // One more than asked for: whether there were more is part of the answer.
        let query = TraceQuery(
            service: service, operation: operation, tags: tags, startTimeMinimumNanoseconds: start, startTimeMaximumNanoseconds: end,
            durationMinimumNanoseconds: minimumDuration, durationMaximumNanoseconds: maximumDuration, limit: depth + 1)
        let found = try await store.findTraceIDs(query)
        let summaries = try await store.summaries(Array(found.prefix(depth + 1)))
            .sorted { $0.startTimeNanoseconds > $1.startTimeNanoseconds }
        let truncated = summaries.count > depth
        let shown = Array(summaries.prefix(depth))
        var text: String
        if shown.isEmpty {
            text = "no traces match from \(Self.time(start)) to \(Self.time(end))"
            if let service, try await !store.services().contains(service) {
                text += "; no service named \(UntrustedValue.quoted(service)) has sent spans (see get_services)"
            } else {
                text += " (widen start_time_min, e.g. -24h)"
            }
        } else {
            text =
                truncated
                ? "more than \(depth) traces match; the newest \(depth):"
                : "\(Self.count(shown.count, "trace")) \(shown.count == 1 ? "matches" : "match"), newest first:"
            for summary in shown {
                let errors = summary.errorSpanCount > 0 ? ", \(summary.errorSpanCount) errors" : ""
                text +=
                    "\n\(summary.traceID.hexString)  \(Self.line(summary.rootServiceName, limit: 100)): \(Self.line(summary.rootOperationName, limit: 200))  "
                    + "\(Self.time(summary.startTimeNanoseconds))  \(Self.duration(summary.durationNanoseconds))  "
                    + "\(Self.count(summary.spanCount, "span"))\(errors)  [\(summary.services.prefix(10).map { Self.line($0.name, limit: 100) }.joined(separator: ", "))\(summary.services.count > 10 ? ", …" : "")]"
            }
            if truncated { text += "\nmore traces match: narrow the search or raise search_depth (at most 100)" }
        }
        return MCPToolResult(
            text: text,
            structured: [
                "traces": .array(shown.map(Self.summaryJSON)), "returned_count": JSONValue(shown.count), "truncated": .bool(truncated),
            ])
    }

    static func summaryJSON(_ summary: TraceSummary) -> JSONValue {
        [
            "trace_id": .string(summary.traceID.hexString), "root_service": .string(summary.rootServiceName),
            "root_span_name": .string(String(summary.rootOperationName.prefix(1_000))),
            "start_time": .string(time(summary.startTimeNanoseconds)),
            "duration_us": JSONValue(summary.durationNanoseconds / 1_000), "span_count": JSONValue(summary.spanCount),
            "error_count": JSONValue(summary.errorSpanCount), "has_errors": .bool(summary.errorSpanCount > 0),
            "service_count": JSONValue(summary.services.count), "services": .array(summary.services.prefix(50).map { .string($0.name) }),
        ]
    }

    func operationStats(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let service = try arguments.requiredString("service_name")
        let kind = try Self.spanKind(arguments)
        let lookback = try arguments.duration("lookback") ?? 3_600_000_000_000
        let limit = try arguments.integer("limit", in: 1...1_000, default: 50)
        let perMinute = OperationMinute.nanosecondsPerMinute
        guard lookback >= perMinute else { throw InvalidArgument(name: "lookback", detail: "must be at least 1m (counts are per minute)") }
        guard lookback <= 30 * 86_400_000_000_000 else { throw InvalidArgument(name: "lookback", detail: "must be at most 30d") }
        let now = now()
        let lastMinute = now / perMinute
        let windowMinutes = lookback / perMinute
        let firstMinute = lastMinute - min(lastMinute, windowMinutes - 1)
        let previousFirst = firstMinute - min(firstMinute, windowMinutes)
        let kinds: Set<SpanKindName> = kind.map { [$0] } ?? Set(SpanKindName.allCases)
        guard let metrics = store as? any SpanMetricsReader else {
            return .failure("span metrics are not available: the viewer's store keeps no per-operation counts")
        }
        let rows = try await metrics.operationMinutes(services: [service], kinds: kinds, minutes: previousFirst...lastMinute)
        struct Key: Hashable {
            var operation: String
            var kind: SpanKindName
        }
        var current: [Key: OperationMinute] = [:]
        var previous: [Key: OperationMinute] = [:]
        for row in rows {
            let key = Key(operation: row.operation, kind: row.kind)
            if row.minute >= firstMinute {
                current[key] = current[key].map { $0.adding(row) } ?? row
            } else {
                previous[key] = previous[key].map { $0.adding(row) } ?? row
            }
        }
        let seconds = Double(windowMinutes * 60)
        let keys = current.keys.sorted { (current[$0]!.calls, $1.operation) > (current[$1]!.calls, $0.operation) }
        func stats(_ row: OperationMinute) -> JSONValue {
            [
                "calls": JSONValue(row.calls), "calls_per_second": JSONValue(Double(row.calls) / seconds, digits: 4),
                "error_count": JSONValue(row.errors), "error_rate": JSONValue(row.calls == 0 ? 0 : Double(row.errors) / Double(row.calls)),
                "p50_ms": row.durations.quantile(0.5).map { JSONValue($0 / 1_000_000) } ?? .null,
                "p95_ms": row.durations.quantile(0.95).map { JSONValue($0 / 1_000_000) } ?? .null,
                "p99_ms": row.durations.quantile(0.99).map { JSONValue($0 / 1_000_000) } ?? .null,
            ]
        }
        var operations: [JSONValue] = []
        var lines: [String] = []
        for key in keys.prefix(limit) {
            let row = current[key]!
            var entry: [String: JSONValue] = ["span_name": .string(key.operation), "span_kind": .string(key.kind.rawValue)]
            entry["current"] = stats(row)
            var line =
                "\(Self.line(key.operation, limit: 200)) [\(key.kind.rawValue)]: \(Self.count(Int(clamping: row.calls), "call")), \(Self.percent(row.errors, of: row.calls)) errors, "
                + "p50 \(Self.milliseconds(row.durations.quantile(0.5))) p95 \(Self.milliseconds(row.durations.quantile(0.95))) "
                + "p99 \(Self.milliseconds(row.durations.quantile(0.99)))"
            if let before = previous[key] {
                entry["previous"] = stats(before)
                if let now95 = row.durations.quantile(0.95), let then95 = before.durations.quantile(0.95), then95 > 0 {
                    let change = (now95 - then95) / then95 * 100
                    entry["p95_change_percent"] = JSONValue(change, digits: 1)
                    line +=
                        " (p95 \(change >= 0 ? "+" : "")\(Int(change.rounded()))% vs the window before"
                        + ", errors then \(Self.percent(before.errors, of: before.calls)))"
                }
            } else {
                line += " (no calls in the window before)"
            }
            operations.append(.object(entry))
            lines.append(line)
        }
        let window = "the last \(Self.window(minutes: windowMinutes)) (to \(Self.time(now)))"
        var text =
            "\(Self.line(service)), \(window), \(Self.listing(keys.count, limit: limit, noun: keys.count == 1 ? "operation" : "operations"))"
        if !keys.isEmpty { text += " (percentiles are estimates from duration buckets about 20 % wide)" }
        if keys.isEmpty {
            text +=
                try await store.services().contains(service) ? ": no spans in that window" : ": no service of that name (see get_services)"
        }
        return MCPToolResult(
            text: text + (lines.isEmpty ? "" : ":\n" + lines.joined(separator: "\n")),
            structured: [
                "service_name": .string(service), "window_seconds": JSONValue(Int(seconds)), "window_end": .string(Self.time(now)),
                "operations": .array(operations), "total_count": JSONValue(keys.count), "truncated": .bool(keys.count > limit),
            ])
    }

    /// A whole number of minutes in the largest unit that divides it: `90m`, `2h`, `3d`.
    static func window(minutes: UInt64) -> String {
        if minutes % 1_440 == 0 { return "\(minutes / 1_440)d" }
        if minutes % 60 == 0 { return "\(minutes / 60)h" }
        return "\(minutes)m"
    }

    static func percent(_ part: UInt64, of whole: UInt64) -> String {
        whole == 0 ? "0%" : "\((Double(part) / Double(whole) * 1_000).rounded() / 10)%"
    }

    static func milliseconds(_ nanoseconds: Double?) -> String {
        guard let nanoseconds else { return "-" }
        return "\((nanoseconds / 1_000).rounded() / 1_000) ms"
    }
}

extension OperationMinute {
    /// This row with `other`'s counts and durations added.
    func adding(_ other: OperationMinute) -> OperationMinute {
        var sum = self
        sum.calls &+= other.calls
        sum.errors &+= other.errors
        sum.durations.merge(other.durations)
        return sum
    }
}
