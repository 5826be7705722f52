import Otter
import OtterOTLP
import Tracing

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
