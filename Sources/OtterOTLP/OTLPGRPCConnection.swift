import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Otter

/// One OTLP/gRPC connection and its retries, for every signal: plaintext for `http://` endpoints, TLS for
/// `https://`, custom headers as metadata, optional gzip; retries the codes the OTLP specification calls retryable
/// (CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED when the
/// server sends RetryInfo, whose delay is honoured) with exponential backoff and jitter within the export timeout.
final class OTLPGRPCConnection: Sendable {
    let configuration: OTLPExporterConfiguration
    let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    /// Connects lazily: nothing is sent until the first call, and a receiver that is down is retried.
    init(configuration: OTLPExporterConfiguration) throws(ConfigurationError) {
        self.configuration = configuration
        let endpoint = configuration.endpoint
        let isTLS = endpoint.scheme?.lowercased() == "https"
        guard let host = endpoint.host, !host.isEmpty else {
            throw .invalidValue(variable: "OTEL_EXPORTER_OTLP_ENDPOINT", value: endpoint.absoluteString, expected: "a URL with a host")
        }
        let port = endpoint.port ?? (isTLS ? 443 : 4317)
        let target: any ResolvableTarget
        if host.contains(":") {
            target = .ipv6(address: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
        } else if host.split(separator: ".").count == 4, host.allSatisfy({ $0.isNumber || $0 == "." }) {
            target = .ipv4(address: host, port: port)
        } else {
            target = .dns(host: host, port: port)
        }
        var transportConfiguration = HTTP2ClientTransport.Posix.Config.defaults
        if configuration.compression == .gzip {
            transportConfiguration.compression = .init(algorithm: .gzip, enabledAlgorithms: .gzip)
        }
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: target, transportSecurity: isTLS ? .tls : .plaintext, config: transportConfiguration)
        } catch {
            throw .exporterUnavailable(name: "otlp (grpc)", reason: "cannot reach \(endpoint): \(error)")
        }
        let client = GRPCClient(transport: transport)
        self.client = client
        connections = Task { try? await client.runConnections() }
    }

    /// Runs `call` (one export RPC) with the configured metadata and options until it succeeds, fails for good
    /// (``OTLPExportError/rejectedRPC(code:message:)``) or the retries or the export timeout run out.
    func export(_ call: (Metadata, CallOptions) async throws -> Void) async throws {
        var metadata = Metadata()
        metadata.addString("\(OTLPHTTPExporter.userAgent) grpc-swift/2", forKey: "user-agent")
        for header in configuration.headers { metadata.addString(header.value, forKey: header.name.lowercased()) }
        try await configuration.retryPolicy.run(timeout: configuration.timeout) { deadline in
            var options = CallOptions.defaults
            options.timeout = max(.milliseconds(1), ContinuousClock().now.duration(to: deadline))
            if configuration.compression == .gzip { options.compression = .gzip }
            do {
                try await call(metadata, options)
                return .delivered
            } catch let error as RPCError {
                if Task.isCancelled { throw CancellationError() }
                let reason = "gRPC \(error.code): \(error.message)"
                switch error.code {
                case .cancelled, .deadlineExceeded, .aborted, .outOfRange, .unavailable, .dataLoss:
                    return .retryable(reason: reason, retryAfter: Self.retryDelay(in: error))
                case .resourceExhausted:
                    guard let delay = Self.retryDelay(in: error) else {
                        throw OTLPExportError.rejectedRPC(code: "\(error.code)", message: error.message)
                    }
                    return .retryable(reason: reason, retryAfter: delay)
                default:
                    throw OTLPExportError.rejectedRPC(code: "\(error.code)", message: error.message)
                }
            }
        }
    }

    /// The `RetryInfo.retry_delay` the server put in `grpc-status-details-bin`, if any.
    static func retryDelay(in error: RPCError) -> Duration? {
        guard let status = try? error.unpackGoogleRPCStatus() else { return nil }
        return status.details.lazy.compactMap(\.retryInfo).first?.delay
    }

    /// Closes the connection once in-flight calls finish, or after `grace` (a receiver that never answers would hold
    /// a call, and the shutdown, forever): then the connection is closed under them.
    func shutdown(grace: Duration = .seconds(5)) async {
        client.beginGracefulShutdown()
        let connections = connections
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await connections.value }
            group.addTask { try? await Task.sleep(for: grace) }
            await group.next()
            connections.cancel()
            group.cancelAll()
        }
    }
}
