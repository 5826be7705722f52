import Foundation
import OtterExamples
import OtterTestSupport
import Testing

/// Interoperability with opentelemetry-python, the reference implementation: W3C trace context across languages.
@Suite(
    "opentelemetry-python interop", .serialized,
    .enabled(if: OptionalPeers.shouldRunPythonTests, "needs opentelemetry-python (bash scripts/setup-python-peers.sh)"))
struct PythonInteropTests {
    /// Skips (or fails in CI) when the Python peers are not installed.
    func requirePython() throws -> Bool {
        if ProcessHarness.python != nil { return true }
        if ProcessHarness.pythonPeersRequired {
            Issue.record("OTTER_REQUIRE_PYTHON_PEERS=1 but no Python with opentelemetry-python was found")
        }
        OptionalPeers.noteSkipped()
        return false
    }

    @Test func pythonRequestsClientCallsTheSwiftServer() async throws {
        guard try requirePython() else { return }
        let (server, url) = try await ProcessHarness.startServer()
        let client = try ProcessHarness.python("python-client", script: "python_client.py", arguments: [url + "/"])
        #expect(await client.waitForExit() == 0, "\(client.lines)")
        let (_, serverSpans) = await ProcessHarness.stop(server)

        let pythonSpan = try #require(ProcessHarness.spans(of: client).first { $0.kind == "SpanKind.CLIENT" }, "\(client.lines)")
        #expect(pythonSpan.service == "python-client")
        let swiftServer = try #require(serverSpans.named("/", kind: "SpanKind.SERVER"))
        #expect(swiftServer.traceID == pythonSpan.traceID, "one trace id across Python and Swift")
        #expect(swiftServer.parentID == pythonSpan.spanID, "the Swift SERVER span's parent is the Python CLIENT span")
        #expect(serverSpans.named("parent")?.traceID == pythonSpan.traceID)
    }

    @Test func swiftClientCallsAPythonFlaskServer() async throws {
        guard try requirePython() else { return }
        let server = try ProcessHarness.python("python-server", script: "python_server.py")
        let line = await ChildProcess.withDeadline(.seconds(60)) { await server.firstLine { $0.contains("listening on http://") } }
        guard let found = line ?? nil, let url = found.components(separatedBy: "listening on ").last else {
            server.kill()
            await server.waitForExit()
            Issue.record("python-server did not start: \(server.lines)")
            return
        }
        let client = try ProcessHarness.otter("http-client", ["http-client", "--url", url + "/"])
        #expect(await client.waitForExit() == 0, "\(client.lines)")
        server.terminate()
        await server.waitForExit()

        let swiftClient = try #require(ProcessHarness.spans(of: client).named("GET", kind: "SpanKind.CLIENT"))
        let pythonServer = try #require(ProcessHarness.spans(of: server).first { $0.kind == "SpanKind.SERVER" }, "\(server.lines)")
        #expect(pythonServer.service == "python-server")
        #expect(pythonServer.traceID == swiftClient.traceID, "one trace id across Swift and Python")
        #expect(pythonServer.parentID == swiftClient.spanID, "the Python SERVER span's parent is the Swift CLIENT span")
    }
}
