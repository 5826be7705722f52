import Logging
import Tracing

/// Makes log records out of swift-log calls and hands them to a processor: the resource, limits and processor that
/// every ``OtterLogHandler`` of a process shares (OpenTelemetry's logger provider).
public final class OtterLogEmitter: Sendable {
    /// The resource every record reports (service name, host, process and the like).
    public let resource: Resource
    /// Receives every record ``emit(_:)`` emits, once the limits are applied.
    public let processor: any LogRecordProcessor
    /// Most attributes on one record (`OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT`, 128); more are dropped and counted.
    public let attributeCountLimit: Int
    /// Longest string attribute value, in characters (`OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT`); nil: no limit.
    public let attributeValueLengthLimit: Int?

    /// Makes an emitter that sends records to `processor`. Negative limits count as 0; `attributeValueLengthLimit` nil
    /// leaves values whole. Nothing is global: bootstrap swift-log with ``makeLogHandler(label:metadataProvider:)``.
    public init(
        resource: Resource, processor: any LogRecordProcessor, attributeCountLimit: Int = 128,
        attributeValueLengthLimit: Int? = nil
    ) {
        self.resource = resource
        self.processor = processor
        self.attributeCountLimit = max(0, attributeCountLimit)
        self.attributeValueLengthLimit = attributeValueLengthLimit.map { max(0, $0) }
    }

    /// False when records go nowhere (no log exporter configured): ``Otter/bootstrap(_:bootstrapsLogging:alsoLogTo:)``
    /// then leaves swift-log as it is.
    public var exportsSomewhere: Bool {
        guard let multi = processor as? MultiLogRecordProcessor else { return true }
        return !multi.processors.isEmpty
    }

    /// A handler for `LoggingSystem.bootstrap`: `LoggingSystem.bootstrap(emitter.makeLogHandler)`.
    public func makeLogHandler(label: String, metadataProvider: Logger.MetadataProvider?) -> OtterLogHandler {
        OtterLogHandler(label: label, emitter: self, metadataProvider: metadataProvider)
    }

    /// Emits one record; `attributes` are applied the limits first.
    public func emit(_ record: OtterLogRecord) {
        var record = record
        applyLimits(to: &record)
        processor.onEmit(record)
    }

    private func applyLimits(to record: inout OtterLogRecord) {
        if record.attributes.count > attributeCountLimit {
            // Deterministic: the application's names last in order go first; the call site and error attributes the
            // handler adds (`code.*`, `exception.*`) go last.
            func isSDKAttribute(_ name: String) -> Bool { name.hasPrefix("code.") || name.hasPrefix("exception.") }
            let byDropOrder = record.attributes.keys.sorted { lhs, rhs in
                isSDKAttribute(lhs) != isSDKAttribute(rhs) ? isSDKAttribute(lhs) : lhs < rhs
            }
            let dropped = byDropOrder.suffix(record.attributes.count - attributeCountLimit)
            for name in dropped { record.attributes[name] = nil }
            record.droppedAttributesCount += dropped.count
        }
        guard let limit = attributeValueLengthLimit else { return }
        for (name, value) in record.attributes { record.attributes[name] = Self.truncated(value, to: limit) }
    }

    private static func truncated(_ value: LogValue, to limit: Int) -> LogValue {
        switch value {
        case .string(let string): return string.truncated(toUnicodeScalars: limit).map { .string($0) } ?? value
        case .array(let values): return .array(values.map { truncated($0, to: limit) })
        case .map(let values): return .map(values.mapValues { truncated($0, to: limit) })
        default: return value
        }
    }
}

/// A swift-log `LogHandler` that turns each log call into an OpenTelemetry log record: the trace id, span id and
/// flags of the span active in `ServiceContext.current` at the call, the level as severity (trace 1, debug 5, info 9,
/// notice 10, warning 13, error 17, critical 21), the message as body, the metadata (the handler's, the metadata
/// provider's, the call's, later ones winning) as attributes with nesting kept, the call site as `code.file.path`,
/// `code.function.name` and `code.line.number`, an attached error as `exception.type` and `exception.message`, and
/// the logger's label as instrumentation scope. Log calls made while Otter exports (by an exporter, or the SDK's
/// own warnings about an export) are not turned into records, so a failing export never feeds itself; another
/// handler beside this one (``Otter/bootstrap(_:bootstrapsLogging:alsoLogTo:)``'s
/// `alsoLogTo`) still prints them.
///
/// ```swift
/// LoggingSystem.bootstrap(emitter.makeLogHandler)
/// ```
public struct OtterLogHandler: LogHandler {
    /// The logger's label; records report it as their instrumentation scope's name.
    public let label: String
    /// Where this handler's records go.
    public let emitter: OtterLogEmitter
    /// The handler's own metadata, added to each record's attributes; the provider's and the call's win over it.
    public var metadata: Logger.Metadata = [:]
    /// Supplies metadata (typically from the task-local context) for each record; it wins over ``metadata``.
    public var metadataProvider: Logger.MetadataProvider?
    /// The lowest level `Logger` passes on to this handler; `info` by default.
    public var logLevel: Logger.Level = .info
    private let scope: InstrumentationScope

    /// Makes a handler for the logger `label` that emits through `emitter`, with no metadata and level `info`.
    public init(label: String, emitter: OtterLogEmitter, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.emitter = emitter
        self.metadataProvider = metadataProvider
        scope = InstrumentationScope(name: label)
    }

    /// The handler's metadata value for `key`; setting nil removes it.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Turns the log call into a record, as the type's description says, and emits it through ``emitter``. Calls made
    /// while Otter exports are ignored.
    public func log(event: LogEvent) {
        // What an exporter or the export lane logs while exporting is not exported itself: it would feed itself.
        guard !ExportContext.isExporting else { return }
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        var attributes: [String: LogValue] = [:]
        for (key, value) in metadata { attributes[key] = LogValue(value) }
        if let provided = metadataProvider?.get() {
            for (key, value) in provided { attributes[key] = LogValue(value) }
        }
        if let callMetadata = event.metadata {
            for (key, value) in callMetadata { attributes[key] = LogValue(value) }
        }
        attributes["code.file.path"] = .string(event.file)
        attributes["code.function.name"] = .string(event.function)
        attributes["code.line.number"] = .int(Int64(clamping: event.line))
        if let error = event.error {
            attributes["exception.type"] = .string(String(reflecting: type(of: error)))
            attributes["exception.message"] = .string(String(describing: error))
        }
        let spanContext = InstrumentationContext.current?.otterSpanContext
        emitter.emit(
            OtterLogRecord(
                timeNanosecondsSinceEpoch: now, severity: LogSeverity(event.level), severityText: event.level.rawValue,
                body: .string(event.message.description), attributes: attributes,
                spanContext: spanContext?.isValid == true ? spanContext : nil, resource: emitter.resource,
                instrumentationScope: scope))
    }
}
