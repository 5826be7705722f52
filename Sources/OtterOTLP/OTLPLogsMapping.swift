import Foundation
import Otter

/// The OTLP logs messages (`opentelemetry.proto.collector.logs.v1`, `opentelemetry.proto.logs.v1`) under Otter's
/// names, as `OTLPMapping` names the trace ones.
package typealias OTLPExportLogsServiceRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
package typealias OTLPExportLogsServiceResponse = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse
package typealias OTLPLogRecord = Opentelemetry_Proto_Logs_V1_LogRecord
package typealias OTLPSeverityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber

/// ``OtterLogRecord`` ↔ OTLP logs messages.
package enum OTLPLogsMapping {
    /// One request holding `records`, grouped by resource and then by instrumentation scope, in first-seen order.
    package static func request(for records: [OtterLogRecord]) -> OTLPExportLogsServiceRequest {
        var request = OTLPExportLogsServiceRequest()
        request.resourceLogs = OTLPGrouping(records, resource: \.resource, scope: \.instrumentationScope).resources.map { group in
            var resourceLogs = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            resourceLogs.resource = OTLPMapping.resource(for: group.resource)
            if let schemaURL = group.resource.schemaURL { resourceLogs.schemaURL = schemaURL }
            resourceLogs.scopeLogs = group.scopes.map { scopeGroup in
                var scopeLogs = Opentelemetry_Proto_Logs_V1_ScopeLogs()
                scopeLogs.scope.name = scopeGroup.scope.name
                if let version = scopeGroup.scope.version { scopeLogs.scope.version = version }
                scopeLogs.logRecords = scopeGroup.items.map { logRecord(for: records[$0]) }
                return scopeLogs
            }
            return resourceLogs
        }
        return request
    }

    package static func logRecord(for record: OtterLogRecord) -> OTLPLogRecord {
        var otlp = OTLPLogRecord()
        otlp.timeUnixNano = record.timeNanosecondsSinceEpoch
        otlp.observedTimeUnixNano = record.observedTimeNanosecondsSinceEpoch
        otlp.severityNumber = OTLPSeverityNumber(rawValue: record.severity.number) ?? .unspecified
        otlp.severityText = record.severityText
        otlp.body = anyValue(record.body)
        otlp.attributes = keyValues(record.attributes)
        otlp.droppedAttributesCount = UInt32(clamping: record.droppedAttributesCount)
        if let spanContext = record.spanContext {
            otlp.traceID = Data(spanContext.traceID.bytes)
            otlp.spanID = Data(spanContext.spanID.bytes)
            otlp.flags = UInt32(spanContext.traceFlags.rawValue)
        }
        return otlp
    }

    /// Attributes in name order.
    package static func keyValues(_ attributes: [String: LogValue]) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        attributes.sorted { $0.key < $1.key }.map { name, value in
            var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
            keyValue.key = name
            keyValue.value = anyValue(value)
            return keyValue
        }
    }

    package static func anyValue(_ value: LogValue) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var otlp = Opentelemetry_Proto_Common_V1_AnyValue()
        switch value {
        case .string(let string): otlp.stringValue = string
        case .bool(let bool): otlp.boolValue = bool
        case .int(let int): otlp.intValue = int
        case .double(let double): otlp.doubleValue = double
        case .array(let values):
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = values.map(anyValue)
            otlp.arrayValue = array
        case .map(let values):
            var list = Opentelemetry_Proto_Common_V1_KeyValueList()
            list.values = keyValues(values)
            otlp.kvlistValue = list
        }
        return otlp
    }
}
