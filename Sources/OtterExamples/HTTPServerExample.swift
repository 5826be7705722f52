import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Otter
import ServiceLifecycle
import Tracing

/// The example's instrumented server (service `http-server`): `GET /` runs a SERVER span (Hummingbird's
/// `TracingMiddleware`), an INTERNAL span `parent` inside it, and inside that an outgoing GET (a CLIENT span
/// from AsyncHTTPClient's tracing) to the downstream URL, by default this server's own `/wiki/Rabbit`.
package enum HTTPServerExample {
    package struct Configuration: Sendable {
        package var host: String
        package var port: Int
        /// Where `GET /` fetches from; nil means this server's own `/wiki/Rabbit` page.
        package var downstreamURL: String?

        package init(host: String = "127.0.0.1", port: Int = 8082, downstreamURL: String? = nil) {
            self.host = host
            self.port = port
            self.downstreamURL = downstreamURL
        }
    }

    /// The page `/wiki/Rabbit` serves: a small stand-in for the Wikipedia article the seed fetches.
    package static let rabbitPage = """
        <!DOCTYPE html><html><head><title>Rabbit</title></head><body><h1>Rabbit</h1>
        <p>Rabbits are small mammals in the family Leporidae.</p></body></html>

        """

    /// Builds the application. `onListening` receives the bound port (useful with port 0).
    package static func makeApplication(
        configuration: Configuration,
        httpClient: HTTPClient,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: ExampleRequestContext.self)
        router.add(middleware: TracingMiddleware())
        // Inside the SERVER span: the access line carries the request's trace and span ids.
        router.add(middleware: AccessLogMiddleware(logger: logger))
        let routes = router.group().add(middleware: ServerSpanDetailsMiddleware(host: configuration.host))

        let portBox = BoundPort()
        routes.get("/") { _, _ -> Response in
            let downstream = configuration.downstreamURL ?? "http://\(configuration.host):\(portBox.port)/wiki/Rabbit"
            do {
                let byteCount = try await withSpan("parent") { span in
                    span.attributes["downstream.url"] = downstream
                    let fetched = try await fetch(downstream, with: httpClient)
                    span.attributes["downstream.response.size"] = fetched
                    logger.info("fetched the downstream page", metadata: ["url.full": "\(downstream)", "bytes": "\(fetched)"])
                    return fetched
                }
                return Response.text("Fetched \(byteCount) bytes from \(downstream)\n")
            } catch {
                logger.error("downstream request failed", metadata: ["url": "\(downstream)", "error": "\(error)"])
                return Response.text("Downstream \(downstream) failed: \(error)\n", status: .badGateway)
            }
        }
        routes.get("/wiki/Rabbit") { _, _ -> Response in
            Response.text(rabbitPage, contentType: "text/html; charset=utf-8")
        }
        routes.get("/orders/:id/confirmation") { _, context -> Response in
            let orderID = context.parameters.get("id") ?? "unknown"
            let escaped = orderID.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
            return Response.text(
                "<!DOCTYPE html><html><body><h1>Order \(escaped) confirmed</h1></body></html>\n",
                contentType: "text/html; charset=utf-8")
        }

        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "http-server"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                portBox.port = port
                await onListening(port)
            },
            logger: logger)
    }

    /// Runs the server with tracing until SIGINT or SIGTERM, then flushes spans and exits.
    /// Prints `http-server listening on http://HOST:PORT` once it accepts connections.
    package static func run(configuration: Configuration, otter: OtterService) async throws {
        var logger = Logger(label: "http-server")
        logger.logLevel = .info
        let httpClient = makeTracedHTTPClient()
        let app = makeApplication(configuration: configuration, httpClient: httpClient, logger: logger) { port in
            printLine("http-server listening on http://\(configuration.host):\(port)")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: otter)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    /// GETs `url` with AsyncHTTPClient's async API, which opens a CLIENT span and injects `traceparent`.
    /// Returns the body size; throws for a failed request or a status of 400 or more.
    static func fetch(_ url: String, with httpClient: HTTPClient) async throws -> Int {
        let response = try await httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 8 << 20)
        guard response.status.code < 400 else {
            throw DownstreamError(url: url, status: Int(response.status.code))
        }
        return body.readableBytes
    }
}

/// A downstream answered with an error status.
struct DownstreamError: Error, CustomStringConvertible {
    let url: String
    let status: Int
    var description: String { "\(url) answered HTTP \(status)" }
}

/// Makes an AsyncHTTPClient that reports through the bootstrapped tracer. Create it after bootstrapping:
/// AsyncHTTPClient captures the tracer when its configuration is created.
package func makeTracedHTTPClient() -> HTTPClient {
    var configuration = HTTPClient.Configuration()
    configuration.tracing.tracer = InstrumentationSystem.tracer
    return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
}

/// A request context that remembers the client's address, so the access log and the SERVER span
/// (`net.sock.peer.addr`) can name it.
struct ExampleRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The port the server bound, known once it runs.
final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    var port: Int {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

extension Response {
    static func text(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(
            status: status,
            headers: [.contentType: contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Logs one line per request through swift-log, in the access-log shape of Python's http.server
/// (`127.0.0.1 - - [07/Nov/2019 13:53:00] "GET / HTTP/1.1" 200 -`), with the request's method, path, status and client
/// as metadata; added after the tracing middleware, so the record carries the SERVER span's ids.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            log(request, context: context, status: Int(response.status.code))
            return response
        } catch {
            log(request, context: context, status: (error as? any HTTPResponseError)?.status.code ?? 500)
            throw error
        }
    }

    private func log(_ request: Request, context: Context, status: Int) {
        let client = (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress ?? "-"
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "dd/MMM/yyyy HH:mm:ss"
        logger.info(
            "\(client) - - [\(formatter.string(from: Date()))] \"\(request.method.rawValue) \(request.uri) HTTP/1.1\" \(status) -",
            metadata: [
                "http.request.method": "\(request.method.rawValue)", "url.path": "\(request.uri.path)",
                "http.response.status_code": "\(status)", "client.address": "\(client)",
            ])
    }
}

/// Runs after routing: names the SERVER span after its route before the handler starts child spans (Hummingbird
/// only renames it when the handler returns), and adds `server.address` and `server.port`.
struct ServerSpanDetailsMiddleware<Context: RequestContext>: RouterMiddleware {
    let host: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let current = InstrumentationContext.current, let span = InstrumentationSystem.tracer.activeSpan(identifiedBy: current) {
            if let route = context.endpointPath { span.operationName = route }
            span.attributes["server.address"] = request.head.authority.map { String($0.split(separator: ":").first ?? "") } ?? host
            if let authority = request.head.authority, let port = authority.split(separator: ":").last.flatMap({ Int($0) }) {
                span.attributes["server.port"] = port
            }
        }
        return try await next(request, context)
    }
}
