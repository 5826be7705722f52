import Otter

/// Where the viewer keeps spans: a narrow reader/writer interface, so storage engines can be swapped.
public protocol TraceStore: Sendable {
    /// Stores a batch atomically: every span of it, or none.
    func write(_ spans: [FinishedSpan]) async throws
    /// Every stored span of one trace, in start order; empty if the trace is unknown.
    func trace(_ traceID: TraceID) async throws -> [FinishedSpan]
    /// The service names seen, sorted.
    func services() async throws -> [String]
    /// The operation names seen for a service, with their span kinds, sorted by name.
    func operations(service: String) async throws -> [(name: String, kind: SpanKindName)]
    /// The ids of the traces that have at least one span matching every condition of `query`, most recent first.
    func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID]
    /// Calls between services (a span whose parent belongs to another service) among spans started in the window.
    func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency]
    /// Deletes the spans that started before `cutoffNanoseconds`; returns how many were deleted.
    func deleteSpans(startedBefore cutoffNanoseconds: UInt64) async throws -> Int
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

/// A trace search, with Jaeger's semantics: one span of the trace must match the service, the operation, every
/// tag (span attributes, resource attributes, and `error=true` / `span.kind=...`), the duration bounds and the
/// start time window.
public struct TraceQuery: Sendable, Equatable {
    public var service: String
    public var operation: String?
    public var tags: [(key: String, value: String)]
    public var startTimeMinimumNanoseconds: UInt64
    public var startTimeMaximumNanoseconds: UInt64
    public var durationMinimumNanoseconds: UInt64?
    public var durationMaximumNanoseconds: UInt64?
    public var limit: Int

    public init(
        service: String, operation: String? = nil, tags: [(key: String, value: String)] = [],
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
}
