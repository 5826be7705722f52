import AsyncHTTPClient
import Foundation
import NIOCore
import OtterViewer
import Testing

/// What an MCP client sends to `/mcp`, with its answer.
struct MCPExchange {
    let status: Int
    let headers: [String: String]
    let body: String

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    var result: [String: Any] { json["result"] as? [String: Any] ?? [:] }
    var errorCode: Int? { (json["error"] as? [String: Any])?["code"] as? Int }
    var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
}

extension RunningViewer {
    /// POSTs one JSON-RPC message (or raw text) to `/mcp` as an MCP client does.
    enum Method { case post, get, delete }

    func mcp(
        _ message: Any, method: Method = .post, headers extra: [(String, String)] = [],
        contentType: String = "application/json"
    ) async throws -> MCPExchange {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(queryPort)/mcp")
        switch method {
        case .post: request.method = .POST
        case .get: request.method = .GET
        case .delete: request.method = .DELETE
        }
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        for (name, value) in extra { request.headers.replaceOrAdd(name: name, value: value) }
        if method == .post {
            let data = try (message as? String).map { Data($0.utf8) } ?? JSONSerialization.data(withJSONObject: message)
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = String(buffer: try await response.body.collect(upTo: 16 << 20))
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return MCPExchange(status: Int(response.status.code), headers: headers, body: body)
    }

    /// Calls a tool; returns the result's text, structured content and error flag (or fails the test on a JSON-RPC error).
    func callTool(_ name: String, _ arguments: [String: Any] = [:]) async throws -> (text: String, structured: [String: Any], isError: Bool)
    {
        let exchange = try await mcp([
            "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": ["name": name, "arguments": arguments],
        ])
        #expect(exchange.status == 200, "\(exchange.body)")
        #expect(exchange.errorCode == nil, "\(name): \(exchange.body)")
        let result = exchange.result
        let text = ((result["content"] as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }.joined(separator: "\n")
        return (text, result["structuredContent"] as? [String: Any] ?? [:], result["isError"] as? Bool ?? false)
    }
}

@Suite("MCP on the viewer: the JSON-RPC and streamable HTTP side")
struct MCPProtocolTests {
    static func initialize(_ version: String) -> [String: Any] {
        [
            "jsonrpc": "2.0", "id": "init-1", "method": "initialize",
            "params": ["protocolVersion": version, "capabilities": [:] as [String: Any], "clientInfo": ["name": "test", "version": "1"]],
        ]
    }

    @Test func initializeNegotiatesTheProtocolVersion() async throws {
        let viewer = try await RunningViewer()
        for (asked, answered) in [
            ("2025-06-18", "2025-06-18"), ("2025-11-25", "2025-11-25"), ("2025-03-26", "2025-03-26"), ("2031-01-01", "2025-11-25"),
        ] {
            let exchange = try await viewer.mcp(Self.initialize(asked))
            #expect(exchange.status == 200)
            #expect(exchange.headers["content-type"] == "application/json")
            #expect(exchange.json["id"] as? String == "init-1")
            #expect(exchange.result["protocolVersion"] as? String == answered)
            #expect((exchange.result["serverInfo"] as? [String: Any])?["name"] as? String == "otter")
            #expect((exchange.result["capabilities"] as? [String: Any])?["tools"] != nil)
            #expect((exchange.result["instructions"] as? String)?.contains("search_traces") == true)
        }
        let ping = try await viewer.mcp(["jsonrpc": "2.0", "id": 2, "method": "ping"])
        #expect(ping.json["id"] as? Int == 2)
        #expect(ping.result.isEmpty && ping.errorCode == nil)
        await viewer.stop()
    }

    @Test func notificationsAndResponsesGetNoAnswer() async throws {
        let viewer = try await RunningViewer()
        let notification = try await viewer.mcp(["jsonrpc": "2.0", "method": "notifications/initialized"])
        #expect(notification.status == 202)
        #expect(notification.body.isEmpty)
        let response = try await viewer.mcp(["jsonrpc": "2.0", "id": 9, "result": [:] as [String: Any]])
        #expect(response.status == 202)
        await viewer.stop()
    }

    @Test func malformedMessagesGetJSONRPCErrors() async throws {
        let viewer = try await RunningViewer()
        let cases: [(message: Any, code: Int, says: String)] = [
            ("{not json", -32700, "not JSON"),
            ("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600, "batches"),
            ("42", -32600, "object"),
            (["id": 1, "method": "ping"], -32600, "jsonrpc"),
            (["jsonrpc": "2.0", "id": ["x"], "method": "ping"], -32600, "id"),
            (["jsonrpc": "2.0", "id": 1], -32600, "no method"),
            (["jsonrpc": "2.0", "id": 1, "method": "resources/list"], -32601, "resources/list"),
            (["jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": [1, 2]], -32602, "params"),
            (["jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["arguments": [:] as [String: Any]]], -32602, "name"),
            (["jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["name": "drop_all_traces"]], -32602, "unknown tool"),
            (
                ["jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["name": "get_services", "arguments": "all"]], -32602,
                "arguments"
            ),
        ]
        for (message, code, says) in cases {
            let exchange = try await viewer.mcp(message)
            #expect(exchange.status == 200, "\(message)")
            #expect(exchange.errorCode == code, "\(message): \(exchange.body)")
            #expect(exchange.errorMessage.contains(says), "\(message): \(exchange.errorMessage)")
        }
        await viewer.stop()
    }

    @Test func theTransportRefusesWhatItDoesNotServe() async throws {
        let viewer = try await RunningViewer()
        let ping: [String: Any] = ["jsonrpc": "2.0", "id": 1, "method": "ping"]
        let stream = try await viewer.mcp("", method: .get, headers: [("Accept", "text/event-stream")])
        #expect(stream.status == 405)
        #expect(stream.headers["allow"] == "POST")
        #expect(try await viewer.mcp("", method: .delete).status == 405)
        let version = try await viewer.mcp(ping, headers: [("MCP-Protocol-Version", "1999-01-01")])
        #expect(version.status == 400)
        #expect(version.errorMessage.contains("2025-06-18"))
        #expect(try await viewer.mcp(ping, headers: [("MCP-Protocol-Version", "2025-06-18")]).status == 200)
        #expect(try await viewer.mcp(ping, headers: [("Accept", "text/html")]).status == 406)
        #expect(try await viewer.mcp(ping, contentType: "text/plain").status == 415)
        let huge =
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":\"" + String(repeating: "a", count: 2 << 20) + "\"}}"
        #expect(try await viewer.mcp(huge).status == 413)
        // A web page the user has open cannot reach it: DNS rebinding (Host) and cross-site requests (Origin).
        #expect(try await viewer.mcp(ping, headers: [("Host", "evil.example")]).status == 421)
        #expect(try await viewer.mcp(ping, headers: [("Origin", "https://evil.example")]).status == 403)
        #expect(try await viewer.mcp(ping, headers: [("Origin", "http://localhost:6274")]).status == 200)
        await viewer.stop()
    }

    @Test func theViewersTokenGuardsIt() async throws {
        let viewer = try await RunningViewer(token: "s3cret-token-value")
        let ping: [String: Any] = ["jsonrpc": "2.0", "id": 1, "method": "ping"]
        #expect(try await viewer.mcp(ping).status == 401)
        #expect(try await viewer.mcp(ping, headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(try await viewer.mcp(ping, headers: [("Authorization", "Bearer s3cret-token-value")]).status == 200)
        await viewer.stop()
    }

    @Test func everyToolIsListedReadOnlyWithAClosedSchema() async throws {
        let viewer = try await RunningViewer()
        let tools = try #require(
            try await viewer.mcp(["jsonrpc": "2.0", "id": 1, "method": "tools/list"]).result["tools"] as? [[String: Any]])
        let names = tools.compactMap { $0["name"] as? String }
        #expect(
            names == [
                "get_services", "get_span_names", "search_traces", "get_trace_topology", "get_critical_path", "get_trace_errors",
                "get_span_details", "get_service_dependencies", "get_operation_stats", "compare_traces", "search_logs", "get_trace_logs",
            ])
        for tool in tools {
            let annotations = tool["annotations"] as? [String: Any] ?? [:]
            #expect(annotations["readOnlyHint"] as? Bool == true)
            #expect(annotations["destructiveHint"] as? Bool == false)
            let schema = tool["inputSchema"] as? [String: Any] ?? [:]
            #expect(schema["type"] as? String == "object")
            #expect(schema["additionalProperties"] as? Bool == false)
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for required in schema["required"] as? [String] ?? [] { #expect(properties[required] != nil, "\(tool["name"] ?? "")") }
            #expect((tool["description"] as? String)?.isEmpty == false)
        }
        await viewer.stop()
    }
}
