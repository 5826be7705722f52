import Otter
import Tracing
import OtterOTLP

/// Where the viewer keeps spans: a narrow reader/writer interface, so storage engines can be swapped.
public protocol TraceStore: Sendable {
    /// Stores a batch atomically: every span of it, or none.
    func write(_ spans: [FinishedSpan]) async throws
    /// Stores the valid spans of an OTLP request atomically, and returns why the others (invalid ids) were refused,
    /// for OTLP's `partial_success`.
    func write(_ request: OTLPExportTraceServiceRequest) async throws -> [String]
    /// Every stored span of one trace, in start order; empty if the trace is unknown.
    func trace(_ traceID: TraceID) async throws -> [FinishedSpan]
    /// Every stored span of these traces in OTLP form, as received: values of every type, unspecified kinds and
    /// flags kept. Exact copies (an exporter's retry) appear once; different spans that share a span id all appear.
    /// Empty when none is stored.
    func otlpTraces(_ traceIDs: [TraceID]) async throws -> OTLPExportTraceServiceRequest
    /// The service names seen, sorted.
    func services() async throws -> [String]
    /// The operation names seen for a service, with their span kinds, sorted by name.
    func operations(service: String) async throws -> [(name: String, kind: SpanKindName)]
    /// The ids of the traces that have at least one span matching every condition of `query`, most recent first.
    func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID]
    /// What a search result shows of each trace, computed from the stored columns without decoding spans;
    /// unknown traces are left out, the order of `traceIDs` is kept.
    func summaries(_ traceIDs: [TraceID]) async throws -> [TraceSummary]
    /// Calls between services (a span whose parent belongs to another service) among spans started in the window.
    func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency]
    /// Deletes the spans that started before `cutoffNanoseconds`; returns how many were deleted.
    func deleteSpans(startedBefore cutoffNanoseconds: UInt64) async throws -> Int
}

extension TraceStore {
    /// For stores that keep ``FinishedSpan``s: the request's spans as models.
    public func write(_ request: OTLPExportTraceServiceRequest) async throws -> [String] {
        let read = OTLPMapping.readSpans(from: request)
        try await write(read.spans)
        return read.rejections
    }

    /// For stores that keep ``FinishedSpan``s: their OTLP form.
    public func otlpTraces(_ traceIDs: [TraceID]) async throws -> OTLPExportTraceServiceRequest {
        var spans: [FinishedSpan] = []
        for traceID in traceIDs { spans += try await trace(traceID) }
        return OTLPMapping.request(for: spans)
    }
}

/// One edge of the service dependency graph.
public struct ServiceDependency: Sendable, Hashable, Encodable {
    public var parent: String
    public var child: String
    public var callCount: Int

    public init(parent: String, child: String, callCount: Int) {
        self.parent = parent
        self.child = child
        self.callCount = callCount
    }
}

/// A trace search result: the trace's root, size, errors and time span, per service too.
public struct TraceSummary: Sendable, Equatable {
    public struct ServiceSummary: Sendable, Equatable {
        public var name: String
        public var spanCount: Int
        public var errorSpanCount: Int

        public init(name: String, spanCount: Int, errorSpanCount: Int) {
            self.name = name
            self.spanCount = spanCount
            self.errorSpanCount = errorSpanCount
        }
    }

    public var traceID: TraceID
    /// The earliest span without a stored parent; with several (spans still missing), the earliest of them.
    public var rootServiceName: String
    public var rootOperationName: String
    public var startTimeNanoseconds: UInt64
    public var endTimeNanoseconds: UInt64
    public var spanCount: Int
    public var errorSpanCount: Int
    /// Spans that name a parent which is not stored: a sign of an incomplete trace (spans without a parent are roots).
    public var orphanSpanCount: Int
    public var services: [ServiceSummary]

    public var durationNanoseconds: UInt64 { endTimeNanoseconds - min(startTimeNanoseconds, endTimeNanoseconds) }

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

    /// What a summary needs of one span.
    struct SpanOutline {
        var spanID: SpanID
        var parentSpanID: SpanID?
        var service: String
        var operation: String
        var start: UInt64
        var end: UInt64
        var isError: Bool
    }

    /// The summary of a non-empty list of spans of one trace.
    public init(spans: [FinishedSpan]) {
        self.init(
            traceID: spans[0].spanContext.traceID,
            outlines: spans.map { span in
                SpanOutline(
                    spanID: span.spanContext.spanID, parentSpanID: span.parentSpanContext?.spanID,
                    service: span.resource.serviceName ?? ServiceName.unknown, operation: span.operationName,
                    start: span.startTimeNanosecondsSinceEpoch, end: span.endTimeNanosecondsSinceEpoch,
                    isError: span.status?.code == .error)
            })
    }

    /// The summary of a non-empty list of span outlines of one trace: its root is the earliest span whose
    /// parent is not among them.
    init(traceID: TraceID, outlines spans: [SpanOutline]) {
        let stored = Set(spans.map(\.spanID))
        let parentless = spans.filter { $0.parentSpanID.map { !stored.contains($0) } ?? true }.sorted { $0.start < $1.start }
        let root = parentless.first ?? spans.min { $0.start < $1.start }!
        var services: [String: ServiceSummary] = [:]
        for span in spans {
            services[span.service, default: ServiceSummary(name: span.service, spanCount: 0, errorSpanCount: 0)].spanCount += 1
            if span.isError { services[span.service]!.errorSpanCount += 1 }
        }
        self.init(
            traceID: traceID, rootServiceName: root.service, rootOperationName: root.operation,
            startTimeNanoseconds: spans.map(\.start).min() ?? 0, endTimeNanoseconds: spans.map(\.end).max() ?? 0,
            spanCount: spans.count, errorSpanCount: spans.filter(\.isError).count,
            orphanSpanCount: spans.filter { $0.parentSpanID.map { !stored.contains($0) } ?? false }.count,
            services: services.values.sorted { $0.name < $1.name })
    }
}

/// A trace search, with Jaeger's semantics: one span of the trace must match the service, the operation, every
/// tag (span attributes, resource attributes, and `error=true` / `span.kind=...`), the duration bounds and the
/// start time window.
public struct TraceQuery: Sendable, Equatable {
    /// Nil searches every service (Jaeger's api_v3 allows that; v1 requires a service).
    public var service: String?
    public var operation: String?
    public var tags: [(key: String, value: String)]
    public var startTimeMinimumNanoseconds: UInt64
    public var startTimeMaximumNanoseconds: UInt64
    public var durationMinimumNanoseconds: UInt64?
    public var durationMaximumNanoseconds: UInt64?
    public var limit: Int

    public init(
        service: String?, operation: String? = nil, tags: [(key: String, value: String)] = [],
        startTimeMinimumNanoseconds: UInt64 = 0, startTimeMaximumNanoseconds: UInt64 = .max,
        durationMinimumNanoseconds: UInt64? = nil, durationMaximumNanoseconds: UInt64? = nil, limit: Int = 100
    ) {
        self.service = service
        self.operation = operation
        self.tags = tags
        self.startTimeMinimumNanoseconds = startTimeMinimumNanoseconds
        self.startTimeMaximumNanoseconds = startTimeMaximumNanoseconds
        self.durationMinimumNanoseconds = durationMinimumNanoseconds
        self.durationMaximumNanoseconds = durationMaximumNanoseconds
        self.limit = limit
    }

    public static func == (lhs: TraceQuery, rhs: TraceQuery) -> Bool {
        lhs.service == rhs.service && lhs.operation == rhs.operation
            && lhs.tags.map { "\($0.key)=\($0.value)" } == rhs.tags.map { "\($0.key)=\($0.value)" }
            && lhs.startTimeMinimumNanoseconds == rhs.startTimeMinimumNanoseconds
            && lhs.startTimeMaximumNanoseconds == rhs.startTimeMaximumNanoseconds
            && lhs.durationMinimumNanoseconds == rhs.durationMinimumNanoseconds
            && lhs.durationMaximumNanoseconds == rhs.durationMaximumNanoseconds && lhs.limit == rhs.limit
    }
}

/// A span kind as the Jaeger API names it.
public enum SpanKindName: String, Sendable, CaseIterable {
    case server, client, producer, consumer, `internal`

    /// The name of an OTLP kind; nil for SPAN_KIND_UNSPECIFIED (and unknown values), which Jaeger shows without a
    /// `span.kind` tag.
    init?(_ kind: Opentelemetry_Proto_Trace_V1_Span.SpanKind) {
        switch kind {
        case .server: self = .server
        case .client: self = .client
        case .producer: self = .producer
        case .consumer: self = .consumer
        case .internal: self = .internal
        default: return nil
        }
    }

    /// The name of a swift-distributed-tracing kind.
    init(_ kind: SpanKind) {
        self = SpanKindName(OTLPMapping.kind(kind)) ?? .internal
    }
}
