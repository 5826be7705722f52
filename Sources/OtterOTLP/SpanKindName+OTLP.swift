import Otter

extension SpanKindName {
    /// The name of an OTLP kind; nil for SPAN_KIND_UNSPECIFIED (and unknown values), which Jaeger shows without a
    /// `span.kind` tag.
    package init?(_ kind: Opentelemetry_Proto_Trace_V1_Span.SpanKind) {
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
    package var otlpKind: Opentelemetry_Proto_Trace_V1_Span.SpanKind {
        switch self {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        case .internal: .internal
        }
    }

}
