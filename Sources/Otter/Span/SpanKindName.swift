import Tracing

/// A span kind by name: lowercase as the Jaeger API, the viewer and the console's `line` style write it, and the one
/// place span kinds are named (OTLP's enum in OtterOTLP, Python's `SpanKind.SERVER` by ``consoleText``).
package enum SpanKindName: String, Sendable, CaseIterable {
    case server, client, producer, consumer, `internal`

    /// The name of a swift-distributed-tracing kind.
    package init(_ kind: SpanKind) {
        switch kind {
        case .server: self = .server
        case .client: self = .client
        case .producer: self = .producer
        case .consumer: self = .consumer
        case .internal: self = .internal
        }
    }

    /// As opentelemetry-python prints it: `SpanKind.SERVER`.
    package var consoleText: String { "SpanKind.\(rawValue.uppercased())" }

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
