import Synchronization
import Tracing

/// A span made by ``OtterTracer``. Recording spans keep their data in shared, lock-protected storage;
/// non-recording (unsampled) spans carry only their context and cost no storage.
///
/// Two references wide, so `any Span` holds it without a heap box.
public struct OtterSpan: Tracing.Span {
    /// The context to run child work in: the parent's context with this span as the current span. An unsampled
    /// span whose parent is unsampled too shares its parent's context: both carry the same trace id and decision.
    public let context: InstrumentationContext
    let storage: RecordingSpanStorage?

    init(context: InstrumentationContext, storage: RecordingSpanStorage?) {
        self.context = context
        self.storage = storage
    }

    /// This span's ids, flags and trace state.
    public var spanContext: OtterSpanContext {
        storage?.spanContext ?? context.otterSpanContext ?? OtterSpanContext(traceID: .invalid, spanID: .invalid)
    }

    /// True until the span ends, if it was sampled for recording.
    public var isRecording: Bool {
        guard let storage else { return false }
        return storage.state.withLock { !$0.isEnded }
    }

    public var operationName: String {
        get { storage?.state.withLock { $0.operationName } ?? "" }
        nonmutating set { storage?.mutate { $0.operationName = newValue } }
    }

    public var attributes: SpanAttributes {
        get { storage?.state.withLock { $0.attributes } ?? [:] }
        nonmutating set { storage?.replaceAttributes(newValue) }
        // `span.attributes[key] = value` changes the stored attributes in place: they are taken out of the
        // storage, changed, and put back, instead of copied, changed and replaced (a copy per attribute). Little
        // stays alive across the `yield`, so the coroutine's frame fits the caller's buffer and is not allocated
        // (`span.attributes` is usually reached through `any Span`).
        nonmutating _modify {
            var attributes = storage?.takeAttributes() ?? SpanAttributes()
            defer { storage?.putBackAttributes(attributes) }
            yield &attributes
        }
    }

    public func setStatus(_ status: SpanStatus) {
        storage?.mutate { state in
            // An OK status is final; an error may not downgrade it (OpenTelemetry span status rules).
            if state.status?.code == .ok { return }
            state.status = status
        }
    }

    public func addEvent(_ event: SpanEvent) {
        storage?.addEvent(event)
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {
        guard let storage else { return }
        var eventAttributes = attributes
        eventAttributes.set("exception.type", value: .string(String(reflecting: type(of: error))))
        eventAttributes.set("exception.message", value: .string(String(describing: error)))
        storage.addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    public func addLink(_ link: SpanLink) {
        guard let storage, let linked = link.context.otterSpanContext, linked.isValid else { return }
        storage.addLink(FinishedSpan.Link(spanContext: linked, attributes: link.attributes))
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        storage?.end(at: instant().nanosecondsSinceEpoch)
    }
}

/// The mutable part of a recording span, shared by every copy of its ``OtterSpan`` and reachable from the
/// contexts it is current in.
final class RecordingSpanStorage: @unchecked Sendable {
    struct State {
        var operationName: String
        var attributes: SpanAttributes
        var events: [SpanEvent] = []
        var links: [FinishedSpan.Link]
        var status: SpanStatus?
        var isEnded = false
        var endTimeNanosecondsSinceEpoch: UInt64 = 0
        var droppedAttributesCount = 0
        var droppedEventsCount = 0
        var droppedLinksCount: Int
    }

    let spanContext: OtterSpanContext
    let kind: SpanKind
    let parentSpanContext: OtterSpanContext?
    let localParentOperationName: String?
    let startTimeNanosecondsSinceEpoch: UInt64
    let pipeline: OtterTracer.Pipeline
    let state: Mutex<State>

    init(
        spanContext: OtterSpanContext,
        operationName: String,
        kind: SpanKind,
        parentSpanContext: OtterSpanContext?,
        localParentOperationName: String?,
        startTimeNanosecondsSinceEpoch: UInt64,
        attributes: SpanAttributes,
        links: [FinishedSpan.Link],
        pipeline: OtterTracer.Pipeline
    ) {
        self.spanContext = spanContext
        self.kind = kind
        self.parentSpanContext = parentSpanContext
        self.localParentOperationName = localParentOperationName
        self.startTimeNanosecondsSinceEpoch = startTimeNanosecondsSinceEpoch
        self.pipeline = pipeline
        let limits = pipeline.limits
        var limitedAttributes = attributes
        let droppedAttributes = limits.apply(to: &limitedAttributes, countLimit: limits.attributeCountLimit)
        var limitedLinks = links
        var droppedLinks = 0
        if links.count > limits.linkCountLimit {
            droppedLinks = links.count - limits.linkCountLimit
            limitedLinks.removeLast(droppedLinks)
        }
        for index in limitedLinks.indices {
            limitedLinks[index].droppedAttributesCount += limits.apply(
                to: &limitedLinks[index].attributes, countLimit: limits.linkAttributeCountLimit)
        }
        var initial = State(
            operationName: operationName, attributes: limitedAttributes, links: limitedLinks,
            droppedLinksCount: droppedLinks)
        initial.droppedAttributesCount = droppedAttributes
        state = Mutex(initial)
    }

    /// Applies `change` unless the span has ended (an ended span never changes).
    @inline(__always)
    func mutate(_ change: (inout State) -> Void) {
        state.withLock { state in
            guard !state.isEnded else { return }
            change(&state)
        }
    }

    /// Takes the attributes out of a span that has not ended, leaving it empty until ``putBackAttributes(_:)``.
    func takeAttributes() -> SpanAttributes? {
        state.withLock { state in
            guard !state.isEnded else { return nil }
            var taken = SpanAttributes()
            swap(&taken, &state.attributes)
            // The first attribute set makes room for a few: one allocation instead of one per growth step.
            if taken.isEmpty { taken = SpanAttributes([String: SpanAttribute](minimumCapacity: 4)) }
            return taken
        }
    }

    /// Puts back attributes taken by ``takeAttributes()``, within the span limits, unless the span has ended
    /// (then its attributes are final, and changes made meanwhile are dropped).
    func putBackAttributes(_ attributes: SpanAttributes) {
        let (attributes, dropped) = withinLimits(attributes)
        mutate { state in
            state.attributes = attributes
            state.droppedAttributesCount += dropped
        }
    }

    func replaceAttributes(_ newValue: SpanAttributes) {
        let (attributes, dropped) = withinLimits(newValue)
        mutate { state in
            state.attributes = attributes
            state.droppedAttributesCount += dropped
        }
    }

    /// The attributes cut to the tracer's count and length limits, and how many were dropped.
    private func withinLimits(_ attributes: SpanAttributes) -> (SpanAttributes, dropped: Int) {
        let limits = pipeline.limits
        var attributes = attributes
        var dropped = 0
        if attributes.count > limits.attributeCountLimit || limits.attributeValueLengthLimit != nil {
            dropped = limits.apply(to: &attributes, countLimit: limits.attributeCountLimit)
        }
        return (attributes, dropped)
    }

    func addEvent(_ event: SpanEvent) {
        let limits = pipeline.limits
        var event = event
        if event.attributes.count > limits.eventAttributeCountLimit || limits.attributeValueLengthLimit != nil {
            _ = limits.apply(to: &event.attributes, countLimit: limits.eventAttributeCountLimit)
        }
        mutate { state in
            if state.events.count >= limits.eventCountLimit {
                state.droppedEventsCount += 1
            } else {
                state.events.append(event)
            }
        }
    }

    func addLink(_ link: FinishedSpan.Link) {
        let limits = pipeline.limits
        var link = link
        link.droppedAttributesCount += limits.apply(to: &link.attributes, countLimit: limits.linkAttributeCountLimit)
        mutate { state in
            if state.links.count >= limits.linkCountLimit {
                state.droppedLinksCount += 1
            } else {
                state.links.append(link)
            }
        }
    }

    func end(at endTimeNanosecondsSinceEpoch: UInt64) {
        let start = startTimeNanosecondsSinceEpoch
        let ended = state.withLock { state -> Bool in
            guard !state.isEnded else { return false }
            state.isEnded = true
            state.endTimeNanosecondsSinceEpoch = max(endTimeNanosecondsSinceEpoch, start)
            return true
        }
        guard ended else { return }
        pipeline.processor.onEnd(ReadOnlySpan(recorded: self))
    }

    /// The span as exporters see it; final once the span has ended (an ended span never changes).
    var finishedSpan: FinishedSpan {
        state.withLock { state in
            FinishedSpan(
                operationName: state.operationName,
                kind: kind,
                spanContext: spanContext,
                parentSpanContext: parentSpanContext,
                localParentOperationName: localParentOperationName,
                startTimeNanosecondsSinceEpoch: startTimeNanosecondsSinceEpoch,
                endTimeNanosecondsSinceEpoch: state.endTimeNanosecondsSinceEpoch,
                attributes: state.attributes,
                events: state.events,
                links: state.links,
                status: state.status,
                droppedAttributesCount: state.droppedAttributesCount,
                droppedEventsCount: state.droppedEventsCount,
                droppedLinksCount: state.droppedLinksCount,
                resource: pipeline.resource,
                instrumentationScope: pipeline.instrumentationScope
            )
        }
    }
}
