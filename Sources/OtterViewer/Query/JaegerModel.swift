import Foundation
import Otter
import Tracing

/// The Jaeger UI's trace JSON (`uimodel.Trace`), built from stored spans the way Jaeger maps OTLP: the
/// parent becomes the first CHILD_OF reference, links become FOLLOWS_FROM, events become logs with an
/// `event` field, the resource becomes the process, and kind and status become tags.
public struct JaegerTrace: Encodable, Sendable {
    public struct KeyValue: Encodable, Sendable, Equatable {
        public enum Value: Sendable, Equatable {
            case string(String)
            case bool(Bool)
            case int64(Int64)
            case float64(Double)
        }

        public var key: String
        public var value: Value

        enum CodingKeys: String, CodingKey { case key, type, value }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(key, forKey: .key)
            switch value {
            case .string(let string):
                try container.encode("string", forKey: .type)
                try container.encode(string, forKey: .value)
            case .bool(let bool):
                try container.encode("bool", forKey: .type)
                try container.encode(bool, forKey: .value)
            case .int64(let int):
                try container.encode("int64", forKey: .type)
                // Integers beyond 2^53 lose precision in JavaScript: Jaeger sends them as strings.
                if abs(int) > (1 << 53) { try container.encode(String(int), forKey: .value) } else { try container.encode(int, forKey: .value) }
            case .float64(let double):
                try container.encode("float64", forKey: .type)
                try container.encode(double, forKey: .value)
            }
        }
    }

    public struct Reference: Encodable, Sendable, Equatable {
        public var refType: String
        public var traceID: String
        public var spanID: String
    }

    public struct Log: Encodable, Sendable {
        public var timestamp: UInt64
        public var fields: [KeyValue]
    }

    public struct Span: Encodable, Sendable {
        public var traceID: String
        public var spanID: String
        public var flags: UInt32
        public var operationName: String
        public var references: [Reference]
        public var startTime: UInt64
        public var duration: UInt64
        public var tags: [KeyValue]
        public var logs: [Log]
        public var processID: String
        public var warnings: [String]?
    }

    public struct Process: Encodable, Sendable {
        public var serviceName: String
        public var tags: [KeyValue]
    }

    public var traceID: String
    public var spans: [Span]
    public var processes: [String: Process]
    public var warnings: [String]?

    public init(spans finished: [FinishedSpan]) {
        traceID = finished.first?.spanContext.traceID.hexString ?? ""
        var processIDs: [Resource: String] = [:]
        var processes: [String: Process] = [:]
        spans = finished.map { span in
            let processID: String
            if let known = processIDs[span.resource] {
                processID = known
            } else {
                processID = "p\(processIDs.count + 1)"
                processIDs[span.resource] = processID
                var resourceAttributes = span.resource.attributes
                resourceAttributes.set("service.name", value: nil)
                processes[processID] = Process(
                    serviceName: span.resource.serviceName ?? "unknown_service", tags: Self.keyValues(resourceAttributes))
            }
            var references: [Reference] = []
            if let parent = span.parentSpanContext {
                references.append(Reference(refType: "CHILD_OF", traceID: parent.traceID.hexString, spanID: parent.spanID.hexString))
            }
            for link in span.links {
                references.append(
                    Reference(refType: "FOLLOWS_FROM", traceID: link.spanContext.traceID.hexString, spanID: link.spanContext.spanID.hexString))
            }
            var tags = Self.keyValues(span.attributes)
            tags.append(KeyValue(key: "span.kind", value: .string(Self.kindName(span.kind))))
            if !span.instrumentationScope.name.isEmpty {
                tags.append(KeyValue(key: "otel.scope.name", value: .string(span.instrumentationScope.name)))
            }
            if let version = span.instrumentationScope.version {
                tags.append(KeyValue(key: "otel.scope.version", value: .string(version)))
            }
            if let status = span.status {
                tags.append(KeyValue(key: "otel.status_code", value: .string(status.code == .ok ? "OK" : "ERROR")))
                if let message = status.message { tags.append(KeyValue(key: "otel.status_description", value: .string(message))) }
                if status.code == .error { tags.append(KeyValue(key: "error", value: .bool(true))) }
            }
            if !span.spanContext.traceState.isEmpty {
                tags.append(KeyValue(key: "w3c.tracestate", value: .string(span.spanContext.traceState.headerValue)))
            }
            let logs = span.events.map { event in
                Log(
                    timestamp: event.nanosecondsSinceEpoch / 1000,
                    fields: [KeyValue(key: "event", value: .string(event.name))] + Self.keyValues(event.attributes))
            }
            return Span(
                traceID: span.spanContext.traceID.hexString, spanID: span.spanContext.spanID.hexString,
                flags: UInt32(span.spanContext.traceFlags.rawValue), operationName: span.operationName, references: references,
                startTime: span.startTimeNanosecondsSinceEpoch / 1000, duration: span.durationNanoseconds / 1000, tags: tags,
                logs: logs, processID: processID, warnings: nil)
        }
        self.processes = processes
        warnings = nil
    }

    static func kindName(_ kind: SpanKind) -> String {
        switch kind {
        case .server: return "server"
        case .client: return "client"
        case .producer: return "producer"
        case .consumer: return "consumer"
        case .internal: return "internal"
        }
    }

    /// Attributes as Jaeger tags, keys in ascending order; arrays become their JSON text, as Jaeger does.
    static func keyValues(_ attributes: SpanAttributes) -> [KeyValue] {
        attributes.sortedNames().compactMap { name in
            guard let attribute = attributes.get(name) else { return nil }
            let value: KeyValue.Value
            switch attribute {
            case .string(let string): value = .string(string)
            case .bool(let bool): value = .bool(bool)
            case .int32(let int): value = .int64(Int64(int))
            case .int64(let int): value = .int64(int)
            case .double(let double): value = .float64(double)
            case .stringConvertible(let convertible): value = .string(convertible.description)
            default: value = .string(ConsoleSpanExporter.valueText(attribute))
            }
            return KeyValue(key: name, value: value)
        }
    }
}

/// The Jaeger v1 API envelope: `{"data":…,"total":…,"limit":0,"offset":0,"errors":null}`.
struct JaegerEnvelope<Payload: Encodable>: Encodable {
    struct ErrorEntry: Encodable {
        var code: Int
        var msg: String
        var traceID: String?
    }

    var data: Payload?
    var total: Int
    var limit = 0
    var offset = 0
    var errors: [ErrorEntry]?

    enum CodingKeys: String, CodingKey { case data, total, limit, offset, errors }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let data { try container.encode(data, forKey: .data) } else { try container.encodeNil(forKey: .data) }
        try container.encode(total, forKey: .total)
        try container.encode(limit, forKey: .limit)
        try container.encode(offset, forKey: .offset)
        if let errors { try container.encode(errors, forKey: .errors) } else { try container.encodeNil(forKey: .errors) }
    }
}
