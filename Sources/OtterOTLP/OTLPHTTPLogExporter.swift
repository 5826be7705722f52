import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Otter
import SwiftProtobuf

/// Exports log records over OTLP/HTTP protobuf (`POST /v1/logs`), optionally gzipped, with the same retries,
/// headers, timeout and partial-success reporting as ``OTLPHTTPExporter``. Configure it with
/// `OTLPExporterConfiguration.fromEnvironment(environment, signal: .logs)` (`OTEL_EXPORTER_OTLP_LOGS_*`).
public final class OTLPHTTPLogExporter: LogRecordExporter {
    public let configuration: OTLPExporterConfiguration
    private let httpClient: HTTPClient
    private let logger: Logger

    /// Why a configuration cannot be used for logs.
    public struct UnsupportedConfiguration: Error, CustomStringConvertible {
        public let description: String
    }

    /// An exporter that sends to `configuration.endpoint` (the full URL, `.../v1/logs`). OTLP/JSON logs are not
    /// written yet: `http/json` is refused here with a message rather than sent wrong.
    public init(
        configuration: OTLPExporterConfiguration,
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "otter.otlp-http-log-exporter")
    ) throws(UnsupportedConfiguration) {
        guard configuration.transportProtocol == .httpProtobuf else {
            throw UnsupportedConfiguration(
                description: "OTLP log export supports http/protobuf; \(configuration.transportProtocol.rawValue) is not supported yet")
        }
        self.configuration = configuration
        self.logger = logger
        self.httpClient = httpClient ?? OTLPHTTPExporter.sharedUntracedClient
    }

    /// The request body for `batch`, before compression.
    package func encode(_ batch: [OtterLogRecord]) throws -> [UInt8] {
        try OTLPLogsMapping.request(for: batch).serializedBytes()
    }

    /// Sends `batch` in one request, or, when its encoding is over the 64 MiB an OTLP request may have, in halves
    /// (a single record over the limit fails with ``OTLPExportError/requestTooLarge(bytes:)``, the rest still go).
    public func export(_ batch: [OtterLogRecord]) async throws {
        guard !batch.isEmpty else { return }
        let encoded = try encode(batch)
        if encoded.count > OTLPHTTPExporter.maximumRequestBytes, batch.count > 1 {
            let middle = batch.count / 2
            var firstError: (any Error)?
            for half in [Array(batch[..<middle]), Array(batch[middle...])] {
                do { try await export(half) } catch { firstError = firstError ?? error }
            }
            if let firstError { throw firstError }
            return
        }
        try await OTLPHTTPRequest(configuration: configuration, httpClient: httpClient).post(encoded) { body, _ in
            guard body.readableBytes > 0,
                let response = try? OTLPExportLogsServiceResponse(serializedBytes: Array(body.readableBytesView))
            else { return }
            logPartialSuccess(response, batchSize: batch.count, logger: logger)
        }
    }
}
