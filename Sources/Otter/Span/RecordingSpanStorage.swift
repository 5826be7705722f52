import Synchronization
import Tracing

/// The mutable part of a recording span, shared by every copy of its ``OtterSpan`` and reachable from the
/// contexts it is current in. One lock guards it, held only to copy or store values: no caller's code and no
/// suspension ever runs under it.
final class RecordingSpanStorage: Sendable {
    struct State {
        var operationName: String
        var attributes: SpanAttributes
        var droppedAttributesCount: Int
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
    /// True for ``placeholder`` only.
    let isPlaceholder: Bool

    /// What an ``OtterSpan`` that is not recorded holds: it has ended, so it drops every write, and it reads as
    /// empty.
    static let placeholder: RecordingSpanStorage = {
        let pipeline = OtterTracer.Pipeline(
            resource: Resource(attributes: [:]), instrumentationScope: .otter, sampler: AlwaysOffSampler(),
            processor: MultiSpanProcessor([]), propagator: CompositePropagator([]), idGenerator: RandomIDGenerator(seed: 1),
            limits: SpanLimits())
        let storage = RecordingSpanStorage(
            spanContext: OtterSpanContext(traceID: .invalid, spanID: .invalid), operationName: "", kind: .internal,
            parentSpanContext: nil, localParentOperationName: nil, startTimeNanosecondsSinceEpoch: 0, attributes: [:],
            links: [], pipeline: pipeline, isPlaceholder: true)
        storage.state.withLock { $0.isEnded = true }
        return storage
    }()

    init(
        spanContext: OtterSpanContext,
        operationName: String,
        kind: SpanKind,
        parentSpanContext: OtterSpanContext?,
        localParentOperationName: String?,
        startTimeNanosecondsSinceEpoch: UInt64,
        attributes: SpanAttributes,
        links: [FinishedSpan.Link],
        pipeline: OtterTracer.Pipeline,
        isPlaceholder: Bool = false
    ) {
        self.isPlaceholder = isPlaceholder
        self.spanContext = spanContext
        self.kind = kind
        self.parentSpanContext = parentSpanContext
        self.localParentOperationName = localParentOperationName
        self.startTimeNanosecondsSinceEpoch = startTimeNanosecondsSinceEpoch
        self.pipeline = pipeline
        let limits = pipeline.limits
        var limitedAttributes = attributes
        let droppedAttributes = limits.limitCount(of: &limitedAttributes, to: limits.attributeCountLimit)
        var limitedLinks = links
        var droppedLinks = 0
        if links.count > max(0, limits.linkCountLimit) {
            droppedLinks = links.count - max(0, limits.linkCountLimit)
            limitedLinks.removeLast(droppedLinks)
        }
        for index in limitedLinks.indices {
            limitedLinks[index].droppedAttributesCount += limits.apply(
                to: &limitedLinks[index].attributes, countLimit: limits.linkAttributeCountLimit)
        }
        state = Mutex(
            State(
                operationName: operationName, attributes: limitedAttributes, droppedAttributesCount: droppedAttributes,
                links: limitedLinks, droppedLinksCount: droppedLinks))
    }

    /// Applies `change` unless the span has ended (an ended span never changes).
    @inline(__always)
    func mutate(_ change: (inout State) -> Void) {
        state.withLock { state in
            guard !state.isEnded else { return }
            change(&state)
        }
    }

    /// The attributes as last committed.
    var attributes: SpanAttributes {
        @inline(never) get { isPlaceholder ? [:] : state.withLock { $0.attributes } }
    }

    /// Stores `attributes`, a changed copy of `base` (nil: a replacement of every attribute). When another change
    /// was committed since `base` was read, only what this change did to `base` is applied on top of it. Dropped
    /// once the span has ended. A change that takes the span over its count limit loses what it added beyond it.
    @inline(never)
    func commitAttributes(_ changed: SpanAttributes, from base: SpanAttributes?) {
        guard !isPlaceholder else { return }
        var attributes = changed
        let countLimit = pipeline.limits.attributeCountLimit
        var dropped = 0
        if attributes.count > countLimit {
            dropped = Self.dropAdded(from: &attributes, comparedWith: base, limit: countLimit)
        }
        // The replaced dictionary is released after the lock: releasing a value can run a deinit.
        var replaced = SpanAttributes()
        let committed = state.withLock { state -> Bool in
            guard !state.isEnded else { return true }
            // `base` still holds what it was read from, so the same storage means no other change came between.
            guard base.map({ state.attributes.isIdentical(to: $0) }) ?? true else { return false }
            replaced = state.attributes
            state.attributes = attributes
            state.droppedAttributesCount += dropped
            return true
        }
        _ = replaced
        guard !committed, let base else { return }
        // Compared outside the lock (comparing a `stringConvertible` value calls its `description`), from the change
        // as made: applying it enforces the count limit against the newer attributes, and counts what it drops.
        let difference = AttributeDifference(from: base, to: changed)
        state.withLock { state in
            guard !state.isEnded else { return }
            state.droppedAttributesCount += difference.apply(to: &state.attributes, countLimit: countLimit)
        }
    }

    /// Removes what a change added beyond `limit` attributes (names not in `base`, the last in name order first);
    /// returns how many were removed. Runs only when a change goes over the limit.
    static func dropAdded(from attributes: inout SpanAttributes, comparedWith base: SpanAttributes?, limit: Int) -> Int {
        var added: [String] = []
        attributes.forEach { name, _ in
            if base?.get(name) == nil { added.append(name) }
        }
        let excess = min(attributes.count - max(0, limit), added.count)
        guard excess > 0 else { return 0 }
        for name in added.sorted().suffix(excess) { attributes.set(name, value: nil) }
        return excess
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
        let attributes = state.withLock { state -> SpanAttributes? in
            guard !state.isEnded else { return nil }
            state.isEnded = true
            state.endTimeNanosecondsSinceEpoch = max(endTimeNanosecondsSinceEpoch, start)
            return state.attributes
        }
        guard let attributes else { return }
        if let lengthLimit = pipeline.limits.attributeValueLengthLimit {
            // Once, at the end, outside the lock (a value's `description` is the caller's code).
            var truncated = attributes
            SpanLimits.truncateValues(of: &truncated, to: lengthLimit)
            state.withLock { $0.attributes = truncated }
        }
        pipeline.processor.onEnd(ReadOnlySpan(recorded: self))
    }

    /// The span as exporters see it; final once the span has ended (an ended span never changes).
    var finishedSpan: FinishedSpan {
        state.withLock { state in
            var span = FinishedSpan(
                operationName: state.operationName,
                kind: kind,
                spanContext: spanContext,
                parentSpanContext: parentSpanContext,
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
            span.localParentOperationName = localParentOperationName
            return span
        }
    }
}

/// What one attribute change did to what it began from: values set and names removed, to apply on top of a change
/// committed in the meantime.
struct AttributeDifference {
    private var set: [(String, SpanAttribute)] = []
    private var removed: [String] = []

    init(from base: SpanAttributes, to changed: SpanAttributes) {
        changed.forEach { name, value in
            if base.get(name) != value { set.append((name, value)) }
        }
        base.forEach { name, _ in
            if changed.get(name) == nil { removed.append(name) }
        }
    }

    /// Applies the difference; a name it adds while `attributes` is at `countLimit` is dropped. Returns how many
    /// were dropped.
    func apply(to attributes: inout SpanAttributes, countLimit: Int) -> Int {
        for name in removed { attributes.set(name, value: nil) }
        var dropped = 0
        for (name, value) in set {
            if attributes.get(name) == nil, attributes.count >= countLimit {
                dropped += 1
            } else {
                attributes.set(name, value: value)
            }
        }
        return dropped
    }
}

extension SpanAttributes {
    /// Whether both are the same value: the same dictionary storage, not equal contents (no value is compared).
    func isIdentical(to other: SpanAttributes) -> Bool {
        withUnsafeBytes(of: self) { mine in withUnsafeBytes(of: other) { theirs in mine.elementsEqual(theirs) } }
    }
}
