import Foundation
import Otter
import OtterOTLP
import Tracing

extension ViewerToolbox {
    func spanDetails(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let traceID = try arguments.traceID("trace_id")
        let wanted = try arguments.spanIDs("span_ids", maximumCount: 20)
        let spans = try await spans(of: traceID)
        var found: [FinishedSpan] = []
        var missing: [String] = []
        var seen = Set<SpanID>()
        for spanID in wanted where seen.insert(spanID).inserted {
            // Span ids are unique in a healthy trace; a trace that repeats one (a broken exporter) gives at most five.
            let matches = spans.filter { $0.spanContext.spanID == spanID }.prefix(5)
            if matches.isEmpty { missing.append(spanID.hexString) } else { found += matches }
        }
        var details: [JSONValue] = []
        var text = ""
        for span in found {
            let logs = try await logs(of: span)
            details.append(Self.detailJSON(span, logs: logs))
            text += (text.isEmpty ? "" : "\n\n") + Self.detailText(span, logs: logs)
        }
        if !missing.isEmpty {
            text += (text.isEmpty ? "" : "\n\n") + "Not in trace \(traceID.hexString): \(missing.joined(separator: ", "))"
        }
        return MCPToolResult(
            text: text,
            structured: [
                "trace_id": .string(traceID.hexString), "spans": .array(details), "not_found": .array(missing.map { .string($0) }),
            ])
    }

    func traceErrors(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let traceID = try arguments.traceID("trace_id")
        let limit = try arguments.integer("limit", in: 1...100, default: 20)
        let tree = TraceTree(spans: try await spans(of: traceID))
        let errors = tree.nodes.map(\.span).filter { $0.status?.code == .error }
        let shown = errors.prefix(limit)
        var details: [JSONValue] = []
        var text =
            errors.isEmpty
            ? "Trace \(traceID.hexString) has no span with status error (of \(tree.nodes.count) spans)."
            : "Trace \(traceID.hexString): \(Self.listing(errors.count, limit: limit, noun: errors.count == 1 ? "error span" : "error spans")), in tree order:"
        for span in shown {
            let logs = try await logs(of: span)
            details.append(Self.detailJSON(span, logs: logs))
            text += "\n\n" + Self.detailText(span, logs: logs)
        }
        return MCPToolResult(
            text: text,
            structured: [
                "trace_id": .string(traceID.hexString), "total_error_count": JSONValue(errors.count), "spans": .array(details),
                "truncated": .bool(errors.count > limit),
            ])
    }

    /// The span's log records (at most 20, oldest first); none without a log store.
    func logs(of span: FinishedSpan) async throws -> [OtterLogRecord] {
        guard let logStore else { return [] }
        let query = LogQuery(traceID: span.spanContext.traceID, spanID: span.spanContext.spanID, limit: 20)
        return try await logStore.logs(query).records.reversed()
    }

    static func attributesJSON(_ attributes: SpanAttributes) -> JSONValue {
        .object(
            Dictionary(
                OTLPMapping.keyValues(attributes).map { ($0.key, JSONValue(anyValue: $0.value)) }, uniquingKeysWith: { first, _ in first }))
    }

    static func detailJSON(_ span: FinishedSpan, logs: [OtterLogRecord]) -> JSONValue {
        var detail: [String: JSONValue] = [
            "span_id": .string(span.spanContext.spanID.hexString), "trace_id": .string(span.spanContext.traceID.hexString),
            "service": .string(span.resource.serviceNameOrUnknown), "span_name": .string(span.operationName),
            "span_kind": .string(SpanKindName(span.kind).rawValue), "start_time": .string(time(span.startTimeNanosecondsSinceEpoch)),
            "duration_us": JSONValue(span.durationNanoseconds / 1_000),
            "status": ["code": .string(statusName(span.status)), "message": .string(span.status?.message ?? "")],
            "attributes": attributesJSON(span.attributes), "resource": attributesJSON(span.resource.attributes),
            "scope": .string(span.instrumentationScope.name),
            "events": .array(
                span.events.map {
                    [
                        "name": .string($0.name), "time": .string(time($0.nanosecondsSinceEpoch)),
                        "attributes": attributesJSON($0.attributes),
                    ]
                }),
            "links": .array(
                span.links.map {
                    [
                        "trace_id": .string($0.spanContext.traceID.hexString), "span_id": .string($0.spanContext.spanID.hexString),
                        "attributes": attributesJSON($0.attributes),
                    ]
                }),
            "logs": .array(logs.map(logJSON)),
        ]
        if let parent = span.parentSpanContext { detail["parent_span_id"] = .string(parent.spanID.hexString) }
        let dropped = span.droppedAttributesCount + span.droppedEventsCount + span.droppedLinksCount
        if dropped > 0 {
            detail["dropped"] = [
                "attributes": JSONValue(span.droppedAttributesCount), "events": JSONValue(span.droppedEventsCount),
                "links": JSONValue(span.droppedLinksCount),
            ]
        }
        return .object(detail)
    }

    static func detailText(_ span: FinishedSpan, logs: [OtterLogRecord]) -> String {
        var text =
            "Span \(span.spanContext.spanID.hexString) \(line(span.resource.serviceNameOrUnknown, limit: 100)): \(line(span.operationName, limit: 300)) "
        text +=
            "[\(SpanKindName(span.kind).rawValue)] started \(time(span.startTimeNanosecondsSinceEpoch)), \(duration(span.durationNanoseconds)), "
        text += "status \(statusName(span.status))" + (span.status?.message.map { ": \(line($0, limit: 2_000))" } ?? "")
        text += span.parentSpanContext.map { "\nparent \($0.spanID.hexString)" } ?? "\nroot span"
        for row in AttributeText.displayRows(span.attributes) {
            text += "\n  \(line(row.key, limit: 200)) = \(line(row.value, limit: 2_000))"
        }
        for event in span.events.prefix(50) {
            text += "\nevent \(line(event.name, limit: 200)) at \(time(event.nanosecondsSinceEpoch))"
            for row in AttributeText.displayRows(event.attributes) {
                text += "\n    \(line(row.key, limit: 200)) = \(line(row.value, limit: 2_000))"
            }
        }
        if span.events.count > 50 { text += "\n(\(span.events.count - 50) more events)" }
        for link in span.links { text += "\nlink to trace \(link.spanContext.traceID.hexString) span \(link.spanContext.spanID.hexString)" }
        for record in logs { text += "\n" + logLine(record) }
        return text
    }

    func searchLogs(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let now = now()
        var query = LogQuery()
        query.service = try arguments.string("service_name")
        if let text = try arguments.string("query") { query.words = LogQuery.words(in: text) }
        if let text = try arguments.string("min_severity", maximumLength: 16) {
            guard let severity = LogSeverity(named: text) else {
                throw InvalidArgument(
                    name: "min_severity", detail: "\(UntrustedValue.quoted(text)) is not trace, debug, info, warn, error or fatal")
            }
            query.minimumSeverity = severity
        }
        query.tags = try arguments.stringMap("attributes", maximumCount: 32)
        if arguments.values["trace_id"] != nil, arguments.values["trace_id"] != .null { query.traceID = try arguments.traceID("trace_id") }
        query.endNanoseconds = try arguments.time("end_time", now: now) ?? now
        query.startNanoseconds =
            try arguments.time("start_time", now: now) ?? query.endNanoseconds - min(query.endNanoseconds, 3_600_000_000_000)
        guard query.startNanoseconds <= query.endNanoseconds else {
            throw InvalidArgument(name: "end_time", detail: "must be after start_time")
        }
        let limit = try arguments.integer("limit", in: 1...500, default: 50)
        return try await logResult(query, limit: limit, order: "newest first")
    }

    func traceLogs(_ arguments: MCPArguments) async throws -> MCPToolResult {
        var query = LogQuery()
        query.traceID = try arguments.traceID("trace_id")
        query.spanID = try arguments.string("span_id", maximumLength: 64).map { try MCPArguments.spanID($0, argument: "span_id") }
        let limit = try arguments.integer("limit", in: 1...1_000, default: 200)
        return try await logResult(query, limit: limit, order: "oldest first")
    }

    func logResult(_ query: LogQuery, limit: Int, order: String) async throws -> MCPToolResult {
        guard let logStore else { return .failure("this viewer keeps no log records") }
        var query = query
        query.limit = limit + 1
        var records = try await logStore.logs(query).records
        let truncated = records.count > limit
        records = Array(records.prefix(limit))
        if order == "oldest first" { records.reverse() }
        var text =
            records.isEmpty ? "no log records match" : "\(truncated ? "more than \(limit)" : "\(records.count)") log records, \(order)"
        if truncated { text += order == "oldest first" ? " (the newest \(limit) of them)" : " (narrow the search or raise limit)" }
        if !records.isEmpty { text += ":\n" + records.map(Self.logLine).joined(separator: "\n") }
        return MCPToolResult(
            text: text,
            structured: [
                "records": .array(records.map(Self.logJSON)), "returned_count": JSONValue(records.count), "truncated": .bool(truncated),
            ])
    }

    static func logTime(_ record: OtterLogRecord) -> UInt64 {
        record.timeNanosecondsSinceEpoch != 0 ? record.timeNanosecondsSinceEpoch : record.observedTimeNanosecondsSinceEpoch
    }

    static func logLine(_ record: OtterLogRecord) -> String {
        var line =
            "\(time(logTime(record))) \(Self.line(record.severityText.isEmpty ? record.severity.name : record.severityText, limit: 20)) "
        line += "\(Self.line(record.resource.serviceNameOrUnknown, limit: 100)): \(Self.line(record.body.text, limit: 2_000))"
        let attributes = record.attributes.keys.sorted().prefix(20).map {
            "\(Self.line($0, limit: 100))=\(Self.line(record.attributes[$0]!.text, limit: 200))"
        }
        if !attributes.isEmpty { line += " {" + attributes.joined(separator: ", ") + "}" }
        if let context = record.spanContext, context.spanID.isValid { line += " span \(context.spanID.hexString)" }
        return line
    }

    static func logJSON(_ record: OtterLogRecord) -> JSONValue {
        var entry: [String: JSONValue] = [
            "time": .string(time(logTime(record))), "severity": .string(record.severity.name),
            "severity_number": JSONValue(record.severity.number), "body": .string(String(record.body.text.prefix(8_192))),
            "service": .string(record.resource.serviceNameOrUnknown), "scope": .string(record.instrumentationScope.name),
            "attributes": .object(record.attributes.mapValues { .string(String($0.text.prefix(2_048))) }),
        ]
        if let context = record.spanContext, context.traceID.isValid {
            entry["trace_id"] = .string(context.traceID.hexString)
            if context.spanID.isValid { entry["span_id"] = .string(context.spanID.hexString) }
        }
        return .object(entry)
    }
}

extension JSONValue {
    /// An OTLP attribute value with its type: strings, integers, doubles and booleans as such, arrays and maps nested
    /// (below 16 levels; deeper ones as their JSON text), bytes as base64.
    init(anyValue value: Opentelemetry_Proto_Common_V1_AnyValue, depth: Int = 0) {
        switch value.value {
        case .stringValue(let string): self = .string(string)
        case .boolValue(let bool): self = .bool(bool)
        case .intValue(let int): self = .integer(int)
        case .doubleValue(let double): self = .number(double)
        case .bytesValue(let data): self = .string(data.base64EncodedString())
        case .arrayValue(let array):
            self = depth >= 16 ? .string(AttributeText.json(value)) : .array(array.values.map { JSONValue(anyValue: $0, depth: depth + 1) })
        case .kvlistValue(let list):
            self =
                depth >= 16
                ? .string(AttributeText.json(value))
                : .object(
                    Dictionary(
                        list.values.map { ($0.key, JSONValue(anyValue: $0.value, depth: depth + 1)) }, uniquingKeysWith: { a, _ in a }))
        case .stringValueStrindex, nil: self = .null
        }
    }
}
