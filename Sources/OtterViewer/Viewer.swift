import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import Logging
import ServiceLifecycle

/// `otter viewer`: OTLP/HTTP in on one port, the Jaeger query API on another, spans in a ``TraceStore``.
public struct Viewer: Sendable {
    public struct Configuration: Sendable {
        public var bindAddress: String
        public var otlpGRPCPort: Int
        public var otlpHTTPPort: Int
        public var queryPort: Int
        /// When set, ingest and query require it (see ``BearerToken``).
        public var token: BearerToken?

        public init(
            bindAddress: String = "127.0.0.1", otlpGRPCPort: Int = 4317, otlpHTTPPort: Int = 4318, queryPort: Int = 16686,
            token: BearerToken? = nil
        ) {
            self.bindAddress = bindAddress
            self.otlpGRPCPort = otlpGRPCPort
            self.otlpHTTPPort = otlpHTTPPort
            self.queryPort = queryPort
            self.token = token
        }
    }

    public let configuration: Configuration
    public let store: any TraceStore

    let ui: ViewerUI

    public init(configuration: Configuration, store: any TraceStore) throws {
        self.configuration = configuration
        self.store = store
        ui = try ViewerUI(store: store)
    }

    /// The listeners; `onListening` receives ("otlp-grpc", "otlp-http" or "query", port) as each starts.
    public func makeServices(
        logger: Logger, onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
    ) -> [any Service] {
        let ingestRouter = Router()
        let queryRouter = Router()
        if let token = configuration.token {
            ingestRouter.add(middleware: BearerTokenMiddleware(token: token, acceptsBrowserLogin: false))
            queryRouter.add(middleware: BearerTokenMiddleware(token: token, acceptsBrowserLogin: true))
        }
        OTLPHTTPReceiver(store: store).addRoutes(to: ingestRouter)
        JaegerQueryAPI(store: store).addRoutes(to: queryRouter)
        JaegerQueryAPIv3(store: store).addRoutes(to: queryRouter)
        ui.addRoutes(to: queryRouter)
        let ingest = Application(
            router: ingestRouter,
            configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.otlpHTTPPort), serverName: "otter-viewer"),
            onServerRunning: { await onListening("otlp-http", $0.localAddress?.port ?? 0) }, logger: logger)
        let query = Application(
            router: queryRouter,
            configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.queryPort), serverName: "otter-viewer"),
            onServerRunning: { await onListening("query", $0.localAddress?.port ?? 0) }, logger: logger)
        let grpc = GRPCServer(
            transport: .http2NIOPosix(
                address: .ipv4(host: configuration.bindAddress, port: configuration.otlpGRPCPort), transportSecurity: .plaintext,
                config: .defaults { $0.compression.enabledAlgorithms = .all }),
            services: [OTLPGRPCReceiver(store: store)],
            interceptors: configuration.token.map { [BearerTokenInterceptor(token: $0)] } ?? [])
        return [ingest, query, GRPCListener(server: grpc, onListening: onListening)]
    }
}

/// Runs a gRPC server as a swift-service-lifecycle service and reports its port.
struct GRPCListener: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let onListening: @Sendable (String, Int) async -> Void

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            if let address = try await server.listeningAddress {
                await onListening("otlp-grpc", address.ipv4?.port ?? address.ipv6?.port ?? 0)
            }
            try? await gracefulShutdown()
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
