import Foundation
import Otter

/// OTLP/JSON for logs (`/v1/logs`): the same encoding rules as for spans (hex ids, 64-bit integers as strings, enum
/// numbers).
extension OTLPJSON {
    /// The logs request as OTLP/JSON (hex ids, enum numbers, 64-bit integers as strings).
    package static func encode(_ request: OTLPExportLogsServiceRequest) -> Data {
        let writer = Writer(omittingDefaults: false)
        writer.object {
            writer.array("resourceLogs", request.resourceLogs) { resourceLogs in
                writer.object {
                    writer.key("resource")
                    writer.object {
                        writer.array("attributes", resourceLogs.resource.attributes, writer.keyValue)
                        if resourceLogs.resource.droppedAttributesCount > 0 {
                            writer.number("droppedAttributesCount", resourceLogs.resource.droppedAttributesCount)
                        }
                    }
                    writer.array("scopeLogs", resourceLogs.scopeLogs) { scopeLogs in
                        writer.object {
                            writer.key("scope")
                            writer.object {
                                writer.string("name", scopeLogs.scope.name, omitEmpty: true)
                                writer.string("version", scopeLogs.scope.version, omitEmpty: true)
                            }
                            writer.array("logRecords", scopeLogs.logRecords, writer.logRecord)
                            writer.string("schemaUrl", scopeLogs.schemaURL, omitEmpty: true)
                        }
                    }
                    writer.string("schemaUrl", resourceLogs.schemaURL, omitEmpty: true)
                }
            }
        }
        return Data(writer.bytes)
    }
}

extension OTLPJSON.Writer {
    func logRecord(_ record: OTLPLogRecord) {
        object {
            int64String("timeUnixNano", record.timeUnixNano, omitZero: true)
            int64String("observedTimeUnixNano", record.observedTimeUnixNano, omitZero: true)
            number("severityNumber", record.severityNumber.rawValue, omitZero: true)
            string("severityText", record.severityText, omitEmpty: true)
            if record.hasBody {
                key("body")
                anyValue(record.body)
            }
            array("attributes", record.attributes, keyValue)
            if record.droppedAttributesCount > 0 { number("droppedAttributesCount", record.droppedAttributesCount) }
            if record.flags != 0 { number("flags", record.flags) }
            hexID("traceId", record.traceID)
            hexID("spanId", record.spanID)
            string("eventName", record.eventName, omitEmpty: true)
        }
    }
}
