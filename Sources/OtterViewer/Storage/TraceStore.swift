import Otter
import OtterOTLP
import Tracing

/// Where the viewer keeps spans, as Jaeger's `tracestore` splits it: a ``TraceWriter``, a ``TraceReader`` and a
/// ``DependencyReader``. A storage engine implements the three; the viewer needs nothing else of it (span metrics,
/// retention and forwarding are capabilities a store may add, as ``SQLiteTraceStore`` does).
public typealias TraceStore = TraceWriter & TraceReader & DependencyReader

/// Stores spans.
public protocol TraceWriter: Sendable {
    /// Stores the valid spans of `traces` atomically (every one of them, or none) and returns why the others
    /// (missing, all-zero or wrong-length ids) were refused, for OTLP's `partial_success`. Spans are kept as
    /// received: values of every type, unspecified kinds and flags.
    @discardableResult
    func write(_ traces: OTLPTraces) async throws -> [String]
}

/// Reads stored spans: whole traces, the service and operation lists, and trace searches.
public protocol TraceReader: Sendable {
    /// Every stored span of these traces, as received. Exact copies (an exporter's retry) appear once; different
    /// spans that share a span id all appear. Empty when none is stored.
    func traces(_ traceIDs: [TraceID]) async throws -> OTLPTraces
    /// The service names seen, sorted.
    func services() async throws -> [String]
    /// The operation names seen for a service, with their span kinds (one entry per name and kind), sorted by name.
    func operations(service: String) async throws -> [(name: String, kind: SpanKind)]
    /// The ids of the traces that have at least one span matching every condition of `query`, most recent first.
    func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID]
    /// What a search result shows of each trace; unknown traces are left out, the order of `traceIDs` is kept.
    func summaries(_ traceIDs: [TraceID]) async throws -> [TraceSummary]
    /// The service names in the order they were first stored, deleted ones included if the store remembers them: each
    /// service's colour in the UI follows this order, so a store that remembers keeps colours stable while retention
    /// deletes. By default, ``services()``.
    func servicesInFirstSeenOrder() async throws -> [String]
}

/// Reads the service dependency graph.
public protocol DependencyReader: Sendable {
    /// Calls between services (a span whose parent belongs to another service) among spans started in the window.
    func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency]
}

extension TraceReader {
    /// ``services()``: a store that does not remember when it first saw a service.
    public func servicesInFirstSeenOrder() async throws -> [String] {
        try await services()
    }
}

extension TraceWriter {
    /// Stores spans made by an SDK (their OTLP form).
    public func write(_ spans: [FinishedSpan]) async throws {
        try await write(OTLPTraces(spans))
    }
}

extension TraceReader {
    /// Every stored span of one trace that can be read as a `FinishedSpan`, in start order; empty if the trace is
    /// unknown.
    public func trace(_ traceID: TraceID) async throws -> [FinishedSpan] {
        try await traces([traceID]).spans.sorted { $0.startTimeNanosecondsSinceEpoch < $1.startTimeNanosecondsSinceEpoch }
    }
}

/// One edge of the service dependency graph.
public struct ServiceDependency: Sendable, Hashable, Encodable {
    /// The calling service: the service of the parent span.
    public var parent: String
    /// The called service: the service of the child span.
    public var child: String
    /// How many spans of ``child`` have a parent span of ``parent`` in the window.
    public var callCount: Int

    /// A parent and child service pair, without its count.
    struct Edge: Hashable {
        var parent: String
        var child: String
    }

    /// Makes an edge from its two services and its count.
    public init(parent: String, child: String, callCount: Int) {
        self.parent = parent
        self.child = child
        self.callCount = callCount
    }
}
