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

    /// Reads a value from the tracer's own storage, or from a span made elsewhere.
    @inline(__always)
    private func read<Value>(
        _ recorded: (RecordingSpanStorage) -> Value, _ finished: (FinishedSpan) -> Value
    ) -> Value {
        switch source {
        case .recorded(let storage): recorded(storage)
        case .finished(let box): finished(box.finishedSpan)
        }
    }

    /// The span's ids, flags and trace state.
    public var spanContext: OtterSpanContext { read({ $0.spanContext }, { $0.spanContext }) }

    /// True when the span was sampled: exporters receive only sampled spans.
    public var isSampled: Bool { spanContext.isSampled }

    /// The span's kind: internal, server, client, producer or consumer.
    public var kind: SpanKind { read({ $0.kind }, { $0.kind }) }

    /// The parent's context, nil for a root span.
    public var parentSpanContext: OtterSpanContext? { read({ $0.parentSpanContext }, { $0.parentSpanContext }) }

    /// The span's name as it was when the span ended.
    public var operationName: String {
        read({ $0.state.withLock { $0.operationName } }, { $0.operationName })
    }

    /// The span's attributes, with the span limits applied.
    public var attributes: SpanAttributes { read({ $0.attributes }, { $0.attributes }) }

    /// The status set on the span; nil means unset.
    public var status: SpanStatus? { read({ $0.state.withLock { $0.status } }, { $0.status }) }

    /// When the span started, in nanoseconds since 1970-01-01 00:00 UTC.
    public var startTimeNanosecondsSinceEpoch: UInt64 {
        read({ $0.startTimeNanosecondsSinceEpoch }, { $0.startTimeNanosecondsSinceEpoch })
    }

    /// When the span ended, in nanoseconds since 1970-01-01 00:00 UTC.
    public var endTimeNanosecondsSinceEpoch: UInt64 {
        read({ $0.state.withLock { $0.endTimeNanosecondsSinceEpoch } }, { $0.endTimeNanosecondsSinceEpoch })
    }

    /// End minus start, zero if the clock went backwards.
    public var durationNanoseconds: UInt64 {
        let (start, end) = (startTimeNanosecondsSinceEpoch, endTimeNanosecondsSinceEpoch)
        return end >= start ? end - start : 0
    }

    /// The span's events in the order they were added; copies the array.
    public var events: [SpanEvent] { read({ $0.state.withLock { $0.events } }, { $0.events }) }

    /// The span's links; copies the array.
    public var links: [FinishedSpan.Link] { read({ $0.state.withLock { $0.links } }, { $0.links }) }

    /// The resource of the tracer that made the span.
    public var resource: Resource { read({ $0.pipeline.resource }, { $0.resource }) }

    /// The instrumentation scope of the tracer that made the span.
    public var instrumentationScope: InstrumentationScope {
        read({ $0.pipeline.instrumentationScope }, { $0.instrumentationScope })
    }

    /// The span with everything it recorded, its resource and its instrumentation scope: what exporters take.
    public var finishedSpan: FinishedSpan { read({ $0.finishedSpan }, { $0 }) }
}

/// A ``FinishedSpan`` made outside the tracer, boxed so that a ``ReadOnlySpan`` stays one reference wide.
final class FinishedSpanBox: Sendable {
    let finishedSpan: FinishedSpan

    init(_ finishedSpan: FinishedSpan) {
        self.finishedSpan = finishedSpan
    }
}
