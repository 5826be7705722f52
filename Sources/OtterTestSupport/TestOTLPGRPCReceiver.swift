import GRPCCore
import GRPCNIOTransportHTTP2
import OtterOTLP
import Synchronization

/// A real OTLP/gRPC receiver on 127.0.0.1 for exporter tests: records each request with its metadata and answers
/// with scripted errors first, then success.
package final class TestOTLPGRPCReceiver: Sendable {
    package struct ReceivedRequest: Sendable {
        package var request: OTLPExportTraceServiceRequest
        package var metadata: Metadata
    }

    package struct ReceivedLogsRequest: Sendable {
        package var request: OTLPExportLogsServiceRequest
        package var metadata: Metadata
    }

    private struct State {
        var requests: [ReceivedRequest] = []
        var logsRequests: [ReceivedLogsRequest] = []
        var script: [any Error] = []
        var server: GRPCServer<HTTP2ServerTransport.Posix>?
        var task: Task<Void, any Error>?
    }

    private let state = Mutex(State())

    package init() {}

    package var requests: [ReceivedRequest] { state.withLock { $0.requests } }

    /// The `LogsService/Export` requests received, in order.
    package var logsRequests: [ReceivedLogsRequest] { state.withLock { $0.logsRequests } }

    /// Queues errors to answer the next requests with, in order.
    package func script(_ errors: any Error...) {
        state.withLock { $0.script.append(contentsOf: errors) }
    }

    struct Service: Opentelemetry_Proto_Collector_Trace_V1_TraceService.ServiceProtocol {
        let receiver: TestOTLPGRPCReceiver

        func export(
            request: ServerRequest<OTLPExportTraceServiceRequest>, context: ServerContext
        ) async throws -> ServerResponse<OTLPExportTraceServiceResponse> {
            ServerResponse(message: try receiver.receive(request.message, metadata: request.metadata))
        }
    }

    struct LogsService: Opentelemetry_Proto_Collector_Logs_V1_LogsService.ServiceProtocol {
        let receiver: TestOTLPGRPCReceiver

        func export(
            request: ServerRequest<OTLPExportLogsServiceRequest>, context: ServerContext
        ) async throws -> ServerResponse<OTLPExportLogsServiceResponse> {
            let error = receiver.state.withLock { state -> (any Error)? in
                state.logsRequests.append(ReceivedLogsRequest(request: request.message, metadata: request.metadata))
                return state.script.isEmpty ? nil : state.script.removeFirst()
            }
            if let error { throw error }
            return ServerResponse(message: OTLPExportLogsServiceResponse())
        }
    }

    func receive(_ request: OTLPExportTraceServiceRequest, metadata: Metadata) throws -> OTLPExportTraceServiceResponse {
        let error = state.withLock { state -> (any Error)? in
            state.requests.append(ReceivedRequest(request: request, metadata: metadata))
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        if let error { throw error }
        return OTLPExportTraceServiceResponse()
    }

    /// Starts listening (port 0 picks a free one) and returns the port.
    package func start(port: Int = 0) async throws -> Int {
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext,
                config: .defaults { $0.compression.enabledAlgorithms = .all }),
            services: [Service(receiver: self), LogsService(receiver: self)])
        let task = Task { try await server.serve() }
        state.withLock {
            $0.server = server
            $0.task = task
        }
        guard let address = try await server.listeningAddress?.ipv4 else { throw RPCError(code: .internalError, message: "no address") }
        return address.port
    }

    package func stop() async {
        let (server, task) = state.withLock { ($0.server, $0.task) }
        server?.beginGracefulShutdown()
        _ = try? await task?.value
    }
}
