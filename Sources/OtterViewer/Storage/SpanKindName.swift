import OtterOTLP
import Tracing

/// A span kind as the Jaeger API names it.
package enum SpanKindName: String, Sendable, CaseIterable {
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

    /// The OTLP kind of this name.
    var otlpKind: Opentelemetry_Proto_Trace_V1_Span.SpanKind {
        switch self {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        case .internal: .internal
        }
    }

    /// The name of a swift-distributed-tracing kind.
    package init(_ kind: SpanKind) {
        self = SpanKindName(OTLPMapping.kind(kind)) ?? .internal
    }

    /// The swift-distributed-tracing kind of this name.
    package var spanKind: SpanKind {
        switch self {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        case .internal: .internal
        }
    }
}

extension TraceReader {
    /// ``TraceReader/operations(service:)`` with each kind as the Jaeger API names it.
    package func operationsWithKindNames(service: String) async throws -> [(name: String, kind: SpanKindName)] {
        try await operations(service: service).map { ($0.name, SpanKindName($0.kind)) }
    }
}
