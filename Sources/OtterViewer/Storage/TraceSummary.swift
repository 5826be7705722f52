import Otter

/// A trace search result: the trace's root, size, errors and time span, per service too.
public struct TraceSummary: Sendable, Equatable {
    /// One service's share of a trace.
    public struct ServiceSummary: Sendable, Equatable {
        /// The service's `service.name`; `unknown_service` for spans whose resource has none.
        public var name: String
        /// How many of the trace's spans the service reported.
        public var spanCount: Int
        /// How many of those spans have an error status.
        public var errorSpanCount: Int

        /// Makes a service summary from its counts.
        public init(name: String, spanCount: Int, errorSpanCount: Int) {
            self.name = name
            self.spanCount = spanCount
            self.errorSpanCount = errorSpanCount
        }
    }

    /// The trace's id.
    public var traceID: TraceID
    /// The root span's service. The root is the span without a stored parent; with several (spans still missing),
    /// the earliest of them.
    public var rootServiceName: String
    /// The root span's operation name (the root as ``rootServiceName`` describes it).
    public var rootOperationName: String
    /// The earliest start of any stored span, in nanoseconds since 1970-01-01 00:00 UTC.
    public var startTimeNanoseconds: UInt64
    /// The latest end of any stored span, in nanoseconds since 1970-01-01 00:00 UTC.
    public var endTimeNanoseconds: UInt64
    /// How many spans of the trace are stored.
    public var spanCount: Int
    /// How many of the stored spans have an error status.
    public var errorSpanCount: Int
    /// Spans that name a parent which is not stored: a sign of an incomplete trace (spans without a parent are roots).
    public var orphanSpanCount: Int
    /// Each service that reported spans in the trace, sorted by name.
    public var services: [ServiceSummary]

    /// From the earliest start to the latest end, in nanoseconds; zero if the end is before the start.
    public var durationNanoseconds: UInt64 { endTimeNanoseconds - min(startTimeNanoseconds, endTimeNanoseconds) }

    /// Makes a summary from its parts; nothing is checked.
    public init(
        traceID: TraceID, rootServiceName: String, rootOperationName: String, startTimeNanoseconds: UInt64,
        endTimeNanoseconds: UInt64, spanCount: Int, errorSpanCount: Int, orphanSpanCount: Int, services: [ServiceSummary]
    ) {
        self.traceID = traceID
        self.rootServiceName = rootServiceName
        self.rootOperationName = rootOperationName
        self.startTimeNanoseconds = startTimeNanoseconds
        self.endTimeNanoseconds = endTimeNanoseconds
        self.spanCount = spanCount
        self.errorSpanCount = errorSpanCount
        self.orphanSpanCount = orphanSpanCount
        self.services = services
    }

    /// The summary of the spans of one trace; nil when there are none.
    public init?(spans: [FinishedSpan]) {
        guard let first = spans.first else { return nil }
        self.init(traceID: first.spanContext.traceID, outlines: spans.map(SpanOutline.init))
    }

    /// The summary of a non-empty list of span outlines of one trace: its root is the earliest span whose
    /// parent is not among them.
    init(traceID: TraceID, outlines spans: [SpanOutline]) {
        let stored = Set(spans.map(\.spanID))
        let parentless = spans.filter { $0.parentSpanID.map { !stored.contains($0) } ?? true }
            .sorted { $0.startTimeNanosecondsSinceEpoch < $1.startTimeNanosecondsSinceEpoch }
        let root = parentless.first ?? spans.min { $0.startTimeNanosecondsSinceEpoch < $1.startTimeNanosecondsSinceEpoch }!
        var services: [String: ServiceSummary] = [:]
        for span in spans {
            services[span.service, default: ServiceSummary(name: span.service, spanCount: 0, errorSpanCount: 0)].spanCount += 1
            if span.isError { services[span.service]!.errorSpanCount += 1 }
        }
        self.init(
            traceID: traceID, rootServiceName: root.service, rootOperationName: root.operationName,
            startTimeNanoseconds: spans.map(\.startTimeNanosecondsSinceEpoch).min() ?? 0,
            endTimeNanoseconds: spans.map(\.endTimeNanosecondsSinceEpoch).max() ?? 0,
            spanCount: spans.count, errorSpanCount: spans.filter(\.isError).count,
            orphanSpanCount: spans.filter { $0.parentSpanID.map { !stored.contains($0) } ?? false }.count,
            services: services.values.sorted { $0.name < $1.name })
    }
}
