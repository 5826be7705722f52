import Otter
import Tracing

extension TraceReader {
    /// ``TraceReader/operations(service:)`` with each kind as the Jaeger API names it.
    package func operationsWithKindNames(service: String) async throws -> [(name: String, kind: SpanKindName)] {
        try await operations(service: service).map { ($0.name, SpanKindName($0.kind)) }
    }
}
