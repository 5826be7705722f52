import Synchronization
import Tracing

/// A span made by ``OtterTracer``. Recording spans keep their data in shared, lock-protected storage;
/// non-recording (unsampled) spans carry their context and a cell that drops attribute writes.
///
/// Two references wide, so `any Span` holds it without a heap box.
public struct OtterSpan: Tracing.Span {
    /// The context to run child work in: the parent's context with this span as the current span. An unsampled
    /// span whose parent is unsampled too shares its parent's context: both carry the same trace id and decision.
    public let context: InstrumentationContext
    /// The recording span's storage, or a frozen cell that drops attribute writes.
    let cell: SpanAttributeCell

    init(context: InstrumentationContext, storage: RecordingSpanStorage?) {
        self.context = context
        cell = storage ?? SpanAttributeCell(attributes: [:], frozen: true)
    }

    /// The recording span's storage; nil for a span that is not recorded.
    var storage: RecordingSpanStorage? {
        cell is RecordingSpanStorage ? unsafeDowncast(cell, to: RecordingSpanStorage.self) : nil
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
        get { cell.attributes }
        nonmutating set { cell.replaceAttributes(newValue) }
        // `span.attributes[key] = value` changes the stored attributes in place, under the cell's lock. One path
        // and one reference alive across the `yield`: the coroutine's frame fits the caller's buffer, so it is not
        // allocated (`span.attributes` is usually reached through `any Span`).
        @inline(__always) nonmutating _modify {
            cell.beginChange()
            defer { cell.endChange() }
            yield &cell.liveAttributes
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
final class RecordingSpanStorage: SpanAttributeCell, @unchecked Sendable {
    struct State {
        var operationName: String
        var events: [SpanEvent] = []
        var links: [FinishedSpan.Link]
        var status: SpanStatus?
        var isEnded = false
        var endTimeNanosecondsSinceEpoch: UInt64 = 0
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
        state = Mutex(State(operationName: operationName, links: limitedLinks, droppedLinksCount: droppedLinks))
        super.init(attributes: limitedAttributes, frozen: false)
        droppedAttributesCount = droppedAttributes
    }

    /// Applies `change` unless the span has ended (an ended span never changes).
    @inline(__always)
    func mutate(_ change: (inout State) -> Void) {
        state.withLock { state in
            guard !state.isEnded else { return }
            change(&state)
        }
    }

    override func limitAttributes(_ attributes: inout SpanAttributes) -> Int {
        let limits = pipeline.limits
        guard attributes.count > limits.attributeCountLimit || limits.attributeValueLengthLimit != nil else { return 0 }
        return limits.apply(to: &attributes, countLimit: limits.attributeCountLimit)
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
        freeze()
        pipeline.processor.onEnd(ReadOnlySpan(recorded: self))
    }

    /// The span as exporters see it; final once the span has ended (an ended span never changes).
    var finishedSpan: FinishedSpan {
        let (attributes, droppedAttributesCount) = frozenAttributes
        return state.withLock { state in
            FinishedSpan(
                operationName: state.operationName,
                kind: kind,
                spanContext: spanContext,
                parentSpanContext: parentSpanContext,
                localParentOperationName: localParentOperationName,
                startTimeNanosecondsSinceEpoch: startTimeNanosecondsSinceEpoch,
                endTimeNanosecondsSinceEpoch: state.endTimeNanosecondsSinceEpoch,
                attributes: attributes,
                events: state.events,
                links: state.links,
                status: state.status,
                droppedAttributesCount: droppedAttributesCount,
                droppedEventsCount: state.droppedEventsCount,
                droppedLinksCount: state.droppedLinksCount,
                resource: pipeline.resource,
                instrumentationScope: pipeline.instrumentationScope
            )
        }
    }
}
