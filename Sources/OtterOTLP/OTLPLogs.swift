/// The OTLP logs messages (`opentelemetry.proto.collector.logs.v1`, `opentelemetry.proto.logs.v1`) under Otter's
/// names, as `OTLPMapping` names the trace ones. The log pipeline and the viewer's logs receivers build on these.
package typealias OTLPExportLogsServiceRequest = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
package typealias OTLPExportLogsServiceResponse = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse
package typealias OTLPLogRecord = Opentelemetry_Proto_Logs_V1_LogRecord
package typealias OTLPSeverityNumber = Opentelemetry_Proto_Logs_V1_SeverityNumber
