import Tracing

/// An ended span: the one immutable value that processors, exporters, the OTLP mapping and the viewer's store
/// all start from.
public struct FinishedSpan: Sendable {
    /// A link from this span to another span's context.
    public struct Link: Sendable, Equatable {
        /// The linked span's context; the tracer keeps only links to valid contexts.
        public var spanContext: OtterSpanContext
        /// Attributes describing the link, at most ``SpanLimits/linkAttributeCountLimit`` of them.
        public var attributes: SpanAttributes
        /// How many of the link's attributes were dropped by ``SpanLimits/linkAttributeCountLimit``.
        public var droppedAttributesCount: Int

        /// Makes a link; nothing is checked or limited here.
        public init(spanContext: OtterSpanContext, attributes: SpanAttributes = [:], droppedAttributesCount: Int = 0) {
            self.spanContext = spanContext
            self.attributes = attributes
            self.droppedAttributesCount = droppedAttributesCount
        }
    }

    /// The span's name as it was when the span ended.
    public var operationName: String
    /// The span's kind: internal, server, client, producer or consumer.
    public var kind: SpanKind
    /// The span's own ids, flags and trace state.
    public var spanContext: OtterSpanContext
    /// The parent's context, nil for a root span. `isRemote` tells whether the parent was in another process.
    public var parentSpanContext: OtterSpanContext?
    /// The parent's operation name when the parent was recorded in this process: the console exporter prints it.
    package var localParentOperationName: String?
    /// When the span started, in nanoseconds since 1970-01-01 00:00 UTC.
    public var startTimeNanosecondsSinceEpoch: UInt64
    /// When the span ended, in nanoseconds since 1970-01-01 00:00 UTC; the tracer never ends a span before its start.
    public var endTimeNanosecondsSinceEpoch: UInt64
    /// The span's attributes, within ``SpanLimits/attributeCountLimit`` and with string values cut to
    /// ``SpanLimits/attributeValueLengthLimit`` when one is set.
    public var attributes: SpanAttributes
    /// The span's events in the order they were added, at most ``SpanLimits/eventCountLimit``.
    public var events: [SpanEvent]
    /// The span's links: those given at start first, then those added, at most ``SpanLimits/linkCountLimit``.
    public var links: [Link]
    /// The status set on the span; nil means unset.
    public var status: SpanStatus?
    /// How many attributes the span lost to ``SpanLimits/attributeCountLimit``.
    public var droppedAttributesCount: Int
    /// How many events were not kept because the span already had ``SpanLimits/eventCountLimit``.
    public var droppedEventsCount: Int
    /// How many links were not kept because the span already had ``SpanLimits/linkCountLimit``.
    public var droppedLinksCount: Int
    /// The resource of the tracer that made the span.
    public var resource: Resource
    /// The instrumentation scope of the tracer that made the span.
    public var instrumentationScope: InstrumentationScope

    /// Makes a finished span from its parts, for tests, replays and custom exporters; nothing is checked or limited.
    /// Defaults describe a root span with nothing recorded, an empty resource and the `otter` scope.
    public init(
        operationName: String,
        kind: SpanKind,
        spanContext: OtterSpanContext,
        parentSpanContext: OtterSpanContext? = nil,
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
        self.localParentOperationName = nil
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
