import Otter
import Tracing

/// The trace page's model: spans in tree order (children under parents, by start time) on a waterfall.
struct TracePage {
    struct KeyValue {
        var key: String
        var value: String
    }

    struct Event {
        var name: String
        var offset: String
        var attributes: String
    }

    struct Link {
        var traceID: String
        var spanID: String
    }

    struct Row {
        var spanID: String
        var parentID: String?
        var name: String
        var service: String
        var kind: String
        var color: String
        var indent: Int
        var left: String
        var width: String
        var duration: String
        var offset: String
        var failed: Bool
        var status: String
        var attributes: [KeyValue]
        var resource: [KeyValue]
        var events: [Event]
        var hasEvents: Bool
        var links: [Link]
        var hasLinks: Bool
    }

    struct Service {
        var name: String
        var color: String
    }

    static let palette = ["#2c7be5", "#00a67e", "#e67e22", "#8e44ad", "#16a085", "#c0392b", "#2980b9", "#7f8c8d"]

    var traceID: String
    var rootName: String
    var rootService: String
    var spanCount: Int
    var duration: String
    var start: String
    var services: [Service]
    var spans: [Row]

    init(spans: [FinishedSpan]) {
        let summary = TraceSummary(spans: spans)
        traceID = summary.traceID.hexString
        rootName = summary.rootOperationName
        rootService = summary.rootServiceName
        spanCount = summary.spanCount
        duration = TimestampText.duration(summary.durationNanoseconds)
        start = TimestampText.date(summary.startTimeNanoseconds)
        let serviceNames = summary.services.map(\.name)
        let colors = Dictionary(uniqueKeysWithValues: serviceNames.enumerated().map { ($1, Self.palette[$0 % Self.palette.count]) })
        services = serviceNames.map { Service(name: $0, color: colors[$0] ?? "#999") }

        let ids = Set(spans.map(\.spanContext.spanID))
        var children: [SpanID: [FinishedSpan]] = [:]
        var roots: [FinishedSpan] = []
        for span in spans.sorted(by: { $0.startTimeNanosecondsSinceEpoch < $1.startTimeNanosecondsSinceEpoch }) {
            if let parent = span.parentSpanContext, ids.contains(parent.spanID) {
                children[parent.spanID, default: []].append(span)
            } else {
                roots.append(span)
            }
        }
        let traceStart = summary.startTimeNanoseconds
        let total = Double(max(summary.durationNanoseconds, 1))
        var rows: [Row] = []
        func visit(_ span: FinishedSpan, depth: Int) {
            let service = span.resource.serviceName ?? "unknown_service"
            let offset = span.startTimeNanosecondsSinceEpoch - min(traceStart, span.startTimeNanosecondsSinceEpoch)
            var status = "status unset"
            if let spanStatus = span.status {
                status = spanStatus.code == .ok ? "status OK" : "status ERROR" + (spanStatus.message.map { ": \($0)" } ?? "")
            }
            rows.append(Row(
                spanID: span.spanContext.spanID.hexString, parentID: span.parentSpanContext?.spanID.hexString,
                name: span.operationName, service: service, kind: JaegerTrace.kindName(span.kind), color: colors[service] ?? "#999",
                indent: 8 + depth * 16,
                left: String(format: "%.3f", Double(offset) / total * 100),
                width: String(format: "%.3f", max(Double(span.durationNanoseconds) / total * 100, 0.2)),
                duration: TimestampText.duration(span.durationNanoseconds), offset: TimestampText.duration(offset),
                failed: span.status?.code == .error, status: status,
                attributes: JaegerTrace.keyValues(span.attributes).map { KeyValue(key: $0.key, value: $0.value.text) },
                resource: JaegerTrace.keyValues(span.resource.attributes).map { KeyValue(key: $0.key, value: $0.value.text) },
                events: span.events.map { event in
                    Event(
                        name: event.name,
                        offset: TimestampText.duration(event.nanosecondsSinceEpoch - min(span.startTimeNanosecondsSinceEpoch, event.nanosecondsSinceEpoch)),
                        attributes: ConsoleSpanExporter.attributesText(event.attributes))
                },
                hasEvents: !span.events.isEmpty,
                links: span.links.map { Link(traceID: $0.spanContext.traceID.hexString, spanID: $0.spanContext.spanID.hexString) },
                hasLinks: !span.links.isEmpty))
            for child in children[span.spanContext.spanID] ?? [] { visit(child, depth: depth + 1) }
        }
        for root in roots { visit(root, depth: 0) }
        self.spans = rows
    }
}

extension JaegerTrace.KeyValue.Value {
    /// The value as plain text for the UI.
    var text: String {
        switch self {
        case .string(let string): return string
        case .bool(let bool): return bool ? "true" : "false"
        case .int64(let int): return String(int)
        case .float64(let double): return String(double)
        }
    }
}
