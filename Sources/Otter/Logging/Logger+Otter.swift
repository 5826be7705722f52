import Logging
import Tracing

extension Logger.MetadataProvider {
    /// Adds `trace_id` and `span_id` of the current span to every log line, so logs and traces join up.
    ///
    /// ```swift
    /// LoggingSystem.bootstrap(StreamLogHandler.standardOutput, metadataProvider: .otter)
    /// ```
    public static let otter = Logger.MetadataProvider {
        guard let spanContext = InstrumentationContext.current?.otterSpanContext, spanContext.isValid else {
            return [:]
        }
        return [
            "trace_id": .string(spanContext.traceID.hexString),
            "span_id": .string(spanContext.spanID.hexString),
        ]
    }
}
