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

    struct Envelope: Decodable {
        var data: [Trace]
    }

    struct Trace: Decodable {
        var traceID: String?
        var spans: [Span]
        var processes: [String: Process]?
    }

    struct Span: Decodable {
        var traceID: String
        var spanID: String
        var operationName: String?
        var references: [Reference]?
        var startTime: UInt64
        var duration: UInt64
        var tags: [Tag]?
        var logs: [Log]?
        var processID: String?
        var process: Process?
    }

    struct Reference: Decodable {
        var refType: String?
        var traceID: String?
        var spanID: String
    }

    struct Log: Decodable {
        var timestamp: UInt64
        var fields: [Tag]?
    }

    struct Process: Decodable {
        var serviceName: String?
        var tags: [Tag]?
    }

    struct Tag: Decodable {
        var key: String
        var value: SpanAttribute

        enum CodingKeys: String, CodingKey { case key, type, value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            key = try container.decode(String.self, forKey: .key)
            let type = try container.decodeIfPresent(String.self, forKey: .type)?.lowercased() ?? "string"
            switch type {
            case "bool":
                value = .bool((try? container.decode(Bool.self, forKey: .value)) ?? false)
            case "int64":
                if let int = try? container.decode(Int64.self, forKey: .value) {
                    value = .int64(int)
                } else {
                    let text = try container.decode(String.self, forKey: .value)
                    guard let int = Int64(text) else { throw ImportError(description: "tag \(key): \(text.prefix(40)) is not an int64") }
                    value = .int64(int)
                }
            case "float64":
                value = .double((try? container.decode(Double.self, forKey: .value)) ?? .nan)
            default:
                if let text = try? container.decode(String.self, forKey: .value) {
                    value = .string(text)
                } else if let number = try? container.decode(Double.self, forKey: .value) {
                    value = .double(number)
                } else if let flag = try? container.decode(Bool.self, forKey: .value) {
                    value = .bool(flag)
                } else {
                    value = .string("")
                }
            }
        }
    }

    /// The spans of every trace in `data`, grouped by trace in file order.
    static func traces(_ data: Data) throws -> [[FinishedSpan]] {
        let decoder = JSONDecoder()
        let traces: [Trace]
        if let envelope = try? decoder.decode(Envelope.self, from: data) {
            traces = envelope.data
        } else if let list = try? decoder.decode([Trace].self, from: data) {
            traces = list
        } else {
            do {
                traces = [try decoder.decode(Trace.self, from: data)]
            } catch {
                throw ImportError(description: "neither OTLP JSON nor Jaeger JSON (\(Self.reason(error)))")
            }
        }
        return try traces.map { trace in try trace.spans.map { try finishedSpan($0, processes: trace.processes ?? [:]) } }
    }

    static func finishedSpan(_ span: Span, processes: [String: Process]) throws -> FinishedSpan {
        guard let traceID = Self.traceID(span.traceID), let spanID = SpanID(hexString: Self.padded(span.spanID, to: 16)) else {
            throw ImportError(description: "span \(span.spanID.prefix(40)): invalid trace or span id")
        }
        let start = try nanoseconds(span.startTime, "startTime")
        let duration = try nanoseconds(span.duration, "duration")
        let (end, overflow) = start.addingReportingOverflow(duration)
        guard !overflow else { throw ImportError(description: "span \(span.spanID.prefix(40)): startTime + duration overflows") }
        let process = span.process ?? span.processID.flatMap { processes[$0] }
        var resource = SpanAttributes()
        for tag in process?.tags ?? [] { resource[tag.key] = tag.value }
        resource["service.name"] = SpanAttribute.string(process?.serviceName ?? "unknown_service")

        var kind = SpanKind.internal
        var status: SpanStatus?
        var scope = InstrumentationScope(name: "")
        var attributes = SpanAttributes()
        for tag in span.tags ?? [] {
            switch (tag.key, tag.value) {
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
                attributes[tag.key] = tag.value
            }
        }
        var parent: OtterSpanContext?
        var links: [FinishedSpan.Link] = []
        for reference in span.references ?? [] {
            guard let referencedSpan = SpanID(hexString: padded(reference.spanID, to: 16)) else { continue }
            let context = OtterSpanContext(
                traceID: reference.traceID.flatMap(Self.traceID) ?? traceID, spanID: referencedSpan, traceFlags: .sampled)
            if parent == nil, reference.refType?.uppercased() != "FOLLOWS_FROM", context.traceID == traceID {
                parent = context
            } else {
                links.append(FinishedSpan.Link(spanContext: context))
            }
        }
        let events = try (span.logs ?? []).map { log in
            var name = "log"
            var fields = SpanAttributes()
            for field in log.fields ?? [] {
                if field.key == "event", case .string(let text) = field.value { name = text } else { fields[field.key] = field.value }
            }
            let time = try nanoseconds(log.timestamp, "log timestamp")
            return SpanEvent(name: name, at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: time), attributes: fields)
        }
        return FinishedSpan(
            operationName: span.operationName ?? "", kind: kind,
            spanContext: OtterSpanContext(traceID: traceID, spanID: spanID, traceFlags: .sampled), parentSpanContext: parent,
            startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: end, attributes: attributes, events: events,
            links: links, status: status, resource: Resource(attributes: resource), instrumentationScope: scope)
    }

    /// What a decoding error says, in a few words rather than a Swift dump.
    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "unexpected value at \(context.codingPath.map(\.stringValue).joined(separator: ".").prefix(120))"
        case DecodingError.dataCorrupted: return "not valid JSON"
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
