import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterExamples
import OtterOTLP
import OtterTestSupport
import Testing
import Tracing

/// Otter's MCP servers driven by a real MCP client, the official Python SDK (PyPI `mcp`): over stdio against
/// `otter mcp`, and over streamable HTTP against the viewer's `/mcp`, on the seed system's traces and a
/// 100,000-span trace.
@Suite("MCP with the Python SDK", .serialized)
struct MCPClientTests {
    /// One tool call of a scenario, and what the client got back.
    struct Outcome {
        let isError: Bool
        let text: String
        let structured: [String: Any]
        let rpcError: String?

        init(_ json: [String: Any]) {
            isError = json["is_error"] as? Bool ?? false
            text = json["text"] as? String ?? ""
            structured = json["structured"] as? [String: Any] ?? [:]
            rpcError = (json["rpc_error"] as? [String: Any])?["message"] as? String
        }
    }

    /// Runs `Tests/EndToEndTests/Python/mcp_client.py` with the calls; nil when the Python peers are missing (skipped).
    static func client(_ arguments: [String], calls: [[String: Any]]) async throws -> (report: [String: Any], outcomes: [Outcome])? {
        guard PythonPeers.interpreter != nil else {
            if PythonPeers.areRequired { Issue.record("OTTER_REQUIRE_PYTHON_PEERS=1 but no Python peers") }
            OptionalPeers.noteSkipped()
            return nil
        }
        let run = try await PythonPeers.run(
            script: "Tests/EndToEndTests/Python/mcp_client.py", arguments: arguments,
            input: try JSONSerialization.data(withJSONObject: calls))
        let (data, errorText) = (run.output, run.errors)
        #expect(run.status == 0, "\(errorText.suffix(3_000))")
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(errorText.suffix(3_000))")
        let outcomes = ((report["calls"] as? [[String: Any]]) ?? []).map(Outcome.init)
        #expect(outcomes.count == calls.count)
        return (report, outcomes)
    }

    static func get(_ url: String) async throws -> [String: Any] {
        // Generous: a 100,000-span trace in a debug build on a loaded machine.
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(600))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    /// The traces of a service in the viewer, once `count` of them are stored.
    static func traces(_ ui: String, service: String, count: Int) async throws -> [[String: Any]] {
        for _ in 0..<300 {
            let traces = try await get("\(ui)api/traces?service=\(service)&lookback=1h&limit=50")["data"] as? [[String: Any]] ?? []
            if traces.count >= count { return traces }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the viewer never held \(count) traces of \(service)")
        return []
    }

    @Test(.enabled(if: OptionalPeers.shouldRunPythonTests, "needs the Python MCP SDK (bash scripts/setup-python-peers.sh)"))
    func anAgentFindsWhyTheOrderFailedOverStdioAndHTTP() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-mcp-\(UUID()).sqlite").path
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-mcp-orders-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let (viewer, ingest, ui) = try await ProcessHarness.startViewer(db: db)
        let exporting = [
            "EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": String(ingest.dropLast("/v1/traces".count)),
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        ]
        let (server, url) = try await ProcessHarness.startServer(environment: exporting)
        for _ in 0..<2 {
            let client = try ProcessHarness.otter("http-client", ["http-client", "--url", url + "/"], environment: exporting)
            #expect(await client.waitForExit() == 0)
        }
        let failed = try ProcessHarness.otter(
            "order-example", ["order-example", "--server-url", url + "/", "--data-dir", dataDirectory.path, "--fail"],
            environment: exporting)
        #expect(await failed.waitForExit() != 0, "the declined order exits with an error")
        _ = await ProcessHarness.stop(server)

        let orders = try await Self.traces(ui, service: "order-example", count: 1)
        let clients = try await Self.traces(ui, service: "http-client", count: 2)
        let failedTrace = try #require(orders.first?["traceID"] as? String)
        let clientTraces = clients.compactMap { $0["traceID"] as? String }
        let paddedFailed = String(repeating: "0", count: 32 - failedTrace.count) + failedTrace
        let calls: [[String: Any]] = [
            ["name": "get_services"],
            ["name": "search_traces", "arguments": ["with_errors": true, "start_time_min": "-1h"]],
            ["name": "get_trace_errors", "arguments": ["trace_id": failedTrace]],
            ["name": "get_trace_logs", "arguments": ["trace_id": failedTrace]],
            ["name": "get_trace_topology", "arguments": ["trace_id": clientTraces[0]]],
            ["name": "get_critical_path", "arguments": ["trace_id": clientTraces[0]]],
            ["name": "get_span_names", "arguments": ["service_name": "http-server"]],
            ["name": "get_operation_stats", "arguments": ["service_name": "http-server", "lookback": "15m"]],
            ["name": "get_service_dependencies"],
            ["name": "compare_traces", "arguments": ["trace_id_a": clientTraces[0], "trace_id_b": clientTraces[1]]],
            ["name": "search_logs", "arguments": ["query": "declined", "min_severity": "error"]],
            ["name": "get_span_details", "arguments": ["trace_id": failedTrace, "span_ids": ["zz"]]],
            ["name": "search_traces", "arguments": ["search_depth": 1_000]],
            ["name": "no_such_tool"],
        ]
        for arguments in [["stdio", ProcessHarness.otterExecutable.path, ui], ["http", ui + "mcp"]] {
            guard let (report, outcomes) = try await Self.client(arguments, calls: calls) else { break }
            let transport = arguments[0]
            #expect(report["server_name"] as? String == "otter")
            #expect(report["protocol_version"] as? String == "2025-11-25")
            let tools = report["tools"] as? [[String: Any]] ?? []
            #expect(tools.count == 12 && tools.allSatisfy { $0["read_only"] as? Bool == true }, "\(transport)")
            guard outcomes.count == calls.count else { continue }
            for (call, outcome) in zip(calls.prefix(11), outcomes) {
                #expect(!outcome.isError && outcome.rpcError == nil, "\(transport) \(call): \(outcome.text)")
            }
            #expect(outcomes[0].structured["services"] as? [String] == ["http-client", "http-server", "order-example"])
            let found = outcomes[1].structured["traces"] as? [[String: Any]] ?? []
            #expect(found.map { $0["trace_id"] as? String } == [paddedFailed], "\(transport)")
            let errorSpans = outcomes[2].structured["spans"] as? [[String: Any]] ?? []
            #expect(errorSpans.map { $0["span_name"] as? String } == ["order", "authorize payment"], "\(transport)")
            #expect(outcomes[2].text.contains("declined by the card issuer"), "\(transport): \(outcomes[2].text)")
            #expect(outcomes[3].text.contains("payment declined"), "\(transport)")
            let topology = outcomes[4].structured["spans"] as? [[String: Any]] ?? []
            #expect(topology.map { $0["span_name"] as? String } == ["GET", "/", "parent", "GET", "/wiki/Rabbit"], "\(transport)")
            #expect(outcomes[5].structured["critical_path_duration_us"] as? Int ?? 0 > 0)
            #expect((outcomes[6].structured["span_names"] as? [[String: Any]])?.contains { $0["name"] as? String == "parent" } == true)
            let stats = outcomes[7].structured["operations"] as? [[String: Any]] ?? []
            #expect(stats.contains { $0["span_name"] as? String == "/" && ($0["current"] as? [String: Any])?["calls"] as? Int == 2 })
            let edges = outcomes[8].structured["dependencies"] as? [[String: Any]] ?? []
            #expect(edges.contains { $0["caller"] as? String == "http-client" && $0["callee"] as? String == "http-server" })
            #expect(outcomes[9].structured["added_count"] as? Int == 0 && outcomes[9].structured["matched_count"] as? Int == 5)
            #expect((outcomes[10].structured["records"] as? [Any])?.count == 1, "\(transport): \(outcomes[10].text)")
            #expect(outcomes[11].isError && outcomes[11].text.contains("argument span_ids"))
            #expect(outcomes[12].isError && outcomes[12].text.contains("argument search_depth"))
            #expect(outcomes[13].rpcError?.contains("unknown tool") == true)
        }
        viewer.terminate()
        _ = await viewer.waitForExit()
        try? FileManager.default.removeItem(atPath: db)
    }

    /// A 100,001-span trace: every answer stays within a few thousand tokens and says what it left out.
    @Test(.enabled(if: OptionalPeers.shouldRunPythonTests, "needs the Python MCP SDK (bash scripts/setup-python-peers.sh)"))
    func aHundredThousandSpanTraceAnswersWithinABudget() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-mcp-big-\(UUID()).sqlite").path
        let (viewer, ingest, ui) = try await ProcessHarness.startViewer(db: db)
        let generator = RandomIDGenerator()
        let traceID = generator.newTraceID()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch - 60_000_000_000
        // A root with 100 children (10 services), each with 999 grandchildren (10 database services): 100,001 spans; the
        // 500th grandchild of each child an error.
        var parents: [SpanID] = []
        let root = FinishedSpan(
            operationName: "batch", kind: .server,
            spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
            startTimeNanosecondsSinceEpoch: now, endTimeNanosecondsSinceEpoch: now + 30_000_000_000,
            resource: Resource(attributes: ["service.name": "service-0"]))
        for batch in 0..<10 {
            var spans: [FinishedSpan] = batch == 0 ? [root] : []
            let children = (0..<10).map { index in
                FinishedSpan(
                    operationName: "step \(index)", kind: .client,
                    spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                    parentSpanContext: root.spanContext, startTimeNanosecondsSinceEpoch: now + UInt64(batch * 10 + index) * 1_000_000,
                    endTimeNanosecondsSinceEpoch: now + UInt64(batch * 10 + index) * 1_000_000 + 20_000_000_000,
                    resource: Resource(attributes: ["service.name": .string("service-\(batch)")]))
            }
            parents += children.map(\.spanContext.spanID)
            spans += children
            for child in children {
                for index in 0..<999 {
                    let start = child.startTimeNanosecondsSinceEpoch + UInt64(index) * 10_000
                    spans.append(
                        FinishedSpan(
                            operationName: "query \(index % 7)", kind: .client,
                            spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                            parentSpanContext: child.spanContext, startTimeNanosecondsSinceEpoch: start,
                            endTimeNanosecondsSinceEpoch: start + 5_000_000, attributes: ["db.statement": "SELECT \(index)"],
                            status: index == 500 ? SpanStatus(code: .error, message: "timeout") : nil,
                            resource: Resource(attributes: ["service.name": .string("db-\(batch)")])))
                }
            }
            #expect(try await ViewerProcessTests.post(OTLPProtobufEncoder.encode(spans), to: ingest) == 200)
        }
        let total = try await Self.get("\(ui)api/otter/traces/\(traceID.hexString)")["spans"] as? [Any]
        let hex = traceID.hexString
        let calls: [[String: Any]] = [
            ["name": "get_trace_topology", "arguments": ["trace_id": hex]],
            ["name": "get_critical_path", "arguments": ["trace_id": hex]],
            ["name": "get_trace_errors", "arguments": ["trace_id": hex]],
            ["name": "get_trace_topology", "arguments": ["trace_id": hex, "root_span_id": parents[3].hexString, "max_spans": 20]],
        ]
        guard let (_, outcomes) = try await Self.client(["http", ui + "mcp"], calls: calls), outcomes.count == 4 else {
            viewer.terminate()
            _ = await viewer.waitForExit()
            return
        }
        let spanCount = total?.count ?? 0
        #expect(spanCount == 100_001)
        let topology = outcomes[0]
        #expect(!topology.isError, "\(topology.text.prefix(500))")
        #expect(topology.structured["total_count"] as? Int == spanCount && topology.structured["truncated"] as? Bool == true)
        #expect((topology.structured["spans"] as? [Any])?.count == 100)
        #expect((topology.structured["summary"] as? [String: Any])?["service_count"] as? Int == 20)
        for outcome in outcomes {
            // About 4 characters a token: every answer is within 10,000 tokens, whatever the trace's size.
            #expect(outcome.text.count < 40_000 && "\(outcome.structured)".count < 80_000, "\(outcome.text.prefix(300))")
        }
        let sections = outcomes[1].structured["segment_count"] as? Int ?? 0
        #expect(sections > 1 && (outcomes[1].structured["segments"] as? [Any])?.count == min(sections, 100))
        #expect(outcomes[1].structured["truncated"] as? Bool == (sections > 100))
        #expect(outcomes[2].structured["total_error_count"] as? Int ?? 0 > 20 && outcomes[2].structured["truncated"] as? Bool == true)
        #expect((outcomes[2].structured["spans"] as? [Any])?.count == 20)
        #expect((outcomes[3].structured["spans"] as? [[String: Any]])?.first?["span_id"] as? String == parents[3].hexString)
        #expect(outcomes[3].structured["total_count"] as? Int == 1_000)
        viewer.terminate()
        _ = await viewer.waitForExit()
        try? FileManager.default.removeItem(atPath: db)
    }

    /// One tool call written to `otter mcp`'s standard input, and the result line it answers with.
    static func call(_ mcp: ChildProcess, id: Int, _ tool: String, _ arguments: [String: Any] = [:]) async throws -> [String: Any] {
        let message: [String: Any] = [
            "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": ["name": tool, "arguments": arguments],
        ]
        mcp.send(String(decoding: try JSONSerialization.data(withJSONObject: message), as: UTF8.self))
        let line = await ChildProcess.withDeadline(.seconds(60)) { await mcp.firstLine { $0.hasPrefix("{\"id\":\(id),") } } ?? nil
        let answer = try #require(line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }, "\(mcp.lines)")
        return answer["result"] as? [String: Any] ?? [:]
    }

    static func text(_ result: [String: Any]) -> String {
        ((result["content"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }.joined()
    }

    /// `otter mcp` starts while no viewer runs (as an agent launches it at its own start): it lists its tools, says how to
    /// start the viewer, and answers once the viewer is up; with the viewer's token, and says so without it.
    @Test func otterMCPWorksWhenTheViewerStartsLaterAndNeedsItsToken() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-mcp-later-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: db) }
        // A port the viewer can have: where a viewer just listened.
        let (first, _, firstUI) = try await ProcessHarness.startViewer(db: db)
        first.terminate()
        _ = await first.waitForExit()
        let port = try #require(URL(string: firstUI)?.port)
        let viewerURL = "http://127.0.0.1:\(port)"
        let withToken = ChildProcess(
            label: "mcp", executable: ProcessHarness.otterExecutable,
            arguments: ["mcp", "--viewer", viewerURL, "--token", "agent-token-123"],
            environment: ProcessHarness.environment(), echo: false, takesInput: true)
        let withoutToken = ChildProcess(
            label: "mcp-no-token", executable: ProcessHarness.otterExecutable, arguments: ["mcp", "--viewer", viewerURL],
            environment: ProcessHarness.environment(["OTTER_VIEWER_TOKEN": ""]), echo: false, takesInput: true)
        try withToken.start()
        try withoutToken.start()
        withToken.send(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
        )
        let initialized = await ChildProcess.withDeadline(.seconds(60)) { await withToken.firstLine { $0.hasPrefix(#"{"id":1,"#) } } ?? nil
        #expect(initialized?.contains(#""protocolVersion":"2025-06-18""#) == true, "\(withToken.lines)")
        withToken.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        withToken.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        let listed = await ChildProcess.withDeadline(.seconds(60)) { await withToken.firstLine { $0.hasPrefix(#"{"id":2,"#) } } ?? nil
        #expect(listed?.contains("get_operation_stats") == true)

        let early = try await Self.call(withToken, id: 3, "get_services")
        #expect(early["isError"] as? Bool == true)
        #expect(Self.text(early).contains("otter viewer"), "\(early)")

        let (viewer, _, _) = try await ProcessHarness.startViewer(db: db, ["--ui-port", "\(port)", "--token", "agent-token-123"])
        let later = try await Self.call(withToken, id: 4, "get_services")
        #expect(later["isError"] as? Bool == false, "\(later)")
        #expect(Self.text(later) == "no service has sent spans yet", "\(later)")
        let refused = try await Self.call(withoutToken, id: 5, "get_services")
        #expect(refused["isError"] as? Bool == true)
        #expect(Self.text(refused).contains("token"), "\(refused)")

        // An oversized or broken line gets an error answer and the server goes on.
        withToken.send(String(repeating: "x", count: 2 << 20))
        withToken.send("{broken")
        let after = try await Self.call(withToken, id: 6, "get_span_names", ["service_name": "none"])
        #expect(after["isError"] as? Bool == false)
        #expect(withToken.lines.filter { $0.contains("-32600") || $0.contains("-32700") }.count == 2)
        withToken.closeInput()
        withoutToken.closeInput()
        #expect(await withToken.waitForExit() == 0, "end of input ends otter mcp")
        #expect(await withoutToken.waitForExit() == 0)
        viewer.terminate()
        _ = await viewer.waitForExit()
    }
}
