import GRPCCore
import GRPCNIOTransportHTTP2
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Otter
import ServiceLifecycle

/// `otter viewer`: OTLP/HTTP in on one port, the Jaeger query API on another, spans in a ``TraceStore`` and log records
/// in a ``LogStore``.
public struct Viewer: Sendable {
    /// What the viewer listens on, what it accepts and how long it keeps what it stores.
    public struct Configuration: Sendable {
        /// The address every listener binds to; `127.0.0.1` by default. Another address lets other machines connect: set a
        /// ``token`` then.
        public var bindAddress: String
        /// The OTLP/gRPC port; 4317 by default.
        public var otlpGRPCPort: Int
        /// The OTLP/HTTP port (`/v1/traces`, `/v1/logs`); 4318 by default.
        public var otlpHTTPPort: Int
        /// The port of the UI and the Jaeger query API; 16686 by default.
        public var queryPort: Int
        /// When set, ingest and query require it (see ``BearerToken``).
        public var token: BearerToken?
        /// Largest OTLP request accepted, before and after decompression (HTTP body or gRPC message).
        public var maximumRequestBytes: Int
        /// Memory the receivers may hold for requests at once (bodies being read, decoded and waiting for the store),
        /// each request counted as 16 times its size, which is about what its decoded spans take; beyond it OTLP/HTTP
        /// answers 429 with `Retry-After` and OTLP/gRPC UNAVAILABLE, both retried by OTLP exporters. A request is always
        /// admitted when none is in flight. The default, 512 MB, admits 16 requests of 2 MB at once.
        public var maximumRequestBytesInFlight: Int
        /// An HTTP connection with no request for this long is closed.
        public var idleTimeout: Duration
        /// Traces with more spans than this open in the explorer as an outline (ids, names, times, status), each span's
        /// attributes, events and links read as it is shown (2,000; tests lower it).
        package var traceOutlineAbove = 2_000
        /// Traces with more spans than this get a 422 from `/api/otter/traces/{id}`, whose answer is the whole model:
        /// about 700 MB at the peak for 200,000 spans (the default; tests lower it).
        package var maximumModelSpans = 200_000
        /// The models `/api/otter/traces/{id}` is writing at once, in their spans' estimated bytes; past it, 503 with
        /// `Retry-After` (256 MB; tests lower it).
        package var modelBudgetBytes = 256 << 20
        /// With a ``SQLiteTraceStore``: spans that started longer ago are deleted (checked every minute); nil (the
        /// default) keeps them. `otter viewer` sets 72 hours.
        public var retention: Duration?
        /// With a ``SQLiteTraceStore``: the oldest spans are deleted while the store (with its write-ahead log) is larger
        /// (checked every 2 seconds); nil (the default) sets no bound. `otter viewer` sets 1 GB.
        public var maximumStoreBytes: Int?
        /// The smallest ``maximumStoreBytes``: 1 MB (a smaller bound cannot hold the database, its log and a block).
        public static let smallestStoreBytes = 1 << 20
        /// With a ``SQLiteTraceStore``: where to send on every span and log record stored; nil (the default) forwards
        /// nothing.
        public var forwarding: ForwardingConfiguration?
        /// Where to serve Jaeger's remote storage API (`jaeger.storage.v2` over gRPC, with OTLP's `TraceService` for
        /// writes and gRPC's health service), so a Jaeger v2 query service reads this store; nil (the default) serves
        /// none.
        public var remoteStoragePort: Int?

        /// Makes a configuration; by default the viewer listens on loopback on the standard ports, accepts requests up to
        /// 64 MB without a token, closes connections idle for 60 seconds, keeps everything and forwards nothing.
        public init(
            bindAddress: String = "127.0.0.1", otlpGRPCPort: Int = 4317, otlpHTTPPort: Int = 4318, queryPort: Int = 16686,
            token: BearerToken? = nil, maximumRequestBytes: Int = 64 << 20, idleTimeout: Duration = .seconds(60),
            retention: Duration? = nil, maximumStoreBytes: Int? = nil, maximumRequestBytesInFlight: Int = 512 << 20,
            forwarding: ForwardingConfiguration? = nil, remoteStoragePort: Int? = nil
        ) {
            self.forwarding = forwarding
            self.remoteStoragePort = remoteStoragePort
            self.maximumRequestBytesInFlight = maximumRequestBytesInFlight
            self.bindAddress = bindAddress
            self.otlpGRPCPort = otlpGRPCPort
            self.otlpHTTPPort = otlpHTTPPort
            self.queryPort = queryPort
            self.token = token
            self.maximumRequestBytes = maximumRequestBytes
            self.idleTimeout = idleTimeout
            self.retention = retention
            self.maximumStoreBytes = maximumStoreBytes
        }
    }

    /// A configuration the viewer cannot run, and why.
    public struct ConfigurationError: Error, CustomStringConvertible {
        /// What is wrong with the configuration, and what to use instead.
        public let description: String
    }

    /// A listener that could not start, with the flag that moves it.
    public struct ListenerError: Error, CustomStringConvertible {
        /// Which listener failed and why, and the command-line flag that moves it to another port.
        public let description: String
    }

    /// The configuration the viewer runs with.
    public let configuration: Configuration
    /// Where spans are stored and read.
    public let store: any TraceStore
    /// Where log records go; nil: the viewer refuses them (`/v1/logs` answers 404) and shows none.
    public let logStore: (any LogStore)?

    let ui: ViewerUI
    /// What forwarding has done (``Configuration/forwarding``).
    let forwardingStatus: ForwardingStatus

    /// A viewer of the spans and log records in one SQLite file.
    public init(configuration: Configuration, store: SQLiteTraceStore) throws {
        try self.init(configuration: configuration, store: store, logStore: store)
    }

    /// A viewer of `store`'s spans and `logStore`'s log records. Throws ``ConfigurationError`` for a configuration it
    /// cannot run: a retention or size bound that is not positive, or either of them with a store that is not a
    /// ``SQLiteTraceStore`` (the store whose capability retention is).
    public init(configuration: Configuration, store: any TraceStore, logStore: (any LogStore)?) throws {
        if let retention = configuration.retention, retention <= .zero {
            throw ConfigurationError(description: "retention must be positive, not \(retention): it would delete every span")
        }
        if configuration.maximumRequestBytesInFlight <= 0 {
            throw ConfigurationError(
                description: "maximumRequestBytesInFlight must be positive, not \(configuration.maximumRequestBytesInFlight)")
        }
        if let bytes = configuration.maximumStoreBytes, bytes < Configuration.smallestStoreBytes {
            throw ConfigurationError(
                description: "maximumStoreBytes must be at least \(Configuration.smallestStoreBytes) (1 MB), not \(bytes)")
        }
        if configuration.retention != nil || configuration.maximumStoreBytes != nil, !(store is any SelfBoundingStore) {
            throw ConfigurationError(
                description: "retention and maximumStoreBytes need a SQLiteTraceStore; \(type(of: store)) keeps its own bounds")
        }
        if configuration.forwarding != nil, !(store is any ForwardingQueue) {
            throw ConfigurationError(description: "forwarding needs a SQLiteTraceStore (the store is its queue), not \(type(of: store))")
        }
        self.configuration = configuration
        self.store = store
        self.logStore = logStore
        let forwardingStatus = ForwardingStatus()
        self.forwardingStatus = forwardingStatus
        var ui = try ViewerUI(
            store: store, logStore: logStore,
            status: StatusAPI(queue: store as? any ForwardingQueue, forwarding: configuration.forwarding, status: forwardingStatus))
        ui.outlineAbove = configuration.traceOutlineAbove
        self.ui = ui
    }

    /// The gRPC listener's address: IPv6 literals (with or without brackets) as IPv6, `localhost` as 127.0.0.1.
    static func grpcAddress(_ host: String, port: Int) -> GRPCNIOTransportCore.SocketAddress {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.contains(":") { return .ipv6(host: bare, port: port) }
        return .ipv4(host: bare == "localhost" ? "127.0.0.1" : bare, port: port)
    }

    /// `host:port` as a URL authority (IPv6 literals in brackets).
    package static func authority(_ host: String, port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether `address` is a loopback address or name, reachable only from this machine.
    package static func isLoopback(_ address: String) -> Bool {
        address == "localhost" || address == "::1" || address == "[::1]" || address.hasPrefix("127.")
    }

    /// The listeners, and the store's retention (``Configuration/retention``); `onListening` receives ("otlp-grpc",
    /// "otlp-http", "query" or "remote-storage", port) as each starts.
    public func makeServices(
        logger: Logger, onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
    ) -> [any Service] {
        let ingestRouter = Router()
        let queryRouter = Router()
        queryRouter.add(middleware: BrowserSecurityMiddleware(allowsAnyHost: !Self.isLoopback(configuration.bindAddress)))
        if let token = configuration.token {
            ingestRouter.add(middleware: BearerTokenMiddleware(token: token, acceptsBrowserLogin: false))
            queryRouter.add(middleware: BearerTokenMiddleware(token: token, acceptsBrowserLogin: true))
        }
        let budget = MemoryBudget(limit: configuration.maximumRequestBytesInFlight)
        OTLPHTTPReceiver(store: store, logStore: logStore, maximumBodyBytes: configuration.maximumRequestBytes, budget: budget)
            .addRoutes(to: ingestRouter)
        ExplorerAPI(store: store, maximumModelSpans: configuration.maximumModelSpans, modelBudgetBytes: configuration.modelBudgetBytes)
            .addRoutes(to: queryRouter)
        if let logStore { LogsAPI(store: logStore).addRoutes(to: queryRouter) }
        SpanMetricsAPI(store: store).addRoutes(to: queryRouter)
        JaegerQueryAPI(store: store).addRoutes(to: queryRouter)
        JaegerQueryAPIv3(store: store).addRoutes(to: queryRouter)
        StatusAPI(queue: store as? any ForwardingQueue, forwarding: configuration.forwarding, status: forwardingStatus).addRoutes(
            to: queryRouter)
        MCPEndpoint(server: MCPServer(toolbox: ViewerToolbox(store: store, logStore: logStore))).addRoutes(to: queryRouter)
        ui.addRoutes(to: queryRouter)
        StaticAssets.addRoutes(to: queryRouter)
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout)))
        let ingest = Application(
            router: ingestRouter, server: http1,
            configuration: .init(
                address: .hostname(configuration.bindAddress, port: configuration.otlpHTTPPort), serverName: "otter-viewer"),
            onServerRunning: { await onListening("otlp-http", $0.localAddress?.port ?? 0) }, logger: logger)
        let query = Application(
            responder: HeadAsGetResponder(base: queryRouter.buildResponder()), server: http1,
            configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.queryPort), serverName: "otter-viewer"),
            onServerRunning: { await onListening("query", $0.localAddress?.port ?? 0) }, logger: logger)
        let maximumRequestBytes = configuration.maximumRequestBytes
        let grpc = GRPCServer(
            transport: .http2NIOPosix(
                address: Self.grpcAddress(configuration.bindAddress, port: configuration.otlpGRPCPort), transportSecurity: .plaintext,
                config: .defaults { config in
                    config.compression.enabledAlgorithms = .all
                    config.rpc.maxRequestPayloadSize = maximumRequestBytes
                    // Clients that open many concurrent exports on one connection (each one a stream) are served, not cut off.
                    config.http2.maxConcurrentStreams = 1024
                }),
            services: [OTLPGRPCReceiver(store: store, budget: budget)]
                + (logStore.map { [OTLPGRPCLogsReceiver(store: $0, budget: budget)] } ?? []),
            interceptors: configuration.token.map { [BearerTokenInterceptor(token: $0)] } ?? [])
        let address = configuration.bindAddress
        var retention: [any Service] = []
        if let store = store as? any SelfBoundingStore, configuration.retention != nil || configuration.maximumStoreBytes != nil {
            retention.append(
                store.boundingService(retention: configuration.retention, maximumBytes: configuration.maximumStoreBytes, logger: logger))
        }
        if let queue = store as? any ForwardingQueue, let forwarding = configuration.forwarding {
            retention.append(ForwardingService(queue: queue, configuration: forwarding, status: forwardingStatus, logger: logger))
        }
        return retention + [
            NamedListener(
                name: "OTLP/HTTP", address: Self.authority(address, port: configuration.otlpHTTPPort), flag: "--otlp-http-port",
                listener: ingest),
            NamedListener(
                name: "the query API and UI", address: Self.authority(address, port: configuration.queryPort), flag: "--ui-port",
                listener: query),
            NamedListener(
                name: "OTLP/gRPC", address: Self.authority(address, port: configuration.otlpGRPCPort), flag: "--otlp-grpc-port",
                listener: GRPCListener(name: "otlp-grpc", server: grpc, onListening: onListening)),
        ] + remoteStorageListener(budget: budget, onListening: onListening)
    }

    /// The Jaeger remote storage listener (``Configuration/remoteStoragePort``), if configured: the bearer token guards
    /// everything but the health service.
    func remoteStorageListener(budget: MemoryBudget, onListening: @escaping @Sendable (String, Int) async -> Void) -> [any Service] {
        guard let port = configuration.remoteStoragePort else { return [] }
        let maximumRequestBytes = configuration.maximumRequestBytes
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: Self.grpcAddress(configuration.bindAddress, port: port), transportSecurity: .plaintext,
                config: .defaults { config in
                    config.compression.enabledAlgorithms = .all
                    config.rpc.maxRequestPayloadSize = maximumRequestBytes
                    config.http2.maxConcurrentStreams = 1024
                }),
            services: [
                RemoteStorageTraceReader(store: store), RemoteStorageDependencyReader(store: store), RemoteStorageCapabilities(),
                RemoteStorageHealth(), OTLPGRPCReceiver(store: store, budget: budget),
            ],
            interceptorPipeline: configuration.token.map {
                [.apply(BearerTokenInterceptor(token: $0), to: .allExcluding(services: [Grpc_Health_V1_Health.descriptor], methods: []))]
            } ?? [])
        return [
            NamedListener(
                name: "Jaeger remote storage", address: Self.authority(configuration.bindAddress, port: port),
                flag: "--remote-storage-port",
                listener: GRPCListener(name: "remote-storage", server: server, onListening: onListening))
        ]
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(duration.clampedNanoseconds)
    }
}

/// A listener whose start-up failure (a port in use, an address not on this machine) names what failed and how to
/// move it, instead of a bare `Address already in use`.
struct NamedListener: Service {
    let name: String
    let address: String
    let flag: String
    let listener: any Service

    func run() async throws {
        do {
            try await listener.run()
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let reason = (error as? RPCError)?.message ?? "\(error)"
            throw Viewer.ListenerError(
                description: "cannot listen for \(name) on \(address): \(reason) (is the port in use? choose another with \(flag), "
                    + "or another address with --bind)")
        }
    }
}

/// Runs a gRPC server as a swift-service-lifecycle service and reports its port. At shutdown, RPCs in flight get
/// ``shutdownGrace`` to finish; then the server is stopped under them, so a client that holds a stream without reading
/// it cannot keep the viewer from exiting.
struct GRPCListener: Service {
    /// The name `onListening` receives.
    let name: String
    let server: GRPCServer<HTTP2ServerTransport.Posix>
    let onListening: @Sendable (String, Int) async -> Void
    var shutdownGrace: Duration = .seconds(5)

    func run() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await server.serve()
                return true
            }
            if let address = try await server.listeningAddress {
                await onListening(name, address.ipv4?.port ?? address.ipv6?.port ?? 0)
            }
            try? await gracefulShutdown()
            server.beginGracefulShutdown()
            group.addTask {
                try? await Task.sleep(for: shutdownGrace)
                return false
            }
            // Whichever ends first, the server (its RPCs done) or the grace, the other is cancelled.
            _ = try await group.next()
            group.cancelAll()
            try? await group.waitForAll()
        }
    }
}
