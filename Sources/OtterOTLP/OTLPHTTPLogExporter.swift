import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Otter
import SwiftProtobuf

/// Exports log records over OTLP/HTTP (`POST /v1/logs`) as protobuf (default) or JSON, optionally gzipped, with the same retries,
/// headers, timeout and partial-success reporting as ``OTLPHTTPExporter``. Configure it with
/// `OTLPExporterConfiguration.fromEnvironment(environment, signal: .logs)` (`OTEL_EXPORTER_OTLP_LOGS_*`).
public final class OTLPHTTPLogExporter: LogRecordExporter {
    /// Where and how it exports.
    public let configuration: OTLPExporterConfiguration
    private let httpClient: HTTPClient
    private let logger: Logger

    /// An exporter that sends to `configuration.endpoint` (the full URL, `.../v1/logs`): protobuf, or OTLP/JSON
    /// for `http/json` (a `grpc` configuration is sent as protobuf over HTTP; use ``OTLPGRPCLogExporter`` for gRPC).
    public init(
        configuration: OTLPExporterConfiguration,
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "otter.otlp-http-log-exporter")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.httpClient = httpClient ?? OTLPHTTPExporter.sharedUntracedClient
    }

    /// The request body for `batch`, before compression.
    package func encode(_ batch: [OtterLogRecord]) throws -> [UInt8] {
        let request = OTLPLogsMapping.request(for: batch)
        switch configuration.transportProtocol {
        case .httpJSON: return Array(OTLPJSON.encode(request))
        case .httpProtobuf, .grpc: return try request.serializedBytes()
        }
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
        try await OTLPHTTPRequest(configuration: configuration, httpClient: httpClient).post(encoded) { body, contentType in
            guard body.readableBytes > 0 else { return }
            let bytes = Array(body.readableBytesView)
            let response: OTLPExportLogsServiceResponse?
            if contentType?.lowercased().hasPrefix("application/json") == true {
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = true
                response = try? OTLPExportLogsServiceResponse(jsonUTF8Bytes: bytes, options: options)
            } else {
                response = try? OTLPExportLogsServiceResponse(serializedBytes: bytes)
            }
            if let response { logPartialSuccess(response, batchSize: batch.count, logger: logger) }
        }
    }
}
