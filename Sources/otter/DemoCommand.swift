import ArgumentParser
import Foundation
import OtterExamples

/// Runs the whole example system as separate processes, so trace context really crosses process boundaries:
/// `otter viewer` first (free ports, a SQLite file in the data directory), then the server, the client and the
/// order example against it. Each process prints its spans on the console, labelled by service, and exports
/// them to the viewer; the demo ends with a summary and the viewer URLs of the traces.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run http-server, http-client and order-example together and show their traces.")

    @Option(help: "Directory for the order example's database and outbox and the viewer's store. Default: a new temporary directory.")
    var dataDir: String?

    @Flag(help: "Stop the viewer when the demo is done instead of serving its traces until Ctrl-C (for scripts).")
    var exit = false

    @Flag(help: .hidden)
    var serve = false

    func run() async throws {
        let executable = Self.currentExecutable()
        let dataDirectory =
            dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("otter-demo-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["OTEL_BSP_SCHEDULE_DELAY"] = environment["OTEL_BSP_SCHEDULE_DELAY"] ?? "200"
        environment["OTEL_BLRP_SCHEDULE_DELAY"] = environment["OTEL_BLRP_SCHEDULE_DELAY"] ?? "200"
        // The trace report below reads the spans each process prints in the `line` style.
        if let style = environment["OTTER_CONSOLE_STYLE"], style != "line" {
            printLine("otter demo: OTTER_CONSOLE_STYLE=\(style) is ignored: the demo reads its processes' spans in the line style")
        }
        environment["OTTER_CONSOLE_STYLE"] = "line"

        printLine("otter demo: starting otter viewer, http-server, http-client and order-example as separate processes\n")
        let viewerStore = dataDirectory.appendingPathComponent("traces.sqlite").path
        let viewer = ChildProcess(
            label: "viewer", executable: executable,
            arguments: [
                "viewer", "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", "0", "--db", viewerStore,
                "--parent-pid", String(getpid()),
            ],
            environment: environment)
        let children = ChildGroup(viewer)
        // Ctrl-C or a SIGTERM stops every child before the demo exits, so no viewer or server is left behind.
        let signals = children.stopOnSignals()
        defer { signals.forEach { $0.cancel() } }
        func stopAll() async { await children.stopAll() }
        do {
            try viewer.start()
            let ingestLine =
                await ChildProcess.withDeadline(.seconds(60)) { await viewer.firstLine { $0.contains("OTLP/HTTP on ") } } ?? nil
            let uiLine = await ChildProcess.withDeadline(.seconds(60)) { await viewer.firstLine { $0.contains("UI on ") } } ?? nil
            guard
                let ingestURL = ingestLine?.components(separatedBy: "OTLP/HTTP on ").last?.replacingOccurrences(of: "/v1/traces", with: ""),
                let uiURL = uiLine?.components(separatedBy: "UI on ").last
            else { throw DemoFailure("otter viewer did not start: \(viewer.lines.suffix(3).joined(separator: " / "))") }
            // Console output and the viewer, unless the user chose exporters.
            if environment["EXPORTER"] == nil, environment["OTEL_TRACES_EXPORTER"] == nil {
                environment["OTEL_TRACES_EXPORTER"] = "console,otlp"
                environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = ingestURL
                environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
            }
            let server = ChildProcess(
                label: "http-server", executable: executable, arguments: ["http-server", "--port", "0"], environment: environment)
            children.add(server)
            try server.start()
            let listening = await ChildProcess.withDeadline(.seconds(60)) {
                await server.firstLine { $0.contains("http-server listening on ") }
            }
            guard let listeningLine = listening ?? nil, let url = listeningLine.components(separatedBy: "listening on ").last else {
                throw DemoFailure("http-server did not start: \(server.lines.suffix(3).joined(separator: " / "))")
            }
            let serverURL = url + "/"

            var failures: [String] = []
            let client = ChildProcess(
                label: "http-client", executable: executable, arguments: ["http-client", "--url", serverURL], environment: environment)
            children.add(client)
            try client.start()
            if await client.waitForExit() != 0 { failures.append("http-client failed") }

            let order = ChildProcess(
                label: "order-example", executable: executable,
                arguments: ["order-example", "--server-url", serverURL, "--data-dir", dataDirectory.path], environment: environment)
            children.add(order)
            try order.start()
            if await order.waitForExit() != 0 { failures.append("order-example failed") }

            server.terminate()
            if await server.waitForExit() != 0 { failures.append("http-server did not stop cleanly") }

            let summary = DemoTraceReport(processes: [client, server, order])
            printLine("")
            printLine(summary.report())
            let exportsToViewer = environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == ingestURL
            if exportsToViewer {
                for trace in summary.traces {
                    printLine("View trace 0x\(trace.traceID) at \(uiURL)trace/\(trace.traceID)")
                }
            }
            if !summary.hasTraceAcrossServices(["http-client", "http-server"]) {
                failures.append("no trace joins http-client and http-server (console output needed: EXPORTER=console)")
            }
            guard failures.isEmpty else { throw DemoFailure(failures.joined(separator: "; ")) }
            printLine("otter demo: every step succeeded")
            if exit {
                viewer.terminate()
                guard await viewer.waitForExit() == 0 else { throw DemoFailure("otter viewer did not stop cleanly") }
                printLine("\nThe traces stay in \(viewerStore): browse them with `otter viewer --db \(viewerStore)`")
            } else {
                printLine("\notter demo: the viewer keeps serving \(uiURL)search (the links above work) until Ctrl-C")
                _ = await viewer.waitForExit()
            }
        } catch {
            await stopAll()
            throw error
        }
    }

    static func currentExecutable() -> URL {
        #if os(Linux)
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        #else
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        #endif
    }
}

struct DemoFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads the trace ids from each process's console spans and tells which traces span several services.
struct DemoTraceReport {
    struct Trace {
        var traceID: String
        var spanCounts: [String: Int] = [:]
        var names: [String] = []
    }

    let traces: [Trace]

    init(processes: [ChildProcess]) {
        var byID: [String: Trace] = [:]
        var order: [String] = []
        for process in processes {
            for line in process.lines where line.hasPrefix("Span(name=") {
                guard let traceID = Self.value(after: "trace_id=0x", in: line, length: 32) else { continue }
                if byID[traceID] == nil { order.append(traceID) }
                byID[traceID, default: Trace(traceID: traceID)].spanCounts[process.label, default: 0] += 1
                if let name = line.dropFirst("Span(name=\"".count).split(separator: "\"", maxSplits: 1).first {
                    byID[traceID]?.names.append(String(name))
                }
            }
        }
        traces = order.compactMap { byID[$0] }
    }

    static func value(after marker: String, in line: String, length: Int) -> String? {
        guard let range = line.range(of: marker) else { return nil }
        let value = line[range.upperBound...].prefix(length)
        return value.count == length ? String(value) : nil
    }

    func hasTraceAcrossServices(_ services: [String]) -> Bool {
        traces.contains { trace in services.allSatisfy { trace.spanCounts[$0] != nil } }
    }

    func report() -> String {
        var text = "Traces:\n"
        for trace in traces {
            let services = trace.spanCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value) span\($0.value == 1 ? "" : "s")" }
            text += "  0x\(trace.traceID)  \(services.joined(separator: ", "))  [\(trace.names.joined(separator: ", "))]\n"
        }
        return text
    }
}

/// The demo's child processes, stopped together on failure or on a signal to the demo.
final class ChildGroup: @unchecked Sendable {
    private let lock = NSLock()
    private var children: [ChildProcess]

    init(_ first: ChildProcess) {
        children = [first]
    }

    func add(_ child: ChildProcess) {
        lock.withLock { children.append(child) }
    }

    func stopAll() async {
        let all = lock.withLock { children }
        for child in all.reversed() { child.terminate() }
        for child in all.reversed() { _ = await child.waitForExit() }
    }

    /// SIGINT and SIGTERM to the demo: terminate the children, wait for them, exit with 130 / 143.
    func stopOnSignals() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let all = lock.withLock { children }
                for child in all.reversed() { child.terminate() }
                Task {
                    for child in all.reversed() { _ = await child.waitForExit() }
                    Foundation.exit(128 + number)
                }
            }
            source.resume()
            return source
        }
    }
}
