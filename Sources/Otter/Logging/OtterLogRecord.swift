/// An emitted log record: the one immutable value that log record processors and exporters work with, as
/// ``FinishedSpan`` is for spans.
public struct OtterLogRecord: Sendable, Equatable {
    /// When the event happened.
    public var timeNanosecondsSinceEpoch: UInt64
    /// When the SDK saw it (the same for records made by ``OtterLogHandler``).
    public var observedTimeNanosecondsSinceEpoch: UInt64
    /// How severe the event is, as an OpenTelemetry severity number.
    public var severity: LogSeverity
    /// The severity as the source names it (swift-log's level: `info`, `warning`, …).
    public var severityText: String
    /// The message.
    public var body: LogValue
    /// The record's attributes by name, with the emitter's limits applied: ``OtterLogHandler`` puts the logger's
    /// metadata, the call site (`code.*`) and an attached error (`exception.*`) here.
    public var attributes: [String: LogValue]
    /// Attributes left out by the attribute count limit.
    public var droppedAttributesCount: Int
    /// The span active where the record was made (its trace id, span id and flags); nil outside any span.
    public var spanContext: OtterSpanContext?
    /// The resource of the emitter that made the record.
    public var resource: Resource
    /// The logger that made it (for swift-log: the logger's label).
    public var instrumentationScope: InstrumentationScope

    /// Makes a record from its parts, for tests, replays and custom emitters. The observed time defaults to the time,
    /// the severity text to the severity's short name; no limit is applied until ``OtterLogEmitter/emit(_:)``.
    public init(
        timeNanosecondsSinceEpoch: UInt64,
        observedTimeNanosecondsSinceEpoch: UInt64? = nil,
        severity: LogSeverity,
        severityText: String? = nil,
        body: LogValue,
        attributes: [String: LogValue] = [:],
        droppedAttributesCount: Int = 0,
        spanContext: OtterSpanContext? = nil,
        resource: Resource = Resource(),
        instrumentationScope: InstrumentationScope = .otter
    ) {
        self.timeNanosecondsSinceEpoch = timeNanosecondsSinceEpoch
        self.observedTimeNanosecondsSinceEpoch = observedTimeNanosecondsSinceEpoch ?? timeNanosecondsSinceEpoch
        self.severity = severity
        self.severityText = severityText ?? severity.name
        self.body = body
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
        self.spanContext = spanContext
        self.resource = resource
        self.instrumentationScope = instrumentationScope
    }
}
