import ArgumentParser
import Foundation
import Logging
import OtterViewer
import ServiceLifecycle

/// `otter viewer`: receives OTLP, stores spans in SQLite, serves the Jaeger query API.
struct ViewerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viewer", abstract: "Run the trace viewer: OTLP/HTTP in, SQLite store, Jaeger query API.")

    @Option(help: "Address to listen on.")
    var bind = "127.0.0.1"

    @Option(help: "OTLP/gRPC port.")
    var otlpGRPCPort = 4317

    @Option(help: "OTLP/HTTP port (POST /v1/traces).")
    var otlpHTTPPort = 4318

    @Option(help: "Port of the Jaeger query API.")
    var uiPort = 16686

    @Option(help: "SQLite file (':memory:' keeps nothing). Default: ~/.otter/otter.sqlite")
    var db: String?

    @Option(help: "Delete spans older than this (Go duration, e.g. 72h, 30m).")
    var retention = "72h"

    @Option(help: "Keep the database under this size (e.g. 1GB, 500MB); the oldest spans go first.")
    var maxSize = "1GB"

    @Option(help: "Require this bearer token on ingest and query (default: $OTTER_VIEWER_TOKEN; none if unset).")
    var token: String?

    func run() async throws {
        let retentionNanoseconds: UInt64
        let maximumBytes: Int
        do {
            retentionNanoseconds = try UntrustedValue.duration("--retention", retention)
            maximumBytes = try UntrustedValue.byteSize("--max-size", maxSize)
        } catch let invalid as InvalidParameter {
            throw ValidationError(invalid.description)
        }
        let path = db ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".otter/otter.sqlite").path
        let store: SQLiteTraceStore
        do {
            store = try SQLiteTraceStore(path: path)
        } catch {
            throw ValidationError("cannot open the span store at \(path) (--db): \(error)")
        }
        var logger = Logger(label: "otter-viewer")
        logger.logLevel = .warning
        let token = BearerToken(token ?? ProcessInfo.processInfo.environment["OTTER_VIEWER_TOKEN"])
        if token == nil, !Viewer.isLoopback(bind) {
            FileHandle.standardError.write(Data("""
                otter viewer: warning: listening on \(bind) without a token: anyone who can reach this address can read \
                every trace and send spans. Set --token or OTTER_VIEWER_TOKEN.\n
                """.utf8))
        }
        let viewer = try Viewer(
            configuration: .init(
                bindAddress: bind, otlpGRPCPort: otlpGRPCPort, otlpHTTPPort: otlpHTTPPort, queryPort: uiPort, token: token),
            store: store)
        let services = viewer.makeServices(logger: logger) { name, port in
            let line =
                switch name {
                case "otlp-grpc": "otter viewer: OTLP/gRPC on \(bind):\(port)"
                case "otlp-http": "otter viewer: OTLP/HTTP on http://\(bind):\(port)/v1/traces"
                default: "otter viewer: Jaeger query API and UI on http://\(bind):\(port)/"
                }
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        FileHandle.standardOutput.write(Data("otter viewer: spans stored in \(path)\n".utf8))
        let retentionService = RetentionService(
            store: store, retention: .nanoseconds(Int64(clamping: retentionNanoseconds)), maximumBytes: maximumBytes, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: (services + [retentionService]).map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch let error as Viewer.ListenerError {
            throw ValidationError(error.description)
        }
    }
}
