import Otter
import OtterOTLP
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

    /// The page of a trace's spans; nil when there are none.
    init?(spans: [FinishedSpan], firstRow: Int = 0) {
        guard let summary = TraceSummary(spans: spans) else { return nil }
        traceID = summary.traceID.hexString
        rootName = summary.rootOperationName
        rootService = summary.rootServiceName
        spanCount = summary.spanCount
        duration = TimestampFormatting.humanDuration(nanoseconds: summary.durationNanoseconds)
        start = TimestampFormatting.dateTime(nanosecondsSinceEpoch: summary.startTimeNanoseconds)
        let serviceNames = summary.services.map(\.name)
        let colors = Dictionary(uniqueKeysWithValues: serviceNames.enumerated().map { ($1, Self.palette[$0 % Self.palette.count]) })
        services = serviceNames.map { Service(name: $0, color: colors[$0] ?? "#999") }

        let ordered = SpanTree.depthFirst(spans)
        let traceStart = summary.startTimeNanoseconds
        let total = Double(max(summary.durationNanoseconds, 1))
        let first = min(max(firstRow, 0), max(ordered.count - 1, 0))
        let shown = ordered[first..<min(first + Self.rowsPerPage, ordered.count)]
        firstShown = first + 1
        lastShown = first + shown.count
        // Strings, not numbers: Mustache reads 0 as false.
        previousPage = first > 0 ? String(max(first - Self.rowsPerPage, 0)) : nil
        nextPage = first + shown.count < ordered.count ? String(first + shown.count) : nil
        isPaged = ordered.count > Self.rowsPerPage
        var resourceRows: [Resource: [KeyValue]] = [:]
        self.spans = shown.map { entry in
            let span = entry.span
            let service = span.resource.serviceNameOrUnknown
            let offset = span.startTimeNanosecondsSinceEpoch - min(traceStart, span.startTimeNanosecondsSinceEpoch)
            var status = "status unset"
            if let spanStatus = span.status {
                status = spanStatus.code == .ok ? "status OK" : "status ERROR" + (spanStatus.message.map { ": \($0)" } ?? "")
            }
            let resource = resourceRows[span.resource] ?? Self.rows(span.resource.attributes)
            resourceRows[span.resource] = resource
            return Row(
                spanID: span.spanContext.spanID.hexString, parentID: span.parentSpanContext?.spanID.hexString,
                name: span.operationName, service: service, kind: SpanKindName(span.kind).rawValue, color: colors[service] ?? "#999",
                // Deep chains stay on the page: indentation stops growing at 40 levels.
                indent: 8 + min(entry.depth, 40) * 16,
                left: Self.percent(Double(offset) / total * 100),
                width: Self.percent(max(Double(span.durationNanoseconds) / total * 100, 0.2)),
                duration: TimestampFormatting.humanDuration(nanoseconds: span.durationNanoseconds),
                offset: TimestampFormatting.humanDuration(nanoseconds: offset),
                failed: span.status?.code == .error, status: status,
                attributes: Self.rows(span.attributes),
                resource: resource,
                events: span.events.map { event in
                    Event(
                        name: event.name,
                        offset: TimestampFormatting.humanDuration(
                            nanoseconds: event.nanosecondsSinceEpoch - min(span.startTimeNanosecondsSinceEpoch, event.nanosecondsSinceEpoch)
                        ),
                        attributes: AttributeText.json(event.attributes))
                },
                hasEvents: !span.events.isEmpty,
                links: span.links.map { Link(traceID: $0.spanContext.traceID.hexString, spanID: $0.spanContext.spanID.hexString) },
                hasLinks: !span.links.isEmpty)
        }
    }

    /// Attributes as rows of text, keys in order, values as the Jaeger API shows them.
    static func rows(_ attributes: SpanAttributes) -> [KeyValue] {
        JaegerTrace.keyValues(OTLPMapping.keyValues(attributes)).map { KeyValue(key: $0.key, value: $0.value.text) }
    }

    /// Rows rendered per page: a 100,000-span trace is shown in pages instead of one page nobody can load.
    static let rowsPerPage = 2_000

    var firstShown: Int
    var lastShown: Int
    var previousPage: String?
    var nextPage: String?
    var isPaged: Bool

    /// A percentage with three decimals, without `String(format:)` (slow on Linux, and this runs per row).
    static func percent(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let thousandths = Int((min(max(value, 0), 1_000) * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
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
        case .binary(let data): return data.base64EncodedString()
        }
    }
}
