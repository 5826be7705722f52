import Hummingbird
import Logging
import ServiceLifecycle

/// `otter viewer`: OTLP/HTTP in on one port, the Jaeger query API on another, spans in a ``TraceStore``.
public struct Viewer: Sendable {
    public struct Configuration: Sendable {
        public var bindAddress: String
        public var otlpHTTPPort: Int
        public var queryPort: Int

        public init(bindAddress: String = "127.0.0.1", otlpHTTPPort: Int = 4318, queryPort: Int = 16686) {
            self.bindAddress = bindAddress
            self.otlpHTTPPort = otlpHTTPPort
            self.queryPort = queryPort
        }
    }

    public let configuration: Configuration
    public let store: any TraceStore

    public init(configuration: Configuration, store: any TraceStore) {
        self.configuration = configuration
        self.store = store
    }

    /// The two HTTP applications; `onListening` receives ("otlp-http" or "query", port) as each starts.
    public func makeServices(
        logger: Logger, onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
    ) -> [any Service] {
        let ingestRouter = Router()
        OTLPHTTPReceiver(store: store).addRoutes(to: ingestRouter)
        let queryRouter = Router()
        JaegerQueryAPI(store: store).addRoutes(to: queryRouter)
        let ingest = Application(
            router: ingestRouter,
            configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.otlpHTTPPort), serverName: "otter-viewer"),
            onServerRunning: { await onListening("otlp-http", $0.localAddress?.port ?? 0) }, logger: logger)
        let query = Application(
            router: queryRouter,
            configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.queryPort), serverName: "otter-viewer"),
            onServerRunning: { await onListening("query", $0.localAddress?.port ?? 0) }, logger: logger)
        return [ingest, query]
    }
}
