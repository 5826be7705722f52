import Tracing

/// An ended span: the one immutable value that processors, exporters, the OTLP mapping and the viewer's store
/// all start from.
public struct FinishedSpan: Sendable {
    /// A link from this span to another span's context.
    public struct Link: Sendable, Equatable {
        public var spanContext: OtterSpanContext
        public var attributes: SpanAttributes
        public var droppedAttributesCount: Int

        public init(spanContext: OtterSpanContext, attributes: SpanAttributes = [:], droppedAttributesCount: Int = 0) {
            self.spanContext = spanContext
            self.attributes = attributes
            self.droppedAttributesCount = droppedAttributesCount
        }
    }

    public var operationName: String
    public var kind: SpanKind
    public var spanContext: OtterSpanContext
    /// The parent's context, nil for a root span. `isRemote` tells whether the parent was in another process.
    public var parentSpanContext: OtterSpanContext?
    /// The parent's operation name when the parent was recorded in this process (for console output only).
    public var localParentOperationName: String?
    public var startTimeNanosecondsSinceEpoch: UInt64
    public var endTimeNanosecondsSinceEpoch: UInt64
    public var attributes: SpanAttributes
    public var events: [SpanEvent]
    public var links: [Link]
    /// The status set on the span; nil means unset.
    public var status: SpanStatus?
    public var droppedAttributesCount: Int
    public var droppedEventsCount: Int
    public var droppedLinksCount: Int
    public var resource: Resource
    public var instrumentationScope: InstrumentationScope

    public init(
        operationName: String,
        kind: SpanKind,
        spanContext: OtterSpanContext,
        parentSpanContext: OtterSpanContext? = nil,
        localParentOperationName: String? = nil,
        startTimeNanosecondsSinceEpoch: UInt64,
        endTimeNanosecondsSinceEpoch: UInt64,
        attributes: SpanAttributes = [:],
        events: [SpanEvent] = [],
        links: [Link] = [],
        status: SpanStatus? = nil,
        droppedAttributesCount: Int = 0,
        droppedEventsCount: Int = 0,
        droppedLinksCount: Int = 0,
        resource: Resource = Resource(),
        instrumentationScope: InstrumentationScope = .otter
    ) {
        self.operationName = operationName
        self.kind = kind
        self.spanContext = spanContext
        self.parentSpanContext = parentSpanContext
        self.localParentOperationName = localParentOperationName
        self.startTimeNanosecondsSinceEpoch = startTimeNanosecondsSinceEpoch
        self.endTimeNanosecondsSinceEpoch = endTimeNanosecondsSinceEpoch
        self.attributes = attributes
        self.events = events
        self.links = links
        self.status = status
        self.droppedAttributesCount = droppedAttributesCount
        self.droppedEventsCount = droppedEventsCount
        self.droppedLinksCount = droppedLinksCount
        self.resource = resource
        self.instrumentationScope = instrumentationScope
    }

    /// End minus start, zero if the clock went backwards.
    public var durationNanoseconds: UInt64 {
        endTimeNanosecondsSinceEpoch >= startTimeNanosecondsSinceEpoch
            ? endTimeNanosecondsSinceEpoch - startTimeNanosecondsSinceEpoch : 0
    }
}
