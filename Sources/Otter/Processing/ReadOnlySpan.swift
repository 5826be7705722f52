import Tracing

/// An ended span as span processors see it: a reference to the span's own data, read without copying.
///
/// Every processor gets the same value (a ``MultiSpanProcessor`` hands one reference to each), so ending a
/// span costs the same whatever the processors. ``finishedSpan`` makes the exporters' value when it is needed,
/// typically on an exporting task rather than on the code that ended the span. An ended span never changes,
/// so every read gives the same answer.
public struct ReadOnlySpan: Sendable {
    enum Source: Sendable {
        case recorded(RecordingSpanStorage)
        case finished(FinishedSpanBox)
    }

    let source: Source

    init(recorded storage: RecordingSpanStorage) {
        source = .recorded(storage)
    }

    /// A span recorded elsewhere (replayed, or made in a test), for a processor's `onEnd`.
    public init(_ finishedSpan: FinishedSpan) {
        source = .finished(FinishedSpanBox(finishedSpan))
    }

    /// The span's ids, flags and trace state.
    public var spanContext: OtterSpanContext {
        switch source {
        case .recorded(let storage): storage.spanContext
        case .finished(let box): box.finishedSpan.spanContext
        }
    }

    /// True when the span was sampled: exporters receive only sampled spans.
    public var isSampled: Bool { spanContext.isSampled }

    public var kind: SpanKind {
        switch source {
        case .recorded(let storage): storage.kind
        case .finished(let box): box.finishedSpan.kind
        }
    }

    /// The parent's context, nil for a root span.
    public var parentSpanContext: OtterSpanContext? {
        switch source {
        case .recorded(let storage): storage.parentSpanContext
        case .finished(let box): box.finishedSpan.parentSpanContext
        }
    }

    public var operationName: String {
        switch source {
        case .recorded(let storage): storage.state.withLock { $0.operationName }
        case .finished(let box): box.finishedSpan.operationName
        }
    }

    public var attributes: SpanAttributes {
        switch source {
        case .recorded(let storage): storage.attributes
        case .finished(let box): box.finishedSpan.attributes
        }
    }

    /// The status set on the span; nil means unset.
    public var status: SpanStatus? {
        switch source {
        case .recorded(let storage): storage.state.withLock { $0.status }
        case .finished(let box): box.finishedSpan.status
        }
    }

    public var startTimeNanosecondsSinceEpoch: UInt64 {
        switch source {
        case .recorded(let storage): storage.startTimeNanosecondsSinceEpoch
        case .finished(let box): box.finishedSpan.startTimeNanosecondsSinceEpoch
        }
    }

    public var endTimeNanosecondsSinceEpoch: UInt64 {
        switch source {
        case .recorded(let storage): storage.state.withLock { $0.endTimeNanosecondsSinceEpoch }
        case .finished(let box): box.finishedSpan.endTimeNanosecondsSinceEpoch
        }
    }

    /// End minus start, zero if the clock went backwards.
    public var durationNanoseconds: UInt64 {
        let (start, end) = (startTimeNanosecondsSinceEpoch, endTimeNanosecondsSinceEpoch)
        return end >= start ? end - start : 0
    }

    public var events: [SpanEvent] {
        switch source {
        case .recorded(let storage): storage.state.withLock { $0.events }
        case .finished(let box): box.finishedSpan.events
        }
    }

    public var links: [FinishedSpan.Link] {
        switch source {
        case .recorded(let storage): storage.state.withLock { $0.links }
        case .finished(let box): box.finishedSpan.links
        }
    }

    public var resource: Resource {
        switch source {
        case .recorded(let storage): storage.pipeline.resource
        case .finished(let box): box.finishedSpan.resource
        }
    }

    public var instrumentationScope: InstrumentationScope {
        switch source {
        case .recorded(let storage): storage.pipeline.instrumentationScope
        case .finished(let box): box.finishedSpan.instrumentationScope
        }
    }

    /// The span with everything it recorded, its resource and its instrumentation scope: what exporters take.
    public var finishedSpan: FinishedSpan {
        switch source {
        case .recorded(let storage): storage.finishedSpan
        case .finished(let box): box.finishedSpan
        }
    }
}

/// A ``FinishedSpan`` made outside the tracer, boxed so that a ``ReadOnlySpan`` stays one reference wide.
final class FinishedSpanBox: Sendable {
    let finishedSpan: FinishedSpan

    init(_ finishedSpan: FinishedSpan) {
        self.finishedSpan = finishedSpan
    }
}
