import Foundation
import Otter
import SwiftProtobuf

/// Log records in OTLP form, grouped by resource and instrumentation scope as an OTLP `ExportLogsServiceRequest` holds
/// them: what a log store writes and reads, as ``OTLPTraces`` is for spans. Every value OTLP carries survives (bytes,
/// event names, flags), including those `OtterLogRecord` cannot express.
public struct OTLPLogs: Sendable, Equatable {
    package var request: OTLPExportLogsServiceRequest {
        didSet { receivedProtobuf = nil }
    }
    /// The protobuf bytes `request` was decoded from, when it was: a store can keep them as they are.
    package private(set) var receivedProtobuf: [UInt8]?

    package init(_ request: OTLPExportLogsServiceRequest, receivedProtobuf: [UInt8]? = nil) {
        self.request = request
        self.receivedProtobuf = receivedProtobuf
    }

    /// Equal when the requests are: the same records in the same resources and scopes, however they arrived.
    public static func == (lhs: OTLPLogs, rhs: OTLPLogs) -> Bool {
        lhs.request == rhs.request
    }

    /// No records.
    public init() {
        self.init(OTLPExportLogsServiceRequest())
    }

    /// The records, grouped by resource and then scope in first-seen order.
    public init(_ records: [OtterLogRecord]) {
        self.init(OTLPLogsMapping.request(for: records))
    }

    /// Decodes an OTLP/HTTP protobuf body (`application/x-protobuf`) of `/v1/logs`, within the default request limits
    /// (500,000 messages, nesting 32).
    public init(protobuf bytes: [UInt8]) throws {
        let request: OTLPExportLogsServiceRequest = try bytes.withUnsafeBytes {
            try OTLPRequestLimits.default.decode(protobuf: $0, signal: .logs)
        }
        self.init(request, receivedProtobuf: bytes)
    }

    /// Decodes an OTLP/JSON body (`application/json`, hex ids) of `/v1/logs`, within the default request limits.
    public init(json: Data) throws {
        self.init(try OTLPJSON.decodeLogsRequest(json))
    }

    /// The OTLP protobuf encoding.
    public func protobuf() throws -> [UInt8] {
        try request.serializedBytes()
    }

    /// The OTLP/JSON encoding (hex ids, enum numbers), as exporters send it and `/api/otter/logs` answers.
    public func json() -> Data {
        OTLPJSON.encode(request)
    }

    /// Appends `other`'s records after these, each resource as it is (records keep their order).
    public mutating func append(_ other: OTLPLogs) {
        request.resourceLogs += other.request.resourceLogs
    }

    /// The number of log records.
    public var recordCount: Int {
        request.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
    }

    /// The records that can be read as `OtterLogRecord`s (ids absent or valid), in order. Bytes values become
    /// their base64 text.
    public var records: [OtterLogRecord] {
        var records: [OtterLogRecord] = []
        OTLPLogsMapping.forEachRecord(in: request) { otlp, resource, scope, validity in
            guard validity == nil else { return }
            records.append(OTLPLogsMapping.logRecord(from: otlp, resource: resource, scope: scope))
        }
        return records
    }

    /// The records that can be stored (trace and span ids absent or of the right length), with their resources and
    /// scopes as received, and one message per record refused, for OTLP's `partial_success`.
    public func validated() -> (valid: OTLPLogs, rejections: [String]) {
        var rejections: [String] = []
        var valid = request
        for resourceIndex in valid.resourceLogs.indices {
            for scopeIndex in valid.resourceLogs[resourceIndex].scopeLogs.indices {
                valid.resourceLogs[resourceIndex].scopeLogs[scopeIndex].logRecords.removeAll { record in
                    guard let problem = OTLPLogsMapping.idProblem(of: record) else { return false }
                    rejections.append(problem)
                    return true
                }
            }
        }
        if rejections.isEmpty { return (self, []) }
        return (OTLPLogs(valid), rejections)
    }
}

extension OTLPLogsMapping {
    /// Why `record` cannot be stored (a trace id that is not 16 bytes or a span id that is not 8, when present), or nil.
    /// All-zero ids mean "no span", as the specification allows.
    package static func idProblem(of record: OTLPLogRecord) -> String? {
        let traceIDLength = record.traceID.count
        let spanIDLength = record.spanID.count
        guard traceIDLength == 0 || traceIDLength == 16, spanIDLength == 0 || spanIDLength == 8 else {
            let which = traceIDLength == 0 || traceIDLength == 16 ? "span" : "trace"
            let id = which == "span" ? record.spanID : record.traceID
            return "log record '\(bodyText(record.body).prefix(100))' has an invalid \(which) id "
                + "(\(OTLPReading.idProblem(id, length: which == "span" ? 8 : 16)))"
        }
        return nil
    }

    /// Calls `body` with every record of `request`, its resource and scope as models, and why it cannot be stored (nil
    /// when it can).
    package static func forEachRecord(
        in request: OTLPExportLogsServiceRequest,
        _ body: (OTLPLogRecord, Resource, InstrumentationScope, String?) throws -> Void
    ) rethrows {
        for resourceLogs in request.resourceLogs {
            let resource = Resource(
                attributes: OTLPReading.spanAttributes(resourceLogs.resource.attributes),
                schemaURL: resourceLogs.schemaURL.isEmpty ? nil : resourceLogs.schemaURL)
            for scopeLogs in resourceLogs.scopeLogs {
                let scope = InstrumentationScope(
                    name: scopeLogs.scope.name, version: scopeLogs.scope.version.isEmpty ? nil : scopeLogs.scope.version)
                for record in scopeLogs.logRecords {
                    try body(record, resource, scope, idProblem(of: record))
                }
            }
        }
    }

    /// A stored OTLP record as the SDK's model. Its time is the event time, or the observed time when the event time is
    /// missing.
    package static func logRecord(from otlp: OTLPLogRecord, resource: Resource, scope: InstrumentationScope) -> OtterLogRecord {
        var spanContext: OtterSpanContext?
        if let traceID = TraceID(bytes: otlp.traceID), traceID.isValid, let spanID = SpanID(bytes: otlp.spanID), spanID.isValid {
            spanContext = OtterSpanContext(
                traceID: traceID, spanID: spanID, traceFlags: TraceFlags(rawValue: UInt8(truncatingIfNeeded: otlp.flags)))
        }
        var attributes: [String: LogValue] = [:]
        for keyValue in otlp.attributes where attributes[keyValue.key] == nil {
            attributes[keyValue.key] = logValue(keyValue.value)
        }
        return OtterLogRecord(
            timeNanosecondsSinceEpoch: otlp.timeUnixNano != 0 ? otlp.timeUnixNano : otlp.observedTimeUnixNano,
            observedTimeNanosecondsSinceEpoch: otlp.observedTimeUnixNano != 0 ? otlp.observedTimeUnixNano : otlp.timeUnixNano,
            severity: LogSeverity(number: otlp.severityNumber.rawValue),
            severityText: otlp.severityText.isEmpty ? nil : otlp.severityText,
            body: logValue(otlp.body),
            attributes: attributes,
            droppedAttributesCount: Int(otlp.droppedAttributesCount),
            spanContext: spanContext,
            resource: resource,
            instrumentationScope: scope)
    }

    /// An OTLP value as a ``LogValue``: bytes as base64 text, an empty value as an empty string.
    package static func logValue(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> LogValue {
        switch value.value {
        case .stringValue(let string): return .string(string)
        case .boolValue(let bool): return .bool(bool)
        case .intValue(let int): return .int(int)
        case .doubleValue(let double): return .double(double)
        case .arrayValue(let array): return .array(array.values.map(logValue))
        case .kvlistValue(let list):
            var map: [String: LogValue] = [:]
            for keyValue in list.values where map[keyValue.key] == nil { map[keyValue.key] = logValue(keyValue.value) }
            return .map(map)
        case .bytesValue(let data): return .string(data.base64EncodedString())
        case .stringValueStrindex, nil: return .string("")
        }
    }

    /// A body as one line of text (strings as they are, other values as ``LogValue/text``).
    package static func bodyText(_ body: Opentelemetry_Proto_Common_V1_AnyValue) -> String {
        if case .stringValue(let string) = body.value { return string }
        return logValue(body).text
    }
}
