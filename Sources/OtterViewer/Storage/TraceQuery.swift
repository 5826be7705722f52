import Otter
import OtterOTLP
import Tracing

/// A trace search, with Jaeger's semantics: one span of the trace must match the service, the operation, every
/// tag (span attributes, resource attributes, and `error=true` / `span.kind=...`), the duration bounds and the
/// start time window.
public struct TraceQuery: Sendable, Equatable {
    /// Nil searches every service (Jaeger's api_v3 allows that; v1 requires a service).
    public var service: String?
    /// The operation (span name) a span must have; nil matches any.
    public var operation: String?
    /// `key=value` conditions a span must all meet: span or resource attributes compared as text, and the special
    /// `error=true` and `span.kind=...`.
    public var tags: [(key: String, value: String)]
    /// The earliest start a matching span may have, in nanoseconds since 1970-01-01 00:00 UTC, inclusive.
    public var startTimeMinimumNanoseconds: UInt64
    /// The latest start a matching span may have, in nanoseconds since 1970-01-01 00:00 UTC, inclusive.
    public var startTimeMaximumNanoseconds: UInt64
    /// The shortest duration a matching span may have, in nanoseconds, inclusive; nil for no bound.
    public var durationMinimumNanoseconds: UInt64?
    /// The longest duration a matching span may have, in nanoseconds, inclusive; nil for no bound.
    public var durationMaximumNanoseconds: UInt64?
    /// The most traces returned: those whose latest matching span started most recently.
    public var limit: Int

    /// Makes a search for `service` (nil: every service). Unless given, any operation, tag, start time and duration
    /// matches, and at most 100 traces are returned.
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

    /// True when every condition is the same, tags compared in order.
    public static func == (lhs: TraceQuery, rhs: TraceQuery) -> Bool {
        lhs.service == rhs.service && lhs.operation == rhs.operation
            && lhs.tags.map { "\($0.key)=\($0.value)" } == rhs.tags.map { "\($0.key)=\($0.value)" }
            && lhs.startTimeMinimumNanoseconds == rhs.startTimeMinimumNanoseconds
            && lhs.startTimeMaximumNanoseconds == rhs.startTimeMaximumNanoseconds
            && lhs.durationMinimumNanoseconds == rhs.durationMinimumNanoseconds
            && lhs.durationMaximumNanoseconds == rhs.durationMaximumNanoseconds && lhs.limit == rhs.limit
    }
}
