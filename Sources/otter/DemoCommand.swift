import ArgumentParser
import Foundation
import OtterExamples

/// Runs the whole example system as separate processes, so trace context really crosses process boundaries:
/// the server on a free port, then the client and the order example against it, each process's spans on the
/// console labelled by service, then a summary of the traces that span services.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Run http-server, http-client and order-example together and show their traces.")

    @Option(help: "Directory for the order example's database and outbox. Default: a new temporary directory.")
    var dataDir: String?

    func run() async throws {
        let executable = Self.currentExecutable()
        let dataDirectory = dataDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("otter-demo-\(UUID().uuidString.prefix(8))")
        var environment = ProcessInfo.processInfo.environment
        environment["OTEL_BSP_SCHEDULE_DELAY"] = environment["OTEL_BSP_SCHEDULE_DELAY"] ?? "200"

        printLine("otter demo: starting http-server, http-client and order-example as separate processes\n")
        let server = ChildProcess(
            label: "http-server", executable: executable, arguments: ["http-server", "--port", "0"], environment: environment)
        try server.start()
        let listening = await ChildProcess.withDeadline(.seconds(60)) {
            await server.firstLine { $0.contains("http-server listening on ") }
        }
        guard let listeningLine = listening ?? nil,
              let url = listeningLine.components(separatedBy: "listening on ").last
        else {
            server.kill()
            await server.waitForExit()
            throw DemoFailure("http-server did not start")
        }
        let serverURL = url + "/"

        var failures: [String] = []
        let client = ChildProcess(
            label: "http-client", executable: executable, arguments: ["http-client", "--url", serverURL], environment: environment)
        try client.start()
        if await client.waitForExit() != 0 { failures.append("http-client failed") }

        let order = ChildProcess(
            label: "order-example", executable: executable,
            arguments: ["order-example", "--server-url", serverURL, "--data-dir", dataDirectory.path], environment: environment)
        try order.start()
        if await order.waitForExit() != 0 { failures.append("order-example failed") }

        server.terminate()
        if await server.waitForExit() != 0 { failures.append("http-server did not stop cleanly") }

        let summary = TraceSummary(processes: [client, server, order])
        printLine("")
        printLine(summary.report())
        if !summary.hasTraceAcrossServices(["http-client", "http-server"]) {
            failures.append("no trace joins http-client and http-server (console output needed: EXPORTER=console)")
        }
        guard failures.isEmpty else { throw DemoFailure(failures.joined(separator: "; ")) }
        printLine("otter demo: every step succeeded")
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
struct TraceSummary {
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
