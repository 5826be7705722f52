/// Prints log records for people and tools, in one of two styles:
/// - `line` (default): `2026-12-06T16:50:00.123456Z INFO orders: order placed order.id=42 trace_id=… span_id=…`
///   (time, severity, logger, message, attributes in name order, then the ids of the span it was written in);
///   text is escaped so that a message can neither break the line nor colour the terminal;
/// - `json`: one JSON object per line with opentelemetry-python's `LogRecord.to_json` fields (`body`,
///   `severity_number`, `severity_text`, `attributes`, `timestamp`, `observed_timestamp`, `trace_id`, `span_id`,
///   `trace_flags`, `resource`).
public final class ConsoleLogRecordExporter: LogRecordExporter {
    /// How records are printed; the type's description shows each style.
    public enum Style: String, Sendable, CaseIterable {
        /// One escaped line per record: time, severity, logger, message, attributes, span ids.
        case line
        /// One JSON object per record and line, with opentelemetry-python's field names.
        case json
    }

    /// How records are printed.
    public let style: Style
    private let output: ConsoleSpanExporter.Output

    /// Makes an exporter that prints in `style` (one line per record by default) to `output` (standard output by
    /// default).
    public init(style: Style = .line, output: ConsoleSpanExporter.Output = .standardOutput) {
        self.style = style
        self.output = output
    }

    /// Prints the batch, one record per line, with one write; never throws.
    public func export(_ batch: [OtterLogRecord]) async throws {
        switch style {
        case .line: output.write(batch.map { Self.line(for: $0) + "\n" }.joined())
        case .json: output.write(batch.map { Self.json(for: $0) + "\n" }.joined())
        }
    }

    /// One record in the `line` style.
    public static func line(for record: OtterLogRecord) -> String {
        var line = TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: record.timeNanosecondsSinceEpoch)
        line += " \(record.severity.name.isEmpty ? "UNSPECIFIED" : record.severity.name) "
        line += LineText.escaped(record.instrumentationScope.name) + ": " + LineText.escaped(record.body.text)
        let code: Set = ["code.file.path", "code.function.name", "code.line.number"]
        for (name, value) in record.attributes.sorted(by: { $0.key < $1.key }) where !code.contains(name) {
            line += " " + LineText.escaped(name) + "=" + LineText.escaped(value.text)
        }
        if let spanContext = record.spanContext {
            line += " trace_id=\(spanContext.traceID.hexString) span_id=\(spanContext.spanID.hexString)"
        }
        return line
    }

    /// One record in the `json` style.
    public static func json(for record: OtterLogRecord) -> String {
        var fields: [String] = []
        fields.append("\"body\": \(json(record.body))")
        fields.append("\"severity_number\": \(record.severity.number)")
        fields.append("\"severity_text\": \(JSONText.quoted(record.severityText))")
        fields.append("\"attributes\": \(json(.map(record.attributes)))")
        fields.append("\"dropped_attributes\": \(record.droppedAttributesCount)")
        fields.append(
            "\"timestamp\": \(JSONText.quoted(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: record.timeNanosecondsSinceEpoch)))"
        )
        fields.append(
            "\"observed_timestamp\": \(JSONText.quoted(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: record.observedTimeNanosecondsSinceEpoch)))"
        )
        fields.append("\"trace_id\": \(record.spanContext.map { JSONText.quoted("0x" + $0.traceID.hexString) } ?? "\"\"")")
        fields.append("\"span_id\": \(record.spanContext.map { JSONText.quoted("0x" + $0.spanID.hexString) } ?? "\"\"")")
        fields.append("\"trace_flags\": \(record.spanContext.map { String($0.traceFlags.rawValue) } ?? "null")")
        fields.append("\"resource\": {\"attributes\": \(AttributeText.json(record.resource.attributes))}")
        fields.append("\"scope\": \(JSONText.quoted(record.instrumentationScope.name))")
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private static func json(_ value: LogValue) -> String {
        switch value {
        case .string(let string): return JSONText.quoted(string)
        case .bool(let bool): return bool ? "true" : "false"
        case .int(let int): return String(int)
        case .double(let double): return double.isFinite ? String(double) : JSONText.quoted(String(double))
        case .array(let values): return "[" + values.map(json).joined(separator: ", ") + "]"
        case .map(let values):
            return "{"
                + values.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)): \(json($0.value))" }
                .joined(separator: ", ") + "}"
        }
    }
}
