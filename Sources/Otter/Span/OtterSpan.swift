import Synchronization
import Tracing

/// A span made by ``OtterTracer``. Recording spans keep their data in shared, lock-protected storage;
/// non-recording (unsampled) spans carry only their context, and drop what is written to them.
///
/// Two references wide, so `any Span` holds it without a heap box.
public struct OtterSpan: Tracing.Span {
    /// The context to run child work in: the parent's context with this span as the current span.
    public let context: InstrumentationContext
    /// The recording span's storage, or for a span that is not recorded, a shared placeholder that has ended (it
    /// drops every write). Not optional: an optional here makes `span.attributes[key] = value` through `any Span`
    /// allocate a coroutine frame for every write.
    let recorded: RecordingSpanStorage

    init(context: InstrumentationContext, storage: RecordingSpanStorage?) {
        self.context = context
        recorded = storage ?? .placeholder
    }

    /// The recording span's storage; nil for a span that is not recorded.
    var storage: RecordingSpanStorage? { recorded.isPlaceholder ? nil : recorded }

    /// This span's ids, flags and trace state.
    public var spanContext: OtterSpanContext {
        storage?.spanContext ?? context.otterSpanContext ?? OtterSpanContext(traceID: .invalid, spanID: .invalid)
    }

    /// True until the span ends, if it was sampled for recording.
    public var isRecording: Bool {
        guard let storage else { return false }
        return storage.state.withLock { !$0.isEnded }
    }

    /// The span's name. Setting it renames a recording span until it ends; a span that is not recorded reads `""` and
    /// ignores the change.
    public var operationName: String {
        get { storage?.state.withLock { $0.operationName } ?? "" }
        nonmutating set { storage?.mutate { $0.operationName = newValue } }
    }

    /// The span's attributes. Every access holds the span's lock only while it copies or stores the dictionary, never
    /// while the caller runs: `span.attributes["key"] = value` changes a copy and commits it (when another change
    /// committed in between, only what this one changed is applied on top of it, so concurrent writers never lose
    /// each other's attributes), and `await f(&span.attributes)` is as safe as any other write. Writes after the
    /// span has ended are dropped. A change that would take the span over its attribute count limit drops the
    /// attributes it adds beyond the limit and counts them.
    public var attributes: SpanAttributes {
        get { recorded.attributes }
        nonmutating set { recorded.commitAttributes(newValue, from: nil) }
        // One `yield`, three references live across it (the storage, the copy, what it was copied from), no closure:
        // the coroutine's frame fits the caller's buffer, so `any Span` does not allocate one for each write.
        nonmutating _modify {
            let storage = recorded
            var attributes = storage.attributes
            let base = attributes
            yield &attributes
            // Not in a `defer`: that would not fit the caller's buffer. So an access that a throw unwinds (`try
            // f(&span.attributes)` where `f` throws) commits nothing, like an aborted transaction.
            storage.commitAttributes(attributes, from: base)
        }
    }

    /// Changes the attributes in one step: `update` works on a copy, outside any lock, which is then committed
    /// as one change (see ``attributes``).
    public func updateAttributes(_ update: (inout SpanAttributes) -> Void) {
        let storage = recorded
        var attributes = storage.attributes
        let base = attributes
        update(&attributes)
        storage.commitAttributes(attributes, from: base)
    }

    /// Sets the span's status, replacing an earlier one, except that an `ok` status is final: once set, later calls
    /// are ignored. Does nothing once the span has ended, or when it is not recorded.
    public func setStatus(_ status: SpanStatus) {
        storage?.mutate { state in
            // An OK status is final; an error may not downgrade it (OpenTelemetry span status rules).
            if state.status?.code == .ok { return }
            state.status = status
        }
    }

    /// Adds an event to the span. When the span already has ``SpanLimits/eventCountLimit`` events the event is
    /// dropped and counted; its attributes are cut to ``SpanLimits/eventAttributeCountLimit``. Does nothing once the span
    /// has ended, or when it is not recorded.
    public func addEvent(_ event: SpanEvent) {
        storage?.addEvent(event)
    }

    /// Records `error` as an `exception` event at `instant`, with the given attributes plus `exception.type` (the
    /// error's type name) and `exception.message` (its description). Does not set the span's status.
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

    /// Links the span to another one. A link whose context holds no valid Otter span context is ignored; past
    /// ``SpanLimits/linkCountLimit`` links it is dropped and counted. Does nothing once the span has ended.
    public func addLink(_ link: SpanLink) {
        guard let storage, let linked = link.context.otterSpanContext, linked.isValid else { return }
        storage.addLink(FinishedSpan.Link(spanContext: linked, attributes: link.attributes))
    }

    /// Ends the span at `instant` (not before its start), cuts attribute values to
    /// ``SpanLimits/attributeValueLengthLimit`` and hands it to the tracer's span processor. A second call does nothing,
    /// nor does a call on a span that is not recorded.
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        storage?.end(at: instant().nanosecondsSinceEpoch)
    }
}
