import Otter
import OtterOTLP
import Tracing

/// The trace page without JavaScript: spans in tree order (children under parents, by start time) on a waterfall,
/// paged, with the critical path marked and the statistics table. `trace-page.mjs` replaces it with the explorer.
struct TracePage {
    struct KeyValue {
        var key: String
        var value: String
    }

    struct Event {
        var name: String
        var offset: String
        var attributes: [KeyValue]
    }

    struct Link {
        var traceID: String
        var spanID: String
        var attributes: [KeyValue]
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
        var selfTime: String
        var scope: String
        var failed: Bool
        var critical: Bool
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

    var traceID: String
    var rootName: String
    var rootService: String
    var spanCount: Int
    var duration: String
    var start: String
    var services: [Service]
    var spans: [Row]

    struct Tick {
        var left: String
        var label: String
    }

    struct Statistic {
        var service: String
        var operation: String
        var count: Int
        var total: String
        var selfTime: String
        var average: String
        var minimum: String
        var maximum: String
    }

    var ticks: [Tick]
    var statistics: [Statistic]
    /// Whether log records of the trace are stored (the page links to them).
    var hasLogs = false

    /// The trace explorer's model as JSON for the page's `<script type="application/json">` block (``embedModel(_:)``):
    /// the explorer reads it there instead of asking the store again. Nil on the later pages of a paged trace, which
    /// only browsers without JavaScript ask for.
    var modelJSON: String?

    /// The page of one trace's model, from row `firstRow` on.
    init(_ model: TraceModel, firstRow: Int = 0) {
        let summary = model.summary
        let tree = model.tree
        traceID = summary.traceID.hexString
        rootName = summary.rootOperationName
        rootService = summary.rootServiceName
        spanCount = summary.spanCount
        duration = TimestampFormatting.humanDuration(nanoseconds: summary.durationNanoseconds)
        start = TimestampFormatting.dateTime(nanosecondsSinceEpoch: summary.startTimeNanoseconds)
        var colors: [String: String] = [:]
        for service in model.services { colors[service.name] = service.color }
        services = summary.services.map { Service(name: $0.name, color: colors[$0.name] ?? "#999") }

        let traceStart = summary.startTimeNanoseconds
        let total = Double(max(summary.durationNanoseconds, 1))
        ticks = (0...4).map { step in
            Tick(
                left: Self.percent(Double(step) * 25),
                label: TimestampFormatting.humanDuration(nanoseconds: summary.durationNanoseconds / 4 * UInt64(step)))
        }
        // The 200 rows with the most time: a 10,000-span chain does not make a 10,000-row table of HTML.
        statistics = model.statisticsRows.prefix(200).map { row in
            let text = { (nanoseconds: UInt64) in TimestampFormatting.humanDuration(nanoseconds: nanoseconds) }
            return Statistic(
                service: row.service, operation: row.operation, count: row.count, total: text(row.total), selfTime: text(row.selfTime),
                average: text(row.average), minimum: text(row.minimum), maximum: text(row.maximum))
        }
        let count = tree.nodes.count
        let first = min(max(firstRow, 0), max(count - 1, 0))
        let shown = first..<min(first + Self.rowsPerPage, count)
        firstShown = first + 1
        lastShown = first + shown.count
        // Strings, not numbers: Mustache reads 0 as false.
        previousPage = first > 0 ? String(max(first - Self.rowsPerPage, 0)) : nil
        nextPage = first + shown.count < count ? String(first + shown.count) : nil
        isPaged = count > Self.rowsPerPage
        var resourceRows: [Resource: [KeyValue]] = [:]
        self.spans = shown.map { index in
            let node = tree.nodes[index]
            let modelSpan = model.span(at: index)
            let service = node.service
            let offset = node.start - min(traceStart, node.start)
            let status: String
            switch modelSpan.status {
            case "ok": status = "status OK"
            case "error": status = "status ERROR" + (modelSpan.statusMessage.isEmpty ? "" : ": \(modelSpan.statusMessage)")
            default: status = "status unset"
            }
            // The model keeps one resource per service; the page shows each span's own (a service on two hosts).
            var resource: [KeyValue] = []
            if let spanResource = model.resource(at: index) {
                resource = resourceRows[spanResource] ?? Self.rows(spanResource.attributes)
                resourceRows[spanResource] = resource
            }
            let scope = modelSpan.scope
            let pairs = { (pairs: [[String]]) in pairs.map { KeyValue(key: $0[0], value: $0[1]) } }
            return Row(
                spanID: modelSpan.spanID, parentID: modelSpan.parentSpanID.isEmpty ? nil : modelSpan.parentSpanID,
                name: modelSpan.name, service: service, kind: modelSpan.kind, color: colors[service] ?? "#999",
                // Deep chains keep their names in view: indentation stops growing at 16 levels.
                indent: 8 + min(node.depth, 16) * 16,
                left: Self.percent(Double(offset) / total * 100),
                width: Self.percent(max(Double(node.duration) / total * 100, 0.2)),
                duration: TimestampFormatting.humanDuration(nanoseconds: node.duration),
                offset: TimestampFormatting.humanDuration(nanoseconds: offset),
                selfTime: TimestampFormatting.humanDuration(nanoseconds: tree.selfTime(of: index)),
                scope: scope.version.isEmpty ? scope.name : "\(scope.name) \(scope.version)",
                failed: modelSpan.error, critical: !modelSpan.criticalPath.isEmpty, status: status,
                attributes: pairs(modelSpan.attributes),
                resource: resource,
                events: modelSpan.events.map { event in
                    Event(
                        name: event.name,
                        offset: TimestampFormatting.humanDuration(
                            nanoseconds: UInt64((max(event.timeMicros - modelSpan.startMicros, 0) * 1_000).rounded())),
                        attributes: pairs(event.attributes))
                },
                hasEvents: !modelSpan.events.isEmpty,
                links: modelSpan.links.map { Link(traceID: $0.traceID, spanID: $0.spanID, attributes: pairs($0.attributes)) },
                hasLinks: !modelSpan.links.isEmpty)
        }
    }

    /// Embeds `model` for the explorer, whole up to `spanLimit` spans and as its outline beyond (``TraceModel/outlineJSON()``);
    /// `<` is written `\u003c`, so no value can close the block.
    mutating func embedModel(_ model: TraceModel, spanLimit: Int) {
        modelJSON = model.spanCount > spanLimit ? model.outlineJSON() : HTTPAnswer.jsonForScriptBlock(model)
    }

    /// Attributes as rows of text, keys in order (``AttributeText/displayRows(_:)``).
    static func rows(_ attributes: SpanAttributes) -> [KeyValue] {
        AttributeText.displayRows(attributes).map { KeyValue(key: $0.key, value: $0.value) }
    }

    /// Rows rendered per page: a 100,000-span trace is shown in pages instead of one page nobody can load.
    static let rowsPerPage = 500

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
