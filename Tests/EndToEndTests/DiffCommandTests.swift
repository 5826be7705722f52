import Foundation
import Otter
import OtterExamples
import OtterOTLP
import OtterTestSupport
import Testing
import Tracing

/// `otter diff` as a real process: known pairs of trace files, exit statuses, and a trace read from a viewer.
@Suite("otter diff process")
struct DiffCommandTests {
    static func request(traceID: TraceID, queries: Int = 1, chargeMilliseconds: UInt64 = 10) -> [FinishedSpan] {
        SampleTraces.checkout(traceID: traceID, queries: queries, chargeMilliseconds: chargeMilliseconds)
    }

    /// Writes the spans as an OTLP JSON export request and returns the path.
    func write(_ spans: [FinishedSpan], in directory: URL, _ name: String) throws -> String {
        let file = directory.appendingPathComponent(name)
        try OTLPJSON.encode(OTLPMapping.request(for: spans)).write(to: file)
        return file.path
    }

    func diff(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = try ProcessHarness.otter("diff", ["diff"] + arguments)
        let status = await process.waitForExit()
        return (status, process.lines.joined(separator: "\n"))
    }

    func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-diff-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    @Test func theSameShapeExitsZero() async throws {
        try await withDirectory { directory in
            let a = try write(Self.request(traceID: RandomIDGenerator().newTraceID()), in: directory, "a.json")
            let b = try write(Self.request(traceID: RandomIDGenerator().newTraceID()), in: directory, "b.json")
            let (status, output) = try await diff([a, b])
            #expect(status == 0, "\(output)")
            #expect(output.contains("4 matched, 0 added, 0 missing"))
            #expect(output.contains("within the thresholds"))
        }
    }

    @Test func threeMoreDatabaseCallsExitOne() async throws {
        try await withDirectory { directory in
            let a = try write(Self.request(traceID: RandomIDGenerator().newTraceID()), in: directory, "a.json")
            let b = try write(Self.request(traceID: RandomIDGenerator().newTraceID(), queries: 4), in: directory, "b.json")
            let (status, output) = try await diff([a, b])
            #expect(status == 1, "\(output)")
            #expect(output.contains("+3 SELECT item (db)"))
            #expect(output.contains("beyond the thresholds: 3 spans added or missing (at most 0 allowed)"))
            #expect(try await diff(["--max-span-changes", "3", a, b]).status == 0)
        }
    }

    @Test func fortyPercentSlowerGatesOnTheSlowdownThreshold() async throws {
        try await withDirectory { directory in
            let a = try write(Self.request(traceID: RandomIDGenerator().newTraceID()), in: directory, "a.json")
            let b = try write(Self.request(traceID: RandomIDGenerator().newTraceID(), chargeMilliseconds: 14), in: directory, "b.json")
            let strict = try await diff(["--max-slowdown", "30%", a, b])
            #expect(strict.status == 1, "\(strict.output)")
            #expect(strict.output.contains("+40 %"))
            #expect(strict.output.contains("1 span slower by more than 30 %"))
            #expect(try await diff(["--max-slowdown", "50", a, b]).status == 0)
            #expect(try await diff([a, b]).status == 0)
        }
    }

    @Test func unreadableInputExitsTwoWithAReason() async throws {
        try await withDirectory { directory in
            let a = try write(Self.request(traceID: RandomIDGenerator().newTraceID()), in: directory, "a.json")
            let broken = directory.appendingPathComponent("broken.json")
            try Data("{\"resourceSpans\": [".utf8).write(to: broken)
            let unreadable = try await diff([a, broken.path])
            #expect(unreadable.status == 2)
            #expect(unreadable.output.contains("broken.json: cannot read the OTLP JSON"))
            let missing = try await diff([a, "no-such-file.json"])
            #expect(missing.status == 2)
            #expect(missing.output.contains("no-such-file.json: no such file, and not a trace id"))
            let link = directory.appendingPathComponent("link.json").path
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: a)
            #expect(try await diff([link, a]).status == 0)
            for endless in ["/dev/zero", directory.path] {
                let refused = try await diff([a, endless])
                #expect(refused.status == 2)
                #expect(refused.output.contains("\(endless): not a regular file"))
            }
            let two = directory.appendingPathComponent("two.json")
            let traceA = RandomIDGenerator().newTraceID()
            try OTLPJSON.encode(
                OTLPMapping.request(for: Self.request(traceID: traceA) + Self.request(traceID: RandomIDGenerator().newTraceID()))
            ).write(to: two)
            let ambiguous = try await diff([a, two.path])
            #expect(ambiguous.status == 2)
            #expect(ambiguous.output.contains("holds 2 traces; pick one as FILE#TRACEID"))
            #expect(try await diff([a, two.path + "#" + traceA.hexString]).status == 0)
            #expect(try await diff(["--max-slowdown", "fast", a, a]).status != 0)
        }
    }

    /// A trace id read from a running viewer (Jaeger JSON over its API) against the same trace as a file.
    @Test func aTraceIDInTheViewerAgainstAFile() async throws {
        try await withDirectory { directory in
            let db = directory.appendingPathComponent("viewer.sqlite").path
            let (viewer, ingestURL, uiURL) = try await ProcessHarness.startViewer(db: db)
            defer { viewer.kill() }
            let traceID = RandomIDGenerator().newTraceID()
            let spans = Self.request(traceID: traceID)
            try await OTLPHTTPExporter(configuration: .init(endpoint: URL(string: ingestURL)!)).export(spans)
            let file = try write(spans, in: directory, "same.json")
            let same = try await diff(["--viewer", uiURL, traceID.hexString, file])
            #expect(same.status == 0, "\(same.output)")
            #expect(same.output.contains("4 matched, 0 added, 0 missing"))
            let slower = try write(Self.request(traceID: traceID, chargeMilliseconds: 20), in: directory, "slower.json")
            #expect(try await diff(["--viewer", uiURL, "--max-slowdown", "50", traceID.hexString, slower]).status == 1)
            let absent = try await diff(["--viewer", uiURL, "abc123", file])
            #expect(absent.status == 2)
            #expect(absent.output.contains("answered 404 for trace abc123"))
        }
    }

    /// A viewer that sends its headers and then trickles the body is given up on at the deadline, not waited for.
    @Test func aTricklingViewerIsGivenUpOn() async throws {
        try await withDirectory { directory in
            let a = try write(Self.request(traceID: RandomIDGenerator().newTraceID()), in: directory, "a.json")
            let script = """
                from socket import socket
                from time import sleep
                server = socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
                print("port", server.getsockname()[1], flush=True)
                connection, _ = server.accept(); connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n")
                while True:
                    connection.sendall(b"1\\r\\n{\\r\\n"); sleep(0.2)
                """
            let trickle = ChildProcess(
                label: "trickle", executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3", "-c", script],
                echo: false)
            try trickle.start()
            defer { trickle.kill() }
            let line = await ChildProcess.withDeadline(.seconds(30)) { await trickle.firstLine { $0.hasPrefix("port ") } } ?? nil
            let port = try #require(line?.split(separator: " ").last)
            let result = try await diff(["--viewer", "http://127.0.0.1:\(port)", "--viewer-timeout", "2s", "abc123", a])
            #expect(result.status == 2)
            #expect(result.output.contains("no complete answer within"))
        }
    }
}
