import Foundation
import Otter
import Tracing

/// Spans from a Jaeger JSON file (what Jaeger UI's "Download JSON" and `/api/traces` give: `{"data": [trace, ...]}`,
/// or a bare array of traces, or one trace), mapped back the way Jaeger maps OTLP to its model: the first CHILD_OF
/// reference is the parent, other references are links, `span.kind` / `otel.status_code` / `error` / `otel.scope.*`
/// tags become kind, status and scope, logs become events (named by their `event` field), the process becomes the
/// resource. Times are microseconds; values out of range are an error, never a trap.
enum JaegerJSONImport {
    struct ImportError: Error, CustomStringConvertible {
        var description: String
    }

    /// The spans of every trace in `data`, grouped by trace in file order. The file's structure is walked first
    /// (``JSONScanner``) and each span decoded on its own, so a big file costs its spans, not a decoded copy of the
    /// whole document besides.
    static func traces(_ data: Data) throws -> [[FinishedSpan]] {
        try data.withUnsafeBytes { try traces($0) }
    }

    /// The spans of every trace in `bytes`, a Jaeger JSON document.
    static func traces(_ bytes: UnsafeRawBufferPointer) throws -> [[FinishedSpan]] {
        var scanner = JSONScanner(bytes)
        let layouts: [TraceLayout]
        do {
            layouts = try Self.layouts(&scanner)
            try scanner.expectEnd()
        } catch let error as JSONScanner.SyntaxError {
            throw ImportError(description: "neither OTLP JSON nor Jaeger JSON (\(error))")
        }
        let decoder = JSONDecoder()
        return try layouts.enumerated().map { traceIndex, layout in
            var resources: [String: Resource] = [:]
            if let range = layout.processes {
                do {
                    // One resource per process, shared by its spans.
                    resources = try decoder.decode([String: JaegerTrace.Process].self, from: Data(bytes[range])).mapValues(resource)
                } catch {
                    throw ImportError(description: "trace \(traceIndex + 1): cannot read its processes (\(Self.reason(error)))")
                }
            }
            return try layout.spans.enumerated().map { spanIndex, range in
                let span: JaegerTrace.Span
                do {
                    span = try decoder.decode(JaegerTrace.Span.self, from: Data(bytes[range]))
                } catch {
                    throw ImportError(description: "trace \(traceIndex + 1), span \(spanIndex + 1): \(Self.reason(error))")
                }
                return try finishedSpan(span, resource: span.process.map(resource) ?? resources[span.processID] ?? resource(nil))
            }
        }
    }

    /// Where a trace's spans and processes are in the file.
    private struct TraceLayout {
        var spans: [Range<Int>] = []
        var processes: Range<Int>?
    }

    /// The traces of a Jaeger JSON document: `{"data": [trace, ...]}`, `[trace, ...]` or one trace.
    private static func layouts(_ scanner: inout JSONScanner) throws -> [TraceLayout] {
        switch scanner.peek() {
        case UInt8(ascii: "["):
            return try traceList(&scanner)
        case UInt8(ascii: "{"):
            let start = scanner.position
            var data: (range: Range<Int>, isList: Bool)?
            var isTrace = false
            // A key given twice counts the first time, as a JSON decoder reads it.
            try scanner.forEachMember { scanner, key in
                let isList = scanner.peek() == UInt8(ascii: "[")
                let range = try scanner.skipValue()
                if key == "data", data == nil { data = (range, isList) }
                if key == "spans" { isTrace = true }
            }
            let end = scanner.position
            // Jaeger's envelope first (its "data" a list of traces), then a trace.
            if let data, data.isList || !isTrace {
                guard data.isList else {
                    throw ImportError(description: "neither OTLP JSON nor Jaeger JSON (\"data\" holds no list of traces)")
                }
                scanner.move(to: data.range.lowerBound)
                let traces = try traceList(&scanner)
                scanner.move(to: end)
                return traces
            }
            guard isTrace else { throw ImportError(description: "neither OTLP JSON nor Jaeger JSON (no \"spans\")") }
            scanner.move(to: start)
            return [try trace(&scanner)]
        case nil:
            throw ImportError(description: "the file is empty")
        default:
            throw ImportError(description: "neither OTLP JSON nor Jaeger JSON (not valid JSON at byte \(scanner.position))")
        }
    }

    private static func traceList(_ scanner: inout JSONScanner) throws -> [TraceLayout] {
        var traces: [TraceLayout] = []
        try scanner.forEachElement { scanner in traces.append(try trace(&scanner)) }
        return traces
    }

    private static func trace(_ scanner: inout JSONScanner) throws -> TraceLayout {
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw ImportError(description: "neither OTLP JSON nor Jaeger JSON (a trace is not an object)")
        }
        var layout = TraceLayout()
        var hasSpans = false
        var hasProcesses = false
        // A key given twice counts the first time, as a JSON decoder reads it.
        try scanner.forEachMember { scanner, key in
            switch key {
            case "spans" where !hasSpans:
                hasSpans = true
                guard scanner.peek() == UInt8(ascii: "[") else { throw ImportError(description: "a trace's \"spans\" is not a list") }
                try scanner.forEachElement { scanner in layout.spans.append(try scanner.skipValue()) }
            case "processes" where !hasProcesses:
                hasProcesses = true
                let isNull = scanner.peek() == UInt8(ascii: "n")
                let range = try scanner.skipValue()
                if !isNull { layout.processes = range }
            default:
                _ = try scanner.skipValue()
            }
        }
        guard hasSpans else { throw ImportError(description: "neither OTLP JSON nor Jaeger JSON (no \"spans\")") }
        return layout
    }

    static func finishedSpan(_ span: JaegerTrace.Span, processes: [String: JaegerTrace.Process]) throws -> FinishedSpan {
        try finishedSpan(span, resource: resource(span.process ?? processes[span.processID]))
    }

    /// A process as the resource of its spans.
    static func resource(_ process: JaegerTrace.Process?) -> Resource {
        var resource = SpanAttributes()
        for tag in process?.tags ?? [] { resource[tag.key] = Self.attribute(tag.value) }
        resource["service.name"] = SpanAttribute.string(process?.serviceName ?? "unknown_service")
        return Resource(attributes: resource)
    }

    static func finishedSpan(_ span: JaegerTrace.Span, resource: Resource) throws -> FinishedSpan {
        guard let traceID = Self.traceID(span.traceID), let spanID = SpanID(hexString: Self.padded(span.spanID, to: 16)) else {
            throw ImportError(description: "span \(span.spanID.prefix(40)): invalid trace or span id")
        }
        let start = try nanoseconds(span.startTime, "startTime")
        let duration = try nanoseconds(span.duration, "duration")
        let (end, overflow) = start.addingReportingOverflow(duration)
        guard !overflow else { throw ImportError(description: "span \(span.spanID.prefix(40)): startTime + duration overflows") }

        var kind = SpanKind.internal
        var status: SpanStatus?
        var scope = InstrumentationScope(name: "")
        var attributes = SpanAttributes()
        for tag in span.tags {
            switch (tag.key, Self.attribute(tag.value)) {
            case ("span.kind", .string(let text)):
                kind = SpanKindName(rawValue: text.lowercased())?.spanKind ?? .internal
            case ("otel.status_code", .string(let text)):
                if text == "ERROR" {
                    status = SpanStatus(code: .error, message: status?.message)
                } else if text == "OK" {
                    status = SpanStatus(code: .ok)
                }
            case ("otel.status_description", .string(let text)):
                status = SpanStatus(code: .error, message: text)
            case ("error", .bool(true)), ("error", .string("true")):
                if status == nil { status = SpanStatus(code: .error) }
            case ("otel.scope.name", .string(let text)), ("otel.library.name", .string(let text)):
                scope.name = text
            case ("otel.scope.version", .string(let text)), ("otel.library.version", .string(let text)):
                scope.version = text
            default:
                attributes[tag.key] = Self.attribute(tag.value)
            }
        }
        var parent: OtterSpanContext?
        var links: [FinishedSpan.Link] = []
        for reference in span.references {
            guard let referencedSpan = SpanID(hexString: padded(reference.spanID, to: 16)) else { continue }
            let context = OtterSpanContext(
                traceID: reference.traceID.isEmpty ? traceID : Self.traceID(reference.traceID) ?? traceID, spanID: referencedSpan,
                traceFlags: .sampled)
            if parent == nil, reference.refType.uppercased() != "FOLLOWS_FROM", context.traceID == traceID {
                parent = context
            } else {
                links.append(FinishedSpan.Link(spanContext: context))
            }
        }
        let events = try span.logs.map { log in
            var name = "log"
            var fields = SpanAttributes()
            for field in log.fields {
                if field.key == "event", case .string(let text) = field.value {
                    name = text
                } else {
                    fields[field.key] = Self.attribute(field.value)
                }
            }
            let time = try nanoseconds(log.timestamp, "log timestamp")
            return SpanEvent(name: name, at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: time), attributes: fields)
        }
        return FinishedSpan(
            operationName: span.operationName, kind: kind,
            spanContext: OtterSpanContext(traceID: traceID, spanID: spanID, traceFlags: .sampled), parentSpanContext: parent,
            startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: end, attributes: attributes, events: events,
            links: links, status: status, resource: resource, instrumentationScope: scope)
    }

    /// A tag's value as a span attribute (bytes as their base64 text, as tags of other types than Jaeger's are read).
    static func attribute(_ value: JaegerTrace.KeyValue.Value) -> SpanAttribute {
        switch value {
        case .string(let text): .string(text)
        case .bool(let flag): .bool(flag)
        case .int64(let int): .int64(int)
        case .float64(let double): .double(double)
        case .binary(let data): .string(data.base64EncodedString())
        }
    }

    /// What a decoding error says, in a few words rather than a Swift dump.
    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: ".").prefix(120))"
        case DecodingError.dataCorrupted(let context):
            // A value the model refused (an int64 tag that is no number) says which; broken JSON has no path.
            return context.codingPath.isEmpty ? "not valid JSON" : String(context.debugDescription.prefix(160))
        default: return String(String(describing: error).prefix(160))
        }
    }

    static func nanoseconds(_ microseconds: UInt64, _ name: String) throws -> UInt64 {
        let (value, overflow) = microseconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { throw ImportError(description: "\(name) \(microseconds) µs is out of range") }
        return value
    }

    /// Jaeger writes 64-bit trace ids with 16 digits and drops leading zeros in places: pad to 32.
    static func traceID(_ text: String) -> TraceID? {
        guard text.count <= 32 else { return nil }
        return TraceID(hexString: padded(text, to: 32))
    }

    static func padded(_ text: String, to length: Int) -> String {
        text.count >= length ? text : String(repeating: "0", count: length - text.count) + text
    }
}
