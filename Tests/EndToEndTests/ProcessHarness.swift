import Foundation
import OtterExamples
import OtterTestSupport
import Testing

/// One span as printed by a console exporter in `json` style, Otter's or opentelemetry-python's (same fields).
/// A log record as the console exporter prints it in the json style.
struct ConsoleLog {
    let body: String
    let severityText: String
    let traceID: String
    let spanID: String

    init?(jsonLine: String) {
        guard jsonLine.hasPrefix("{"),
            let object = try? JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any],
            object["severity_number"] != nil, let body = object["body"] as? String
        else { return nil }
        self.body = body
        severityText = object["severity_text"] as? String ?? ""
        traceID = object["trace_id"] as? String ?? ""
        spanID = object["span_id"] as? String ?? ""
    }
}

struct ConsoleSpan {
    let name: String
    let traceID: String
    let spanID: String
    let parentID: String?
    let kind: String
    let statusCode: String
    let attributes: [String: Any]
    let events: [(name: String, attributes: [String: Any])]
    let service: String?

    init?(jsonLine: String) {
        guard jsonLine.hasPrefix("{"),
            let object = try? JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: Any],
            let name = object["name"] as? String,
            let context = object["context"] as? [String: Any],
            let traceID = context["trace_id"] as? String,
            let spanID = context["span_id"] as? String,
            let kind = object["kind"] as? String
        else { return nil }
        self.name = name
        self.traceID = traceID
        self.spanID = spanID
        self.parentID = object["parent_id"] as? String
        self.kind = kind
        self.statusCode = (object["status"] as? [String: Any])?["status_code"] as? String ?? "UNSET"
        self.attributes = object["attributes"] as? [String: Any] ?? [:]
        self.events = (object["events"] as? [[String: Any]] ?? []).map {
            ($0["name"] as? String ?? "", $0["attributes"] as? [String: Any] ?? [:])
        }
        let resource = (object["resource"] as? [String: Any])?["attributes"] as? [String: Any]
        self.service = resource?["service.name"] as? String
    }
}

/// Starts Otter's own binaries and the Python peers as real processes on 127.0.0.1.
enum ProcessHarness {
    /// The `otter` executable built next to this test bundle.
    static var otterExecutable: URL {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return testBinary.deletingLastPathComponent().appendingPathComponent("otter")
    }

    /// The environment for child processes: console export in `json` style, quick batches.
    static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for name in environment.keys where name.hasPrefix("OTEL_") || name == "EXPORTER" { environment[name] = nil }
        environment["EXPORTER"] = "console"
        environment["OTTER_CONSOLE_STYLE"] = "json"
        environment.merge(extra) { $1 }
        return environment
    }

    static func otter(_ label: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> ChildProcess {
        let process = ChildProcess(
            label: label, executable: otterExecutable, arguments: arguments, environment: environment(extra), echo: false)
        try process.start()
        return process
    }

    /// Starts `otter http-server` on a free port and returns it with its base URL (`http://127.0.0.1:PORT`).
    static func startServer(environment extra: [String: String] = [:]) async throws -> (ChildProcess, String) {
        let server = try otter("http-server", ["http-server", "--port", "0"], environment: extra)
        let line = await ChildProcess.withDeadline(.seconds(60)) {
            await server.firstLine { $0.contains("listening on http://") }
        }
        guard let found = line ?? nil, let url = found.components(separatedBy: "listening on ").last else {
            server.kill()
            await server.waitForExit()
            throw HarnessError("http-server did not report its port: \(server.lines)")
        }
        return (server, url)
    }

    /// Starts `otter viewer` on free ports with the given store; returns it with its OTLP/HTTP and UI base URLs.
    static func startViewer(db: String, _ extra: [String] = []) async throws -> (ChildProcess, String, String) {
        let viewer = try otter(
            "viewer", ["viewer", "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", "0", "--db", db] + extra)
        let ingest = await ChildProcess.withDeadline(.seconds(60)) { await viewer.firstLine { $0.contains("OTLP/HTTP on ") } } ?? nil
        let ui = await ChildProcess.withDeadline(.seconds(60)) { await viewer.firstLine { $0.contains("UI on ") } } ?? nil
        // Every listener is up once its line is printed; callers read the gRPC port from `lines`.
        _ = await ChildProcess.withDeadline(.seconds(60)) { await viewer.firstLine { $0.contains("OTLP/gRPC on ") } }
        guard let ingestURL = ingest?.components(separatedBy: "OTLP/HTTP on ").last,
            let uiURL = ui?.components(separatedBy: "UI on ").last
        else {
            viewer.kill()
            await viewer.waitForExit()
            throw HarnessError("viewer did not start: \(viewer.lines)")
        }
        return (viewer, ingestURL, uiURL)
    }

    /// Stops a server gracefully and returns the spans it printed (it flushes on SIGTERM).
    static func stop(_ server: ChildProcess) async -> (status: Int32, spans: [ConsoleSpan]) {
        server.terminate()
        let status = await server.waitForExit()
        return (status, spans(of: server))
    }

    static func spans(of process: ChildProcess) -> [ConsoleSpan] {
        process.lines.compactMap(ConsoleSpan.init(jsonLine:))
    }

    /// The log records a process printed with `OTTER_CONSOLE_STYLE=json` (opentelemetry-python's `to_json` fields).
    static func logs(of process: ChildProcess) -> [ConsoleLog] {
        process.lines.compactMap(ConsoleLog.init(jsonLine:))
    }

    static var python: URL? { PythonPeers.interpreter }

    static var pythonPeersRequired: Bool { PythonPeers.areRequired }

    static func python(_ label: String, script: String, arguments: [String] = []) throws -> ChildProcess {
        guard let python else { throw HarnessError("no Python with opentelemetry-python: run scripts/setup-python-peers.sh") }
        let path = PythonPeers.packageRoot.appendingPathComponent("Tests/EndToEndTests/Python/\(script)").path
        let process = ChildProcess(
            label: label, executable: python, arguments: [path] + arguments, environment: environment(), echo: false)
        try process.start()
        return process
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Array where Element == ConsoleSpan {
    func named(_ name: String, kind: String? = nil) -> ConsoleSpan? {
        first { $0.name == name && (kind == nil || $0.kind == kind) }
    }
}
