import GRPCCore
import GRPCProtobuf
import Logging
import Otter

/// Exports spans over OTLP/gRPC (`opentelemetry.proto.collector.trace.v1.TraceService/Export`) on grpc-swift 2:
/// plaintext for `http://` endpoints, TLS for `https://`, custom headers as metadata, optional gzip. Retries the
/// codes the OTLP specification calls retryable (CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
/// UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED when the server sends RetryInfo, whose delay is honoured) with
/// exponential backoff and jitter within the export timeout; other codes are dropped and reported once.
public final class OTLPGRPCExporter: SpanExporter {
    /// Where and how it exports.
    public var configuration: OTLPExporterConfiguration { connection.configuration }
    private let connection: OTLPGRPCConnection
    private let logger: Logger

    /// Connects lazily: nothing is sent until the first export, and a receiver that is down is retried.
    public init(
        configuration: OTLPExporterConfiguration, logger: Logger = Logger(label: "otter.otlp-grpc-exporter")
    ) throws(ConfigurationError) {
        connection = try OTLPGRPCConnection(configuration: configuration)
        self.logger = logger
    }

    /// Sends the batch as one `ExportTraceServiceRequest`, retrying what the specification calls retryable within the
    /// export timeout; throws when the batch could not be delivered (it is then lost, as the specification says).
    public func export(_ batch: [FinishedSpan]) async throws {
        guard !batch.isEmpty else { return }
        let request = OTLPMapping.request(for: batch)
        let traceService = Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: connection.client)
        try await connection.export { metadata, options in
            let response = try await traceService.export(request, metadata: metadata, options: options)
            logPartialSuccess(response, batchSize: batch.count, logger: logger)
        }
    }

    /// The `RetryInfo.retry_delay` the server put in `grpc-status-details-bin`, if any.
    static func retryDelay(in error: RPCError) -> Duration? {
        OTLPGRPCConnection.retryDelay(in: error)
    }

    /// Closes the connection once in-flight exports finish.
    public func shutdown() async {
        await connection.shutdown()
    }
}

/// Exports log records over OTLP/gRPC (`opentelemetry.proto.collector.logs.v1.LogsService/Export`), with the same
/// connection, headers, compression and retries as ``OTLPGRPCExporter``. Configure it with
/// `OTLPExporterConfiguration.fromEnvironment(environment, signal: .logs, defaultProtocol: .grpc)`.
public final class OTLPGRPCLogExporter: LogRecordExporter {
    /// Where and how it exports.
    public var configuration: OTLPExporterConfiguration { connection.configuration }
    private let connection: OTLPGRPCConnection
    private let logger: Logger

    /// Connects lazily: nothing is sent until the first export, and a receiver that is down is retried.
    public init(
        configuration: OTLPExporterConfiguration, logger: Logger = Logger(label: "otter.otlp-grpc-log-exporter")
    ) throws(ConfigurationError) {
        connection = try OTLPGRPCConnection(configuration: configuration)
        self.logger = logger
    }

    /// Sends the batch as one `ExportLogsServiceRequest`, with the retries of ``OTLPGRPCExporter/export(_:)``.
    public func export(_ batch: [OtterLogRecord]) async throws {
        guard !batch.isEmpty else { return }
        let request = OTLPLogsMapping.request(for: batch)
        let logsService = Opentelemetry_Proto_Collector_Logs_V1_LogsService.Client(wrapping: connection.client)
        try await connection.export { metadata, options in
            let response = try await logsService.export(request, metadata: metadata, options: options)
            logPartialSuccess(response, batchSize: batch.count, logger: logger)
        }
    }

    /// Closes the connection once in-flight exports finish.
    public func shutdown() async {
        await connection.shutdown()
    }
}
