import Otter
import OtterOTLP
import Tracing

/// One trace as every view of it shows it, computed once from one store read: its spans in tree order with their
/// critical-path segments, self times and details, its services with colours and resources, and its statistics. The
/// explorer (`trace-page.mjs`) reads it as JSON embedded in the trace page (other clients from `/api/otter/traces/{id}`,
/// the upload page from `/api/otter/trace-models`); the
/// page without JavaScript (``TracePage``) is drawn from it too, with the tree, summary and statistics in
/// nanoseconds that the JSON leaves out. JSON times are microseconds (JSON numbers lose nanoseconds beyond 2^53),
/// offsets from the trace's start.
struct TraceModel: Encodable {
    struct Service: Encodable {
        var name: String
        var color: String
        var resource: [[String]]
    }

    struct Event: Encodable {
        var name: String
        var timeMicros: Double
        var attributes: [[String]]
    }

    struct Link: Encodable {
        var traceID: String
        var spanID: String
        var attributes: [[String]]
    }

    struct Scope: Encodable {
        var name: String
        var version: String
    }

    struct Span: Encodable {
        var spanID: String
        /// The parent's span id, also when the parent is not in the trace ("" for a root).
        var parentSpanID: String
        var parentIndex: Int
        var depth: Int
        var childCount: Int
        var serviceIndex: Int
        var name: String
        var kind: String
        var startMicros: Double
        var durationMicros: Double
        var selfMicros: Double
        var status: String
        var statusMessage: String
        var error: Bool
        var criticalPath: [[Double]]
        var attributes: [[String]]
        var events: [Event]
        var links: [Link]
        var scope: Scope
        var warnings: [String]
    }

    struct Statistic: Encodable {
        var service: String
        var operation: String
        var count: Int
        var totalMicros: Double
        var selfMicros: Double
        var averageMicros: Double
        var minMicros: Double
        var maxMicros: Double
    }

    var traceID: String
    var startTimeUnixMicros: Double
    var durationMicros: Double
    var rootService: String
    var rootName: String
    var services: [Service]
    var statistics: [Statistic]

    /// The tree the model was built from (nanosecond times, spans outlined), its summary and its statistics rows: for
    /// ``TracePage``.
    let tree: TraceTree<SpanOutline>
    let summary: TraceSummary
    /// The earliest start of a span, nanoseconds since the epoch.
    let startNanoseconds: UInt64
    let statisticsRows: [TraceStatistics.Row]
    /// Every span read in full, in tree order, when the model was read in full (empty for a model built from an
    /// outline): its explorer form (``Span``) is made when asked for (``span(at:)``), so a big trace costs its spans
    /// once, not twice.
    private var fullSpans: [FinishedSpan] = []
    private var filledResources: [Int: Resource] = [:]
    /// Critical-path segments (µs from the trace's start, latest first) and warnings of the spans that have any.
    let criticalPaths: [Int: [[Double]]]
    let warningsByIndex: [Int: [String]]
    let serviceIndexByName: [String: Int]
    /// The spans of a model built from an outline that were read in full (``fillDetails(_:)``), by index.
    private var filled: [Int: Span] = [:]

    /// How many spans the trace has.
    var spanCount: Int { tree.nodes.count }

    /// Span `index` in tree order: with its details when the model was read in full, else made from the outline
    /// (with the details ``fillDetails(_:)`` added). A 1,000,000-span outline keeps its tree, not a million span
    /// objects.
    func span(at index: Int) -> Span {
        if index < fullSpans.count {
            // Without the resource: its rows are the service's (``services``), not each span's.
            let details = Self.details(of: fullSpans[index], traceStart: startNanoseconds, withResource: false)
            return Self.adding(details, to: outlineSpan(at: index))
        }
        return filled[index] ?? outlineSpan(at: index)
    }

    /// Span `index`'s resource, where it was read in full.
    func resource(at index: Int) -> Resource? {
        index < fullSpans.count ? fullSpans[index].resource : filledResources[index]
    }

    /// The spans the JSON holds: every span when the model was read in full, none for one built from an outline.
    var encodedSpanCount: Int { fullSpans.count }

    /// Span `index` as its outline gives it: no attributes, events, links, scope or status message.
    func outlineSpan(at index: Int) -> Span {
        let node = tree.nodes[index]
        let span = node.span
        let traceStart = startNanoseconds
        func micros(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1_000 }
        return Span(
            spanID: span.spanID.hexString, parentSpanID: span.parentSpanID?.hexString ?? "", parentIndex: node.parent ?? -1,
            depth: node.depth, childCount: node.children.count, serviceIndex: serviceIndexByName[node.service] ?? 0,
            name: span.operationName, kind: SpanKindName(span.kind).rawValue,
            startMicros: micros(node.start - min(node.start, traceStart)), durationMicros: micros(node.duration),
            selfMicros: micros(tree.selfTime(of: index)), status: span.statusCode.map { $0 == .ok ? "ok" : "error" } ?? "unset",
            statusMessage: "", error: span.isError, criticalPath: criticalPaths[index] ?? [], attributes: [], events: [], links: [],
            scope: Scope(name: "", version: ""), warnings: warningsByIndex[index] ?? [])
    }

    enum CodingKeys: String, CodingKey {
        case traceID, startTimeUnixMicros, durationMicros, rootService, rootName, services, spans, statistics
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(traceID, forKey: .traceID)
        try container.encode(startTimeUnixMicros, forKey: .startTimeUnixMicros)
        try container.encode(durationMicros, forKey: .durationMicros)
        try container.encode(rootService, forKey: .rootService)
        try container.encode(rootName, forKey: .rootName)
        try container.encode(services, forKey: .services)
        try container.encode(fullSpans.indices.map(span(at:)), forKey: .spans)
        try container.encode(statistics, forKey: .statistics)
    }

    /// The model of one trace's spans, read in full; nil when there are none. `colors` maps service names to colours
    /// (from ``ServicePalette``); services missing from it get one assigned among this trace's services.
    init?(spans: [FinishedSpan], colors: [String: String] = [:]) {
        guard let traceID = spans.first?.spanContext.traceID else { return nil }
        let full = TraceTree(spans: spans)
        self.init(traceID: traceID, tree: full.mapSpans(SpanOutline.init), colors: colors)
        fullSpans = full.nodes.map(\.span)
        for index in fullSpans.indices {
            let service = serviceIndexByName[tree.nodes[index].service] ?? 0
            if services[service].resource.isEmpty { services[service].resource = Self.pairs(fullSpans[index].resource.attributes) }
        }
    }

    /// The model of one trace's outlined spans (a big trace: no attributes, events or links); nil when there are none.
    init?(traceID: TraceID, outline: [SpanOutline], colors: [String: String] = [:]) {
        self.init(traceID: traceID, tree: TraceTree(spans: outline), colors: colors)
    }

    private init?(traceID: TraceID, tree: TraceTree<SpanOutline>, colors: [String: String]) {
        guard let firstRoot = tree.roots.first else { return nil }
        self.tree = tree
        summary = TraceSummary(traceID: traceID, outlines: tree.nodes.map(\.span))
        let traceStart = tree.start
        startNanoseconds = traceStart
        func micros(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1_000 }
        func offset(_ nanoseconds: UInt64) -> Double { micros(nanoseconds - min(nanoseconds, traceStart)) }

        var serviceIndex: [String: Int] = [:]
        var services: [Service] = []
        let fallbackColors = ServicePalette.assign(tree.nodes.map(\.service))
        for node in tree.nodes where serviceIndex[node.service] == nil {
            serviceIndex[node.service] = services.count
            services.append(
                Service(
                    name: node.service, color: colors[node.service] ?? fallbackColors[node.service] ?? ServicePalette.colors[0],
                    resource: []))
        }
        var critical: [Int: [[Double]]] = [:]
        for segment in CriticalPath.segments(of: tree) {
            critical[segment.node, default: []].append([offset(segment.start), offset(segment.end)])
        }
        criticalPaths = critical.mapValues { $0.reversed() }
        var spansPerID: [SpanID: Int] = [:]
        spansPerID.reserveCapacity(tree.nodes.count)
        for node in tree.nodes { spansPerID[node.span.spanID, default: 0] += 1 }
        var warnings: [Int: [String]] = [:]
        for index in tree.nodes.indices {
            let node = tree.nodes[index]
            let span = node.span
            var found: [String] = []
            if node.parent == nil, let parent = span.parentSpanID {
                if parent == span.spanID {
                    found.append("the span names itself as its parent")
                } else if spansPerID[parent] != nil {
                    found.append("its parents form a cycle (parent span \(parent.hexString)): shown as a root")
                } else {
                    found.append("parent span \(parent.hexString) is not in this trace")
                }
            }
            if let count = spansPerID[span.spanID], count > 1 {
                found.append("\(count) spans of this trace have the span id \(span.spanID.hexString)")
            }
            if let parent = node.parent, node.start < tree.nodes[parent].start {
                // Jaeger UI adjusts such a child; Otter shows it as recorded and says why it looks wrong.
                let skew = TimestampFormatting.humanDuration(nanoseconds: tree.nodes[parent].start - node.start)
                found.append("starts \(skew) before its parent: clock skew between the two hosts?")
            }
            if span.endTimeNanosecondsSinceEpoch < span.startTimeNanosecondsSinceEpoch { found.append("the span ends before it starts") }
            if !found.isEmpty { warnings[index] = found }
        }
        warningsByIndex = warnings
        serviceIndexByName = serviceIndex
        self.services = services
        let root = tree.nodes[firstRoot].span
        self.traceID = traceID.hexString
        startTimeUnixMicros = micros(traceStart)
        durationMicros = micros(tree.end - min(tree.end, traceStart))
        rootService = root.service
        rootName = root.operationName
        statisticsRows = TraceStatistics(tree).rows
        statistics = statisticsRows.map {
            Statistic(
                service: $0.service, operation: $0.operation, count: $0.count, totalMicros: micros($0.total),
                selfMicros: micros($0.selfTime), averageMicros: micros($0.average), minMicros: micros($0.minimum),
                maxMicros: micros($0.maximum))
        }
    }

    /// Adds the details of spans read in full to the model's spans at `indexes` with the same id and start (the rows a
    /// page shows).
    mutating func fillDetails(_ fullSpans: [FinishedSpan], at indexes: Range<Int>? = nil) {
        var byKey: [SpanKey: FinishedSpan] = [:]
        for span in fullSpans { byKey[SpanKey(span.spanContext.spanID, span.startTimeNanosecondsSinceEpoch)] = span }
        for index in (indexes ?? tree.nodes.indices).clamped(to: tree.nodes.indices) {
            let node = tree.nodes[index]
            if let span = byKey[SpanKey(node.span.spanID, node.span.startTimeNanosecondsSinceEpoch)] { fill(index, with: span) }
        }
    }

    private struct SpanKey: Hashable {
        var spanID: SpanID
        var start: UInt64
        init(_ spanID: SpanID, _ start: UInt64) {
            self.spanID = spanID
            self.start = start
        }
    }

    private mutating func fill(_ index: Int, with span: FinishedSpan) {
        guard index >= fullSpans.count else { return }
        let details = Self.details(of: span, traceStart: startNanoseconds)
        let filledSpan = Self.adding(details, to: outlineSpan(at: index))
        filled[index] = filledSpan
        filledResources[index] = span.resource
        let service = filledSpan.serviceIndex
        if services[service].resource.isEmpty { services[service].resource = details.resource }
    }

    private static func adding(_ details: Details, to outlineSpan: Span) -> Span {
        var span = outlineSpan
        span.statusMessage = details.statusMessage
        span.attributes = details.attributes
        span.events = details.events
        span.links = details.links
        span.scope = details.scope
        return span
    }

    /// What a span read in full adds to its outline, event times in microseconds from `traceStart` (nanoseconds since
    /// the epoch).
    struct Details: Encodable {
        var spanID: String
        /// The span's start in whole microseconds since the epoch (an integer, exact in JSON): tells apart spans that
        /// share an id.
        var startTimeUnixMicros: UInt64
        var statusMessage: String
        var attributes: [[String]]
        var events: [Event]
        var links: [Link]
        var scope: Scope
        var resource: [[String]]
    }

    static func details(of span: FinishedSpan, traceStart: UInt64, withResource: Bool = true) -> Details {
        func offset(_ nanoseconds: UInt64) -> Double { Double(nanoseconds - min(nanoseconds, traceStart)) / 1_000 }
        return Details(
            spanID: span.spanContext.spanID.hexString, startTimeUnixMicros: span.startTimeNanosecondsSinceEpoch / 1_000,
            statusMessage: span.status?.message ?? "", attributes: pairs(span.attributes),
            events: span.events.map {
                Event(name: $0.name, timeMicros: offset($0.nanosecondsSinceEpoch), attributes: pairs($0.attributes))
            },
            links: span.links.map {
                Link(traceID: $0.spanContext.traceID.hexString, spanID: $0.spanContext.spanID.hexString, attributes: pairs($0.attributes))
            },
            scope: Scope(name: span.instrumentationScope.name, version: span.instrumentationScope.version ?? ""),
            resource: withResource ? pairs(span.resource.attributes) : [])
    }

    /// Attributes as `[key, text]` pairs, as the Jaeger API shows the values.
    static func pairs(_ attributes: SpanAttributes) -> [[String]] {
        AttributeText.displayRows(attributes).map { [$0.key, $0.value] }
    }
}
