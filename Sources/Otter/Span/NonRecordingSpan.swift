import Tracing

/// What `withSpan` and other users of `any Span` get for a span that is not recorded: its context only, like
/// swift-distributed-tracing's `NoOpSpan`, so setting attributes on it costs what it costs with no tracer at all
/// (an ``OtterSpan``'s in-place attribute access needs a coroutine frame that `any Span` allocates).
struct NonRecordingSpan: Tracing.Span {
    let context: InstrumentationContext

    var isRecording: Bool { false }

    var operationName: String {
        get { "" }
        nonmutating set {}
    }

    var attributes: SpanAttributes {
        get { [:] }
        nonmutating set {}
    }

    func setStatus(_ status: SpanStatus) {}

    func addEvent(_ event: SpanEvent) {}

    func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {}

    func addLink(_ link: SpanLink) {}

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {}
}
