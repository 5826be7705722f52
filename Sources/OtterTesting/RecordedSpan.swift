import Otter
import Testing
import Tracing

/// One span of a ``RecordedTrace``, with its place in the tree: ``parent``, ``children``, ``descendants``.
/// Two values are equal when they are the same span of the same recording.
public struct RecordedSpan: Sendable {
    let storage: RecordedTrace.Storage
    let index: Int

    /// The span as the exporters see it.
    public var finishedSpan: FinishedSpan { storage.spans[index] }

    /// The span's operation name.
    public var name: String { finishedSpan.operationName }
    /// The span's kind: internal, server, client, producer or consumer.
    public var kind: SpanKind { finishedSpan.kind }
    /// The span's attributes, as the span limits left them.
    public var attributes: SpanAttributes { finishedSpan.attributes }
    /// The span's events, in the order they were added.
    public var events: [SpanEvent] { finishedSpan.events }
    /// The span's links to other spans.
    public var links: [FinishedSpan.Link] { finishedSpan.links }
    /// The status set on the span; nil when none was set.
    public var status: SpanStatus? { finishedSpan.status }
    /// True when the span's status is an error.
    public var isError: Bool { status?.code == .error }
    /// The id of the span's trace.
    public var traceID: TraceID { finishedSpan.spanContext.traceID }
    /// The span's own id.
    public var spanID: SpanID { finishedSpan.spanContext.spanID }
    /// How long the span ran; zero when its end is before its start.
    public var duration: Duration { .nanoseconds(Int64(clamping: finishedSpan.durationNanoseconds)) }
    /// The `service.name` of the span's resource; nil when the resource has none.
    public var serviceName: String? { finishedSpan.resource.serviceName }

    /// The value of attribute `key`, compared easily: `span.attribute("order.id") == "A-1001"`.
    public func attribute(_ key: String) -> SpanAttribute? { finishedSpan.attributes.get(key) }

    /// The recorded parent; nil for a root, or when the parent is in another process or was not recorded
    /// (``hasRemoteParent`` tells which).
    public var parent: RecordedSpan? { storage.parents[index].map { RecordedSpan(storage: storage, index: $0) } }

    /// Whether the span's parent came from another process (through `traceparent`).
    public var hasRemoteParent: Bool { finishedSpan.parentSpanContext?.isRemote ?? false }

    /// Direct children, by start time.
    public var children: [RecordedSpan] { storage.children[index].map { RecordedSpan(storage: storage, index: $0) } }

    /// The first direct child named `name`.
    public func child(_ name: String) -> RecordedSpan? { children.first { $0.name == name } }

    /// Every span below this one, depth first.
    public var descendants: [RecordedSpan] {
        var result: [RecordedSpan] = []
        var next = index + 1
        while next < storage.spans.count, storage.depths[next] > storage.depths[index] {
            result.append(RecordedSpan(storage: storage, index: next))
            next += 1
        }
        return result
    }

    /// The first span below this one named `name`, at any depth.
    public func descendant(_ name: String) -> RecordedSpan? { descendants.first { $0.name == name } }

    /// Spans from the root down to this one's parent, root first.
    public var ancestors: [RecordedSpan] {
        var chain: [RecordedSpan] = []
        var current = parent
        while let span = current {
            chain.append(span)
            current = span.parent
        }
        return chain.reversed()
    }

    /// The log records written while this span was the active one, in time order.
    public var logs: [OtterLogRecord] { storage.logs.filter { $0.spanContext?.spanID == spanID && $0.spanContext?.traceID == traceID } }

    /// The first event named `name`.
    public func event(_ name: String) -> SpanEvent? { events.first { $0.name == name } }

    /// The names of the span's events, in order.
    public var eventNames: [String] { events.map(\.name) }

    /// This span and its descendants as a tree.
    public var tree: String {
        ConsoleSpanExporter.tree(for: [finishedSpan] + descendants.map(\.finishedSpan), maximumLines: .max, logs: storage.logs).text
    }
}

extension RecordedSpan: Equatable {
    /// True when both are the same span of the same recording; equal spans of two recordings differ.
    public static func == (lhs: RecordedSpan, rhs: RecordedSpan) -> Bool {
        lhs.storage === rhs.storage && lhs.index == rhs.index
    }
}

extension RecordedSpan: CustomStringConvertible, CustomTestStringConvertible {
    /// The name, the kind in brackets and `ERROR` for an error status: `GET /orders [server] ERROR`.
    public var description: String {
        let kind = "\(kind)".lowercased()
        return "\(name) [\(kind)]" + (isError ? " ERROR" : "")
    }
    /// The same as ``description``, for Swift Testing's failure messages.
    public var testDescription: String { description }
}
