import ArgumentParser
import Foundation
import Logging
import OtterViewer
import ServiceLifecycle

/// `otter viewer`: receives OTLP, stores spans and log records in SQLite, serves the Jaeger query API.
struct ViewerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "viewer", abstract: "Run the trace viewer: OTLP in (spans and logs), SQLite store, Jaeger query API.")

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

    @Option(help: "Delete spans and log records older than this (Go duration, e.g. 72h, 30m).")
    var retention = "72h"

    @Option(help: "Keep the database under this size (e.g. 1GB, 500MB); the oldest spans and log records go first.")
    var maxSize = "1GB"

    @Option(help: "Require this bearer token on ingest and query (default: $OTTER_VIEWER_TOKEN; none if unset).")
    var token: String?

    @Option(
        help: """
            Send every span and log record stored on to this OTLP receiver (a Collector, Jaeger, Tempo): its base URL, \
            /v1/traces and /v1/logs are appended for HTTP; http://host:port for gRPC.
            """)
    var forward: String?

    @Option(help: "Protocol for --forward: http/protobuf or grpc.")
    var forwardProtocol = "http/protobuf"

    @Option(help: "A header sent with --forward, NAME=VALUE (repeatable), e.g. 'authorization=Bearer TOKEN'.")
    var forwardHeader: [String] = []

    @Option(help: "Compression for --forward: gzip or none.")
    var forwardCompression = "gzip"

    @Option(help: "Bound on one forwarding attempt with its retries (Go duration); then it waits and tries again.")
    var forwardTimeout = "10s"

    @Option(help: "Forward only whole traces that match: errors, or slower-than=DURATION (repeatable; any match).")
    var forwardOnly: [String] = []

    @Option(help: "With --forward-only: how long after its spans arrive a trace is decided (Go duration).")
    var forwardDecisionWait = "10s"

    @Option(help: "Serve Jaeger's remote storage API (gRPC) on this port, for a Jaeger v2 query service to read this store.")
    var remoteStoragePort: Int?

    @Option(help: .hidden)
    var parentPid: Int32?

    func validate() throws {
        let ports = [("--otlp-grpc-port", otlpGRPCPort), ("--otlp-http-port", otlpHTTPPort), ("--ui-port", uiPort)]
        for (flag, port) in ports + (remoteStoragePort.map { [("--remote-storage-port", $0)] } ?? [])
        where !(0...65535).contains(port) {
            throw ValidationError("\(flag) \(port) is not a port number (0 to 65535; 0 picks a free one)")
        }
    }

    func run() async throws {
        let retentionNanoseconds: UInt64
        let maximumBytes: Int
        let forwarding: ForwardingConfiguration?
        do {
            retentionNanoseconds = try UntrustedValue.duration("--retention", retention)
            guard retentionNanoseconds > 0 else {
                throw InvalidParameter(name: "--retention", detail: "0 would delete every span: give a duration like 72h")
            }
            maximumBytes = try UntrustedValue.byteSize("--max-size", maxSize)
            guard maximumBytes >= Viewer.Configuration.smallestStoreBytes else {
                throw InvalidParameter(
                    name: "--max-size", detail: "\(maxSize) cannot hold the database and its log: give at least 1MB")
            }
            forwarding = try forwardingConfiguration()
        } catch let invalid as InvalidParameter {
            throw ValidationError(invalid.description)
        }
        let path = db ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".otter/otter.sqlite").path
        // One viewer per store, taken before the store is opened (opening migrates it): a second viewer would fight the
        // first for the write lock.
        try? FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let lock = try StoreLock(path: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
        defer { lock.release() }
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
            FileHandle.standardError.write(
                Data(
                    """
                    otter viewer: warning: listening on \(bind) without a token: anyone who can reach this address can read \
                    every trace and send spans. Set --token or OTTER_VIEWER_TOKEN.\n
                    """.utf8))
        }
        let viewer = try Viewer(
            configuration: .init(
                bindAddress: bind, otlpGRPCPort: otlpGRPCPort, otlpHTTPPort: otlpHTTPPort, queryPort: uiPort, token: token,
                retention: .nanoseconds(Int64(clamping: retentionNanoseconds)), maximumStoreBytes: maximumBytes, forwarding: forwarding,
                remoteStoragePort: remoteStoragePort),
            store: store)
        let services = viewer.makeServices(logger: logger) { name, port in
            let line =
                switch name {
                case "otlp-grpc": "otter viewer: OTLP/gRPC on \(Viewer.authority(bind, port: port))"
                case "remote-storage": "otter viewer: Jaeger remote storage (gRPC) on \(Viewer.authority(bind, port: port))"
                case "otlp-http":
                    "otter viewer: OTLP/HTTP on http://\(Viewer.authority(bind, port: port))/v1/traces\n"
                        + "otter viewer: OTLP/HTTP logs on http://\(Viewer.authority(bind, port: port))/v1/logs"
                default: "otter viewer: Jaeger query API and UI on http://\(Viewer.authority(bind, port: port))/"
                }
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        FileHandle.standardOutput.write(Data("otter viewer: spans and log records stored in \(path)\n".utf8))
        if let forwarding {
            let only =
                forwarding.filters.isEmpty ? "" : " (only traces with \(forwarding.filters.map(\.description).joined(separator: " or ")))"
            FileHandle.standardOutput.write(
                Data("otter viewer: forwarding to \(forwarding.upstreamDescription) over \(forwardProtocol)\(only)\n".utf8))
        }
        var configurations = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
        // Started by `otter demo`: stop when the demo is gone, however it ended (even kill -9).
        if let parentPid {
            configurations.append(.init(service: ParentWatch(parentPID: parentPid), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: .init(services: configurations, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as Viewer.ListenerError {
            // One write, so that log lines of listeners still shutting down cannot land inside the message.
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            throw ExitCode.validationFailure
        }
    }
}

/// An exclusive lock on `<db>.lock` for the life of the viewer (released by the kernel even on kill -9).
final class StoreLock: Sendable {
    let descriptor: Int32

    init(path: String) throws {
        guard !path.hasSuffix(":memory:") else {
            descriptor = -1
            return
        }
        descriptor = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ValidationError("cannot open the span store at \(path) (--db): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ValidationError("another otter viewer is using \(path) (--db): stop it or choose another file")
        }
    }

    func release() {
        if descriptor >= 0 { close(descriptor) }
    }
}

/// Ends the service group when the process that started the viewer is gone.
struct ParentWatch: Service {
    let parentPID: Int32

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if getppid() != parentPID { return }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
        }
    }
}
