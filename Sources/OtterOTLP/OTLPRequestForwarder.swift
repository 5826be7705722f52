import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCProtobuf
import NIOCore
import Otter

/// Sends OTLP export requests that are already encoded (protobuf `ExportTraceServiceRequest` or
/// `ExportLogsServiceRequest` bytes, as a viewer stores them) to an OTLP receiver, over OTLP/HTTP or OTLP/gRPC, with
/// the exporters' headers, compression and retries. What the viewer's forwarding sends upstream with.
package final class OTLPRequestForwarder: Sendable {
    /// What a receiver made of one request.
    package struct Receipt: Sendable, Equatable {
        /// Spans or log records the receiver refused in a partial success.
        package var rejected: Int64
        package var message: String
    }

    /// The base configuration: for HTTP, `endpoint` is the base URL (`/v1/traces` and `/v1/logs` are appended, as for
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`); for gRPC, the server's `http(s)://host:port`.
    package let configuration: OTLPExporterConfiguration
    private let grpc: OTLPGRPCConnection?

    package init(configuration: OTLPExporterConfiguration) throws(ConfigurationError) {
        self.configuration = configuration
        grpc = configuration.transportProtocol == .grpc ? try OTLPGRPCConnection(configuration: configuration) : nil
    }

    /// Sends one encoded request of `signal`. Throws ``OTLPExportError``: `rejected`/`rejectedRPC` when the receiver
    /// refused it for good, `gaveUp` when it stayed unreachable or busy through the retries and the timeout.
    package func send(_ request: [UInt8], signal: OTLPSignal) async throws -> Receipt {
        if let grpc { return try await sendGRPC(request, signal: signal, connection: grpc) }
        var http = configuration
        let base = configuration.endpoint.absoluteString
        http.endpoint = URL(string: (base.hasSuffix("/") ? base : base + "/") + signal.httpPath) ?? configuration.endpoint
        http.transportProtocol = .httpProtobuf
        var receipt = Receipt(rejected: 0, message: "")
        try await OTLPHTTPRequest(configuration: http, httpClient: .shared).post(request) { body, _ in
            receipt = Self.receipt(of: Array(body.readableBytesView), signal: signal)
        }
        return receipt
    }

    /// The partial success in a protobuf response body (none in an empty or unreadable one).
    static func receipt(of body: [UInt8], signal: OTLPSignal) -> Receipt {
        switch signal {
        case .traces:
            guard let response = try? OTLPExportTraceServiceResponse(serializedBytes: body), response.hasPartialSuccess else { break }
            return Receipt(rejected: response.partialSuccess.rejectedSpans, message: response.partialSuccess.errorMessage)
        case .logs:
            guard let response = try? OTLPExportLogsServiceResponse(serializedBytes: body), response.hasPartialSuccess else { break }
            return Receipt(rejected: response.partialSuccess.rejectedLogRecords, message: response.partialSuccess.errorMessage)
        }
        return Receipt(rejected: 0, message: "")
    }

    private func sendGRPC(_ request: [UInt8], signal: OTLPSignal, connection: OTLPGRPCConnection) async throws -> Receipt {
        let service =
            signal == .traces ? "opentelemetry.proto.collector.trace.v1.TraceService" : "opentelemetry.proto.collector.logs.v1.LogsService"
        let descriptor = MethodDescriptor(fullyQualifiedService: service, method: "Export")
        var receipt = Receipt(rejected: 0, message: "")
        try await connection.export { metadata, options in
            let body = try await connection.client.unary(
                request: ClientRequest(message: request, metadata: metadata), descriptor: descriptor,
                serializer: EncodedRequestSerializer(),
                deserializer: ResponseBytesDeserializer(), options: options
            ) { response in try response.message }
            receipt = Self.receipt(of: body, signal: signal)
        }
        return receipt
    }

    /// Closes the gRPC connection, if any.
    package func shutdown() async {
        await grpc?.shutdown()
    }
}

/// Passes request bytes that are already protobuf through unchanged.
private struct EncodedRequestSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

/// A response's protobuf bytes, read by ``OTLPRequestForwarder/receipt(of:signal:)``.
private struct ResponseBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}
