import Synchronization
import Tracing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Musl)
private let systemWrite = Musl.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// Prints finished spans for people and tools, in one of three styles:
/// - `line` (default): one line per span in opentelemetry-python's `Span(name=..., context=SpanContext(...), ...)`
///   shape, then the span's status, attributes, events and links when it has any;
/// - `json`: one JSON object per line with the fields of opentelemetry-python's `ConsoleSpanExporter`;
/// - `tree`: each trace as an indented tree with durations, printed when its local root span ends.
public final class ConsoleSpanExporter: SpanExporter {
    /// How spans are printed; the type's description shows each style.
    public enum Style: String, Sendable, CaseIterable {
        /// One line per span, opentelemetry-python style, then its status, attributes, events and links.
        case line
        /// One JSON object per span and line.
        case json
        /// Each trace as an indented tree, printed when its local root span ends.
        case tree
    }

    /// Where the text goes.
    public struct Output: Sendable {
        let write: @Sendable (String) -> Void

        /// Sends each chunk of text to `write`.
        public init(_ write: @escaping @Sendable (String) -> Void) {
            self.write = write
        }

        /// Writes to standard output (file descriptor 1), unbuffered.
        public static let standardOutput = Output { writeAll($0, toFileDescriptor: 1) }

        /// Writes to standard error (file descriptor 2), unbuffered.
        public static let standardError = Output { writeAll($0, toFileDescriptor: 2) }

        /// Writes the whole text with `write(2)`, unbuffered, so lines from several processes do not interleave
        /// mid-line and nothing is lost when the process exits.
        private static func writeAll(_ text: String, toFileDescriptor descriptor: Int32) {
            var text = text
            text.withUTF8 { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }

    /// How spans are printed.
    public let style: Style
    private let output: Output
    private let pendingTraces = Mutex<[TraceID: [FinishedSpan]]>([:])

    /// Makes an exporter that prints in `style` (one line per span by default) to `output` (standard output by default).
    public init(style: Style = .line, output: Output = .standardOutput) {
        self.style = style
        self.output = output
    }

    /// Prints the batch with one write. In `tree` style a span is held until its trace's local root span (no parent, or
    /// a remote one) is exported, then the whole trace is printed. Never throws.
    public func export(_ batch: [FinishedSpan]) async throws {
        switch style {
        case .line:
            output.write(batch.map { Self.line(for: $0) + "\n" }.joined())
        case .json:
            output.write(batch.map { Self.json(for: $0) + "\n" }.joined())
        case .tree:
            let completed = pendingTraces.withLock { pending -> [[FinishedSpan]] in
                var completed: [[FinishedSpan]] = []
                for span in batch {
                    pending[span.spanContext.traceID, default: []].append(span)
                    let isLocalRoot = span.parentSpanContext.map { $0.isRemote } ?? true
                    if isLocalRoot, let spans = pending.removeValue(forKey: span.spanContext.traceID) {
                        completed.append(spans)
                    }
                }
                return completed
            }
            if !completed.isEmpty { output.write(completed.map(Self.tree(for:)).joined()) }
        }
    }

    /// In `tree` style, prints the traces whose root has not ended yet.
    public func forceFlush() async throws {
        let incomplete = pendingTraces.withLock { pending -> [[FinishedSpan]] in
            defer { pending.removeAll() }
            return pending.values.sorted {
                ($0.first?.startTimeNanosecondsSinceEpoch ?? 0) < ($1.first?.startTimeNanosecondsSinceEpoch ?? 0)
            }
        }
        if !incomplete.isEmpty { output.write(incomplete.map(Self.tree(for:)).joined()) }
    }

    /// Prints what ``forceFlush()`` would: in `tree` style, the traces whose root has not ended.
    public func shutdown() async {
        try? await forceFlush()
    }

    // MARK: line

    /// One span in opentelemetry-python's `Span(...)` shape.
    public static func line(for span: FinishedSpan) -> String {
        var text = "Span(name=\(JSONText.quoted(span.operationName)), context=\(contextText(span.spanContext)), "
        text += "kind=\(kindText(span.kind)), parent="
        if let parent = span.parentSpanContext {
            if let parentName = span.localParentOperationName, !parent.isRemote {
                text += "Span(name=\(JSONText.quoted(parentName)), context=\(contextText(parent)))"
            } else {
                text += contextText(parent)
            }
        } else {
            text += "None"
        }
        text += ", start_time=\(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: span.startTimeNanosecondsSinceEpoch))"
        text += ", end_time=\(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: span.endTimeNanosecondsSinceEpoch))"
        if let status = span.status {
            text += ", status=Status(status_code=\(statusCodeText(status.code))"
            if let message = status.message { text += ", description=\(JSONText.quoted(message))" }
            text += ")"
        }
        if !span.attributes.isEmpty { text += ", attributes=\(AttributeText.json(span.attributes))" }
        if !span.events.isEmpty {
            let events = span.events.map { event in
                var eventText = "Event(name=\(JSONText.quoted(event.name)), timestamp="
                eventText += TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: event.nanosecondsSinceEpoch)
                if !event.attributes.isEmpty { eventText += ", attributes=\(AttributeText.json(event.attributes))" }
                return eventText + ")"
            }
            text += ", events=[\(events.joined(separator: ", "))]"
        }
        if !span.links.isEmpty {
            let links = span.links.map { link in
                var linkText = "Link(context=\(contextText(link.spanContext))"
                if !link.attributes.isEmpty { linkText += ", attributes=\(AttributeText.json(link.attributes))" }
                return linkText + ")"
            }
            text += ", links=[\(links.joined(separator: ", "))]"
        }
        return text + ")"
    }

    private static func contextText(_ context: OtterSpanContext) -> String {
        let state = context.traceState.entries.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        return "SpanContext(trace_id=0x\(context.traceID.hexString), span_id=0x\(context.spanID.hexString), trace_state={\(state)})"
    }

    static func kindText(_ kind: SpanKind) -> String {
        SpanKindName(kind).consoleText
    }

    private static func statusCodeText(_ code: SpanStatus.Code) -> String {
        switch code {
        case .ok: return "OK"
        case .error: return "ERROR"
        }
    }

    // MARK: json

    /// One span as a single-line JSON object with opentelemetry-python's `ConsoleSpanExporter` fields.
    public static func json(for span: FinishedSpan) -> String {
        var members: [String] = []
        members.append("\"name\": \(JSONText.quoted(span.operationName))")
        members.append("\"context\": \(jsonContext(span.spanContext))")
        members.append("\"kind\": \(JSONText.quoted(kindText(span.kind)))")
        members.append("\"parent_id\": \(span.parentSpanContext.map { JSONText.quoted("0x" + $0.spanID.hexString) } ?? "null")")
        members.append(
            "\"start_time\": \(JSONText.quoted(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: span.startTimeNanosecondsSinceEpoch)))"
        )
        members.append(
            "\"end_time\": \(JSONText.quoted(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: span.endTimeNanosecondsSinceEpoch)))"
        )
        var status = "{\"status_code\": \(JSONText.quoted(span.status.map { statusCodeText($0.code) } ?? "UNSET"))"
        if let message = span.status?.message { status += ", \"description\": \(JSONText.quoted(message))" }
        members.append("\"status\": \(status)}")
        members.append("\"attributes\": \(AttributeText.json(span.attributes))")
        let events = span.events.map { event in
            "{\"name\": \(JSONText.quoted(event.name)), \"timestamp\": "
                + JSONText.quoted(TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: event.nanosecondsSinceEpoch))
                + ", \"attributes\": \(AttributeText.json(event.attributes))}"
        }
        members.append("\"events\": [\(events.joined(separator: ", "))]")
        let links = span.links.map { link in
            "{\"context\": \(jsonContext(link.spanContext)), \"attributes\": \(AttributeText.json(link.attributes))}"
        }
        members.append("\"links\": [\(links.joined(separator: ", "))]")
        members.append(
            "\"resource\": {\"attributes\": \(AttributeText.json(span.resource.attributes)), \"schema_url\": "
                + "\(JSONText.quoted(span.resource.schemaURL ?? ""))}")
        return "{\(members.joined(separator: ", "))}"
    }

    private static func jsonContext(_ context: OtterSpanContext) -> String {
        let state = context.traceState.entries.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        return "{\"trace_id\": \(JSONText.quoted("0x" + context.traceID.hexString)), "
            + "\"span_id\": \(JSONText.quoted("0x" + context.spanID.hexString)), "
            + "\"trace_state\": \(JSONText.quoted("[\(state)]"))}"
    }

    // MARK: tree

    /// A trace as an indented tree, children under their parents in start order, with durations.
    public static func tree(for spans: [FinishedSpan]) -> String {
        tree(for: spans, maximumLines: .max).text
    }

    /// The tree's first `maximumLines` lines (at least the header), and how many lines were left out. Names print on
    /// one line whatever they hold (``LineText``). Log records written inside a span are listed under it, after its
    /// events, in time order (`- INFO message +offset key=value`).
    package static func tree(
        for spans: [FinishedSpan], maximumLines: Int, logs: [OtterLogRecord] = []
    ) -> (text: String, omittedLines: Int) {
        var logsBySpan: [SpanID: [OtterLogRecord]] = [:]
        for record in logs {
            if let spanID = record.spanContext?.spanID { logsBySpan[spanID, default: []].append(record) }
        }
        let ordered = SpanTree(spans).nodes
        guard let first = ordered.first?.span else { return ("", 0) }
        var text = "trace \(first.spanContext.traceID.hexString)"
        if let service = first.resource.serviceName { text += " (\(LineText.escaped(service)))" }
        text += "\n"
        var lines = 1
        var omitted = 0
        for node in ordered {
            let (span, depth) = (node.span, node.depth)
            guard lines < maximumLines else {
                omitted += 1 + span.events.count + (logsBySpan[span.spanContext.spanID]?.count ?? 0)
                continue
            }
            let indent = String(repeating: "  ", count: depth + 1)
            let kind = kindText(span.kind).dropFirst("SpanKind.".count)
            text +=
                "\(indent)\(LineText.escaped(span.operationName)) [\(kind)] "
                + TimestampFormatting.humanDuration(nanoseconds: span.durationNanoseconds)
            if span.status?.code == .error {
                text += " ERROR"
                if let message = span.status?.message { text += ": \(LineText.escaped(message))" }
            }
            if !span.attributes.isEmpty { text += " \(LineText.escapingInvisibles(AttributeText.json(span.attributes)))" }
            text += "\n"
            lines += 1
            for event in span.events {
                guard lines < maximumLines else {
                    omitted += 1
                    continue
                }
                let offset =
                    event.nanosecondsSinceEpoch >= span.startTimeNanosecondsSinceEpoch
                    ? event.nanosecondsSinceEpoch - span.startTimeNanosecondsSinceEpoch : 0
                text += "\(indent)  * \(LineText.escaped(event.name)) +\(TimestampFormatting.humanDuration(nanoseconds: offset))"
                if !event.attributes.isEmpty { text += " \(LineText.escapingInvisibles(AttributeText.json(event.attributes)))" }
                text += "\n"
                lines += 1
            }
            let spanLogs = (logsBySpan[span.spanContext.spanID] ?? []).sorted {
                $0.timeNanosecondsSinceEpoch < $1.timeNanosecondsSinceEpoch
            }
            for record in spanLogs {
                guard lines < maximumLines else {
                    omitted += 1
                    continue
                }
                text += "\(indent)  - \(logLine(record, after: span.startTimeNanosecondsSinceEpoch))\n"
                lines += 1
            }
        }
        return (text, omitted)
    }

    /// A log record as the tree shows it: `INFO order placed +1.2ms order.id=42` (source-code attributes left out).
    package static func logLine(_ record: OtterLogRecord, after start: UInt64) -> String {
        let offset = record.timeNanosecondsSinceEpoch >= start ? record.timeNanosecondsSinceEpoch - start : 0
        var line = "\(record.severity.name.isEmpty ? "UNSPECIFIED" : record.severity.name) \(LineText.escaped(record.body.text))"
        line += " +\(TimestampFormatting.humanDuration(nanoseconds: offset))"
        for (name, value) in record.attributes.sorted(by: { $0.key < $1.key }) where !name.hasPrefix("code.") {
            line += " " + LineText.escaped(name) + "=" + LineText.escaped(value.text)
        }
        return line
    }
}
