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
        do {
            retentionNanoseconds = try JaegerSearch.parseDuration(retention)
        } catch {
            throw ValidationError("--retention \(retention) is not a duration like 72h or 30m")
        }
        guard let maximumBytes = Self.parseSize(maxSize) else {
            throw ValidationError("--max-size \(maxSize) is not a size like 1GB or 500MB")
        }
        let path = db ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".otter/otter.sqlite").path
        let store = try SQLiteTraceStore(path: path)
        var logger = Logger(label: "otter-viewer")
        logger.logLevel = .warning
        let viewer = try Viewer(
            configuration: .init(
                bindAddress: bind, otlpGRPCPort: otlpGRPCPort, otlpHTTPPort: otlpHTTPPort, queryPort: uiPort,
                token: BearerToken(token ?? ProcessInfo.processInfo.environment["OTTER_VIEWER_TOKEN"])),
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
        try await group.run()
    }

    /// `1GB`, `500MB`, `64KB` or a number of bytes (powers of 1024).
    static func parseSize(_ text: String) -> Int? {
        let units: [(String, Int)] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let upper = text.uppercased()
        for (suffix, factor) in units where upper.hasSuffix(suffix) {
            return Double(upper.dropLast(suffix.count)).map { Int($0 * Double(factor)) }
        }
        return Int(text)
    }
}
