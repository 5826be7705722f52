import AsyncHTTPClient
import CompressNIO
import Foundation
import GRPCProtobuf
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Otter
import SwiftProtobuf

/// Why an OTLP export did not deliver its spans.
public enum OTLPExportError: Error, CustomStringConvertible {
    /// The receiver refused the request with a status that must not be retried (400, 401, 413, ...).
    case rejected(statusCode: Int, message: String)
    /// Retryable failures went on until the attempts or the export timeout ran out.
    case gaveUp(attempts: Int, lastError: String)
    /// The gRPC receiver answered with a status that must not be retried.
    case rejectedRPC(code: String, message: String)
    /// The request would exceed the 64 MiB the specification allows.
    case requestTooLarge(bytes: Int)

    /// The failure as a sentence for logs, with the receiver's message.
    public var description: String {
        switch self {
        case .rejected(let statusCode, let message):
            return "OTLP receiver rejected the export with HTTP \(statusCode)\(message.isEmpty ? "" : ": \(message)") (not retried)"
        case .rejectedRPC(let code, let message):
            return "OTLP receiver rejected the export with gRPC \(code)\(message.isEmpty ? "" : ": \(message)") (not retried)"
        case .gaveUp(let attempts, let lastError):
            return "OTLP export failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(lastError)"
        case .requestTooLarge(let bytes):
            return "OTLP request of \(bytes) bytes exceeds the 64 MiB limit; not sent"
        }
    }
}

/// Exports spans over OTLP/HTTP (`POST /v1/traces`) as protobuf (default) or JSON, optionally gzipped, with the
/// retries the OTLP specification asks for: 429, 502, 503, 504 and connection failures are retried with
/// exponential backoff and jitter (or after `Retry-After`), within the export timeout; anything else is dropped
/// and reported once. Partial successes are logged with the rejected count.
public final class OTLPHTTPExporter: SpanExporter {
    /// Where and how it exports.
    public let configuration: OTLPExporterConfiguration
    private let httpClient: HTTPClient
    private let logger: Logger
    static let maximumRequestBytes = 64 << 20
    static let userAgent = "OTel-OTLP-Exporter-Swift-Otter/\(Otter.version)"

    /// An exporter that sends to `configuration.endpoint` over OTLP/HTTP.
    /// - Parameters:
    ///   - configuration: where and how to send (endpoint, protobuf or JSON, headers, compression, timeout, retries).
    ///   - httpClient: a client to use; by default all exporters share one process-wide client with
    ///     tracing off (so exports never produce spans of their own) that needs no shutdown.
    ///   - logger: where failed exports are reported.
    public init(
        configuration: OTLPExporterConfiguration,
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "otter.otlp-http-exporter")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.httpClient = httpClient ?? Self.sharedUntracedClient
    }

    /// Lives as long as the process, like `HTTPClient.shared`, but never traces its own requests.
    static let sharedUntracedClient: HTTPClient = {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.tracing.tracer = nil
        clientConfiguration.connectionPool.idleTimeout = .seconds(60)
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)
    }()

    /// The request body for `batch` in the configured encoding, before compression.
    @_spi(Benchmarks) public func encode(_ batch: [FinishedSpan]) throws -> [UInt8] {
        switch configuration.transportProtocol {
        case .httpJSON: return Array(OTLPJSON.encode(OTLPMapping.request(for: batch)))
        default: return OTLPProtobufEncoder.encode(batch)
        }
    }

    /// POSTs the batch as one export request, retrying what the specification calls retryable within the export
    /// timeout; throws ``OTLPExportError`` when the batch could not be delivered.
    public func export(_ batch: [FinishedSpan]) async throws {
        guard !batch.isEmpty else { return }
        try await OTLPHTTPRequest(configuration: configuration, httpClient: httpClient).post(encode(batch)) { body, contentType in
            logPartialSuccess(body, contentType: contentType, batchSize: batch.count)
        }
    }

    private func logPartialSuccess(_ body: ByteBuffer, contentType: String?, batchSize: Int) {
        guard body.readableBytes > 0 else { return }
        let bytes = Array(body.readableBytesView)
        let response: OTLPExportTraceServiceResponse?
        if contentType?.lowercased().hasPrefix("application/json") == true {
            var options = JSONDecodingOptions()
            options.ignoreUnknownFields = true
            response = try? OTLPExportTraceServiceResponse(jsonUTF8Bytes: bytes, options: options)
        } else {
            response = try? OTLPExportTraceServiceResponse(serializedBytes: bytes)
        }
        guard let response else { return }
        OtterOTLP.logPartialSuccess(response, batchSize: batchSize, logger: logger)
    }

    /// Nothing to release: the HTTP client is either the caller's or the process-wide one.
    public func shutdown() async {}
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
