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
}

/// A span kind as the Jaeger API names it.
public enum SpanKindName: String, Sendable, CaseIterable {
    case server, client, producer, consumer, `internal`
}
