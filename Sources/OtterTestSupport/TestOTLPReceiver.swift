import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real OTLP/HTTP receiver on 127.0.0.1 for exporter tests: records each request (body un-gzipped) and
/// answers with scripted responses, then 200 with an empty ExportTraceServiceResponse.
package final class TestOTLPReceiver: Sendable {
    package struct ReceivedRequest: Sendable {
        /// `/v1/traces` or `/v1/logs`.
        package var path: String
        package var headers: HTTPFields
        package var body: [UInt8]
        package var receivedAt: ContinuousClock.Instant
    }

    package struct ScriptedResponse: Sendable {
        package var status: HTTPResponse.Status
        package var headers: HTTPFields
        package var body: [UInt8]

        package init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    private struct State {
        package init() {}

        package var requests: [ReceivedRequest] = []
        var script: [ScriptedResponse] = []
        var group: ServiceGroup?
        var task: Task<Void, any Error>?
    }

    private let state = Mutex(State())

    package init() {}

    package var requests: [ReceivedRequest] { state.withLock { $0.requests } }

    /// Queues responses for the next requests, in order.
    package func script(_ responses: ScriptedResponse...) {
        state.withLock { $0.script.append(contentsOf: responses) }
    }

    /// Starts listening (port 0 picks a free one) and returns the port once connections are accepted.
    package func start(port: Int = 0) async throws -> Int {
        let router = Router()
        let receive: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, context in
            var body = try await request.body.collect(upTo: 64 << 20)
            if request.headers[.contentEncoding] == "gzip" {
                body = try body.decompress(with: .gzip(), maxSize: 64 << 20)
            }
            let received = ReceivedRequest(
                path: request.uri.path, headers: request.headers, body: Array(body.readableBytesView), receivedAt: ContinuousClock.now)
            let response = self.state.withLock { state -> ScriptedResponse in
                state.requests.append(received)
                return state.script.isEmpty ? ScriptedResponse(status: .ok) : state.script.removeFirst()
            }
            var headers = response.headers
            if headers[.contentType] == nil { headers[.contentType] = "application/x-protobuf" }
            return Response(status: response.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
        }
        router.post("/v1/traces", use: receive)
        router.post("/v1/logs", use: receive)
        var logger = Logger(label: "test-otlp-receiver")
        logger.logLevel = .critical
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? port) }, logger: logger)
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task { try await group.run() }
        state.withLock {
            $0.group = group
            $0.task = task
        }
        var iterator = portStream.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw CancellationError() }
        return bound
    }

    package func stop() async {
        let (group, task) = state.withLock { ($0.group, $0.task) }
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
package func unusedLoopbackPort() throws -> Int {
    let socket = try ServerSocketProbe()
    return socket.port
}

/// Binds 127.0.0.1:0 to learn a free port, then closes it.
struct ServerSocketProbe {
    let port: Int

    init() throws {
        let descriptor = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }
}
