import Foundation
import Otter
import OtterOTLP
import Tracing

/// The Jaeger UI's trace JSON (`uimodel.Trace`), built from OTLP spans the way Jaeger v2 maps them: the parent
/// becomes the first CHILD_OF reference, links become FOLLOWS_FROM (CHILD_OF when the link says
/// `opentracing.ref_type=child_of`), events become logs with an `event` field, the resource becomes the process, and
/// scope, kind and status become tags. Values keep their types: bytes are `binary` (base64), integers beyond 2^53
/// are strings, arrays and maps their JSON text.
///
/// The same model reads Jaeger JSON files back (``JaegerJSONImport``), leniently, as Jaeger UI's downloads and other
/// tools write them: fields may be missing (Jaeger v1 also embeds a span's `process`), a tag without a `type` is a
/// string, an `int64` may be written as a string.
package struct JaegerTrace: Codable, Sendable {
    package struct KeyValue: Codable, Sendable, Equatable {
        package enum Value: Sendable, Equatable {
            case string(String)
            case bool(Bool)
            case int64(Int64)
            case float64(Double)
            case binary(Data)
        }

        package var key: String
        package var value: Value

        enum CodingKeys: String, CodingKey { case key, type, value }

        package init(key: String, value: Value) {
            self.key = key
            self.value = value
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            key = try container.decode(String.self, forKey: .key)
            switch try container.decodeIfPresent(String.self, forKey: .type)?.lowercased() ?? "string" {
            case "bool":
                value = .bool((try? container.decode(Bool.self, forKey: .value)) ?? false)
            case "int64":
                if let int = try? container.decode(Int64.self, forKey: .value) {
                    value = .int64(int)
                } else {
                    let text = try container.decode(String.self, forKey: .value)
                    guard let int = Int64(text) else {
                        throw DecodingError.dataCorruptedError(
                            forKey: .value, in: container, debugDescription: "tag \(key): \(text.prefix(40)) is not an int64")
                    }
                    value = .int64(int)
                }
            case "float64":
                value = .float64((try? container.decode(Double.self, forKey: .value)) ?? .nan)
            default:
                if let text = try? container.decode(String.self, forKey: .value) {
                    value = .string(text)
                } else if let number = try? container.decode(Double.self, forKey: .value) {
                    value = .float64(number)
                } else if let flag = try? container.decode(Bool.self, forKey: .value) {
                    value = .bool(flag)
                } else {
                    value = .string("")
                }
            }
        }

        package func encode(to encoder: any Encoder) throws {
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
                // Integers beyond 2^53 lose precision in JavaScript: Jaeger sends them as strings. `magnitude`, not
                // `abs`: `abs(Int64.min)` traps.
                if int.magnitude >= (1 << 53) {
                    try container.encode(String(int), forKey: .value)
                } else {
                    try container.encode(int, forKey: .value)
                }
            case .float64(let double):
                try container.encode("float64", forKey: .type)
                try container.encode(double, forKey: .value)
            case .binary(let data):
                try container.encode("binary", forKey: .type)
                try container.encode(data.base64EncodedString(), forKey: .value)
            }
        }
    }

    package struct Reference: Codable, Sendable, Equatable {
        package var refType: String
        /// Empty when a file leaves it out: the span's own trace.
        package var traceID: String
        package var spanID: String

        enum CodingKeys: String, CodingKey { case refType, traceID, spanID }

        package init(refType: String, traceID: String, spanID: String) {
            self.refType = refType
            self.traceID = traceID
            self.spanID = spanID
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            refType = try container.decodeIfPresent(String.self, forKey: .refType) ?? ""
            traceID = try container.decodeIfPresent(String.self, forKey: .traceID) ?? ""
            spanID = try container.decode(String.self, forKey: .spanID)
        }
    }

    package struct Log: Codable, Sendable {
        package var timestamp: UInt64
        package var fields: [KeyValue]

        enum CodingKeys: String, CodingKey { case timestamp, fields }

        package init(timestamp: UInt64, fields: [KeyValue]) {
            self.timestamp = timestamp
            self.fields = fields
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            timestamp = try container.decode(UInt64.self, forKey: .timestamp)
            fields = try container.decodeIfPresent([KeyValue].self, forKey: .fields) ?? []
        }
    }

    package struct Span: Codable, Sendable {
        package var traceID: String
        package var spanID: String
        package var operationName: String
        package var references: [Reference]
        package var startTime: UInt64
        package var duration: UInt64
        package var tags: [KeyValue]
        package var logs: [Log]
        package var processID: String
        package var warnings: [String]?
        /// Read only: Jaeger v1 files may embed the process in each span instead of naming one of the trace's.
        package var process: Process? = nil

        enum CodingKeys: String, CodingKey {
            case traceID, spanID, operationName, references, startTime, duration, tags, logs, processID, warnings, process
        }

        package init(
            traceID: String, spanID: String, operationName: String, references: [Reference], startTime: UInt64, duration: UInt64,
            tags: [KeyValue], logs: [Log], processID: String, warnings: [String]?
        ) {
            self.traceID = traceID
            self.spanID = spanID
            self.operationName = operationName
            self.references = references
            self.startTime = startTime
            self.duration = duration
            self.tags = tags
            self.logs = logs
            self.processID = processID
            self.warnings = warnings
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            traceID = try container.decode(String.self, forKey: .traceID)
            spanID = try container.decode(String.self, forKey: .spanID)
            operationName = try container.decodeIfPresent(String.self, forKey: .operationName) ?? ""
            references = try container.decodeIfPresent([Reference].self, forKey: .references) ?? []
            startTime = try container.decode(UInt64.self, forKey: .startTime)
            duration = try container.decode(UInt64.self, forKey: .duration)
            tags = try container.decodeIfPresent([KeyValue].self, forKey: .tags) ?? []
            logs = try container.decodeIfPresent([Log].self, forKey: .logs) ?? []
            processID = try container.decodeIfPresent(String.self, forKey: .processID) ?? ""
            warnings = try container.decodeIfPresent([String].self, forKey: .warnings)
            process = try container.decodeIfPresent(Process.self, forKey: .process)
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(traceID, forKey: .traceID)
            try container.encode(spanID, forKey: .spanID)
            try container.encode(operationName, forKey: .operationName)
            try container.encode(references, forKey: .references)
            try container.encode(startTime, forKey: .startTime)
            try container.encode(duration, forKey: .duration)
            try container.encode(tags, forKey: .tags)
            try container.encode(logs, forKey: .logs)
            try container.encode(processID, forKey: .processID)
            if let warnings { try container.encode(warnings, forKey: .warnings) } else { try container.encodeNil(forKey: .warnings) }
        }
    }

    package struct Process: Codable, Sendable {
        /// Nil only when a file leaves it out.
        package var serviceName: String?
        package var tags: [KeyValue]

        enum CodingKeys: String, CodingKey { case serviceName, tags }

        package init(serviceName: String?, tags: [KeyValue]) {
            self.serviceName = serviceName
            self.tags = tags
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            serviceName = try container.decodeIfPresent(String.self, forKey: .serviceName)
            tags = try container.decodeIfPresent([KeyValue].self, forKey: .tags) ?? []
        }
    }

    package var traceID: String
    package var spans: [Span]
    package var processes: [String: Process]
    package var warnings: [String]?

    enum CodingKeys: String, CodingKey { case traceID, spans, processes, warnings }

    package init(traceID: String, spans: [Span], processes: [String: Process], warnings: [String]?) {
        self.traceID = traceID
        self.spans = spans
        self.processes = processes
        self.warnings = warnings
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        traceID = try container.decodeIfPresent(String.self, forKey: .traceID) ?? ""
        spans = try container.decode([Span].self, forKey: .spans)
        processes = try container.decodeIfPresent([String: Process].self, forKey: .processes) ?? [:]
        warnings = try container.decodeIfPresent([String].self, forKey: .warnings)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(traceID, forKey: .traceID)
        try container.encode(spans, forKey: .spans)
        try container.encode(processes, forKey: .processes)
        if let warnings { try container.encode(warnings, forKey: .warnings) } else { try container.encodeNil(forKey: .warnings) }
    }

    /// The traces of an OTLP request, in the order of `ids` (a search's, most recent first).
    static func traces(from request: OTLPExportTraceServiceRequest, in ids: [TraceID]) -> [JaegerTrace] {
        let byID = Dictionary(traces(from: request).map { ($0.traceID, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[TraceIDText.jaeger($0)] }
    }

    /// The traces of an OTLP request, one per trace id in order of first appearance.
    package static func traces(from request: OTLPExportTraceServiceRequest) -> [JaegerTrace] {
        var order: [Data] = []
        var byTrace: [Data: JaegerTrace] = [:]
        var processIDs: [Data: [Opentelemetry_Proto_Resource_V1_Resource: String]] = [:]
        for resourceSpans in request.resourceSpans {
            for scopeSpans in resourceSpans.scopeSpans {
                for otlp in scopeSpans.spans {
                    let traceKey = otlp.traceID
                    if byTrace[traceKey] == nil {
                        order.append(traceKey)
                        byTrace[traceKey] = JaegerTrace(traceID: jaegerID(otlp.traceID), spans: [], processes: [:], warnings: nil)
                    }
                    let processID: String
                    if let known = processIDs[traceKey]?[resourceSpans.resource] {
                        processID = known
                    } else {
                        processID = "p\((processIDs[traceKey]?.count ?? 0) + 1)"
                        processIDs[traceKey, default: [:]][resourceSpans.resource] = processID
                        byTrace[traceKey]!.processes[processID] = process(resourceSpans.resource)
                    }
                    // Spans sharing an id are all shown, without a warning, as Jaeger's converter does (ui_01.json).
                    byTrace[traceKey]!.spans.append(Self.span(otlp, scope: scopeSpans.scope, processID: processID))
                }
            }
        }
        return order.compactMap { byTrace[$0] }
    }

    /// The Jaeger spans of one trace read in parts (``TraceParts``): a process id per distinct resource across the
    /// parts, as ``traces(from:)`` gives for the trace read whole.
    struct Converter {
        /// The processes of the spans converted so far, by id.
        private(set) var processes: [String: Process] = [:]
        private var processIDs: [Opentelemetry_Proto_Resource_V1_Resource: String] = [:]

        mutating func spans(_ part: OTLPExportTraceServiceRequest) -> [Span] {
            var spans: [Span] = []
            for resourceSpans in part.resourceSpans {
                let processID: String
                if let known = processIDs[resourceSpans.resource] {
                    processID = known
                } else {
                    processID = "p\(processIDs.count + 1)"
                    processIDs[resourceSpans.resource] = processID
                    processes[processID] = process(resourceSpans.resource)
                }
                for scopeSpans in resourceSpans.scopeSpans {
                    for otlp in scopeSpans.spans { spans.append(span(otlp, scope: scopeSpans.scope, processID: processID)) }
                }
            }
            return spans
        }
    }

    /// Jaeger's id text: 16 hex digits when the high half of a trace id is zero, else every byte.
    static func jaegerID(_ bytes: Data) -> String {
        let hex = Hex.string(bytes)
        return bytes.count == 16 && bytes.prefix(8).allSatisfy({ $0 == 0 }) ? String(hex.dropFirst(16)) : hex
    }

    static func process(_ resource: Opentelemetry_Proto_Resource_V1_Resource) -> Process {
        let serviceName = resource.attributes.first { $0.key == "service.name" }.map { text($0.value) }
        return Process(
            serviceName: serviceName ?? Resource.unknownServiceName,
            tags: keyValues(resource.attributes.filter { $0.key != "service.name" }))
    }

    static func span(
        _ otlp: Opentelemetry_Proto_Trace_V1_Span, scope: Opentelemetry_Proto_Common_V1_InstrumentationScope, processID: String
    ) -> Span {
        let traceID = jaegerID(otlp.traceID)
        var warnings: [String] = []
        var references: [Reference] = []
        let hasParent = !otlp.parentSpanID.isEmpty && !otlp.parentSpanID.allSatisfy { $0 == 0 }
        if hasParent {
            references.append(Reference(refType: "CHILD_OF", traceID: traceID, spanID: jaegerID(otlp.parentSpanID)))
        }
        for link in otlp.links {
            guard link.traceID.count == 16, !link.traceID.allSatisfy({ $0 == 0 }), link.spanID.count == 8 else {
                warnings.append("Invalid span link removed")
                continue
            }
            let isChildOf = link.attributes.contains { $0.key == "opentracing.ref_type" && text($0.value) == "child_of" }
            let reference = Reference(
                refType: isChildOf ? "CHILD_OF" : "FOLLOWS_FROM", traceID: jaegerID(link.traceID), spanID: jaegerID(link.spanID))
            if hasParent, link.traceID == otlp.traceID, link.spanID == otlp.parentSpanID {
                references[0].refType = reference.refType
            } else {
                references.append(reference)
            }
        }
        var tags: [KeyValue] = []
        if !scope.name.isEmpty { tags.append(KeyValue(key: "otel.scope.name", value: .string(scope.name))) }
        if !scope.version.isEmpty { tags.append(KeyValue(key: "otel.scope.version", value: .string(scope.version))) }
        tags += keyValues(otlp.attributes)
        if let kind = SpanKindName(otlp.kind) { tags.append(KeyValue(key: "span.kind", value: .string(kind.rawValue))) }
        switch otlp.status.code {
        case .ok: tags.append(KeyValue(key: "otel.status_code", value: .string("OK")))
        case .error:
            tags.append(KeyValue(key: "otel.status_code", value: .string("ERROR")))
            tags.append(KeyValue(key: "error", value: .bool(true)))
        default: break
        }
        if !otlp.status.message.isEmpty { tags.append(KeyValue(key: "otel.status_description", value: .string(otlp.status.message))) }
        if !otlp.traceState.isEmpty { tags.append(KeyValue(key: "w3c.tracestate", value: .string(otlp.traceState))) }
        let logs = otlp.events.map { event in
            let named = event.attributes.contains { $0.key == "event" }
            return Log(
                timestamp: event.timeUnixNano / 1000,
                fields: (named ? [] : [KeyValue(key: "event", value: .string(event.name))]) + keyValues(event.attributes))
        }
        return Span(
            traceID: traceID, spanID: jaegerID(otlp.spanID), operationName: otlp.name, references: references,
            startTime: otlp.startTimeUnixNano / 1000,
            duration: (otlp.endTimeUnixNano - min(otlp.startTimeUnixNano, otlp.endTimeUnixNano)) / 1000,
            tags: tags, logs: logs, processID: processID, warnings: warnings.isEmpty ? nil : warnings)
    }

    /// Attributes as Jaeger tags, keys in ascending order.
    static func keyValues(_ attributes: [Opentelemetry_Proto_Common_V1_KeyValue]) -> [KeyValue] {
        attributes.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: value($0.value)) }
    }

    static func value(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> KeyValue.Value {
        switch value.value {
        case .stringValue(let string): return .string(string)
        case .boolValue(let bool): return .bool(bool)
        case .intValue(let int): return .int64(int)
        case .doubleValue(let double): return .float64(double)
        case .bytesValue(let data): return .binary(data)
        default: return .string(text(value))
        }
    }

    /// A value as text: strings as they are, arrays and maps as JSON (as Jaeger's translator writes them).
    static func text(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> String {
        AttributeText.display(value)
    }
}
