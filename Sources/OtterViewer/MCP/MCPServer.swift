import Foundation

/// A tool an MCP client can call: its name, what it is for, and the JSON Schema of its arguments. Every Otter tool only
/// reads.
package struct MCPTool: Sendable {
    package var name: String
    package var title: String
    package var description: String
    /// The arguments' JSON Schema (an object schema).
    package var inputSchema: JSONValue

    var definition: JSONValue {
        [
            "name": .string(name), "title": .string(title), "description": .string(description), "inputSchema": inputSchema,
            "annotations": [
                "title": .string(title), "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true,
                "openWorldHint": false,
            ],
        ]
    }
}

/// What a tool call answers: text an agent reads, the same facts as JSON (`structuredContent`), and whether the call
/// failed (a bad argument, a trace that is not there, a viewer that cannot be reached).
package struct MCPToolResult: Sendable, Equatable {
    package var text: String
    package var structured: JSONValue?
    package var isError: Bool

    package init(text: String, structured: JSONValue? = nil, isError: Bool = false) {
        self.text = text
        self.structured = structured
        self.isError = isError
    }

    package static func failure(_ message: String) -> MCPToolResult {
        MCPToolResult(text: message, isError: true)
    }

    package var json: JSONValue {
        var result: [String: JSONValue] = ["content": [["type": "text", "text": .string(text)]], "isError": .bool(isError)]
        if let structured { result["structuredContent"] = structured }
        return .object(result)
    }

    /// A result as a tool call returned it (the `result` of a `tools/call` answer); nil when it is not one.
    package init?(json: JSONValue) {
        guard let content = json["content"]?.arrayValue else { return nil }
        text = content.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined(separator: "\n")
        structured = json["structuredContent"]
        isError = json["isError"] == .bool(true)
    }
}

/// The tools a server offers and what calling one does.
package protocol MCPToolbox: Sendable {
    var tools: [MCPTool] { get }
    /// Calls the tool `name` (one of ``tools``) with its arguments.
    func call(_ name: String, arguments: [String: JSONValue]) async -> MCPToolResult
}

/// The Model Context Protocol's JSON-RPC side, transport aside: `initialize` (protocol versions negotiated), `ping`,
/// `tools/list` and `tools/call`; notifications are accepted and answered with nothing. Used by `/mcp` on the viewer
/// (streamable HTTP) and by `otter mcp` (stdio).
package struct MCPServer: Sendable {
    /// The protocol versions understood, newest first: an `initialize` asking for another gets the newest.
    package static let protocolVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// The largest JSON-RPC message read (a tool call's arguments are small).
    package static let maximumMessageBytes = 1 << 20

    package let toolbox: any MCPToolbox
    package let version: String
    package let instructions: String

    package init(toolbox: any MCPToolbox, version: String = "0.3.0", instructions: String = MCPServer.defaultInstructions) {
        self.toolbox = toolbox
        self.version = version
        self.instructions = instructions
    }

    package static let defaultInstructions = """
        Otter's trace viewer: spans and log records sent by applications over OTLP. Start with get_services, then \
        search_traces (errors with with_errors, slow ones with duration_min); read one trace with \
        get_trace_topology (a summary, the critical path and errors; expand spans with get_span_details) or \
        get_trace_errors and get_trace_logs. get_operation_stats gives calls, error rate and latency percentiles per \
        operation without reading traces; compare_traces says which spans were added, removed or got slower. Every list \
        says how many there were and whether it was cut.
        """

    /// The answer to one message (JSON text), or nil when it needs none (a notification, or a response).
    package func handle(_ data: Data) async -> Data? {
        guard data.count <= Self.maximumMessageBytes else {
            return Self.encode(Self.error(id: .null, code: -32600, "the message is over \(Self.maximumMessageBytes) bytes"))
        }
        guard let message = JSONValue.parse(data) else {
            return Self.encode(Self.error(id: .null, code: -32700, "parse error: the message is not JSON"))
        }
        return await handle(message).map(Self.encode)
    }

    /// The answer to one parsed message, or nil when it needs none.
    package func handle(_ message: JSONValue) async -> JSONValue? {
        guard case .object(let fields) = message else {
            if case .array = message {
                return Self.error(id: .null, code: -32600, "batches are not supported: send one JSON-RPC message at a time")
            }
            return Self.error(id: .null, code: -32600, "a JSON-RPC message is an object")
        }
        let id = fields["id"]
        if let id, !Self.isValidID(id) {
            return Self.error(id: .null, code: -32600, "the id must be a string or a number")
        }
        guard fields["jsonrpc"] == "2.0" else {
            return Self.error(id: id ?? .null, code: -32600, "the message must have \"jsonrpc\": \"2.0\"")
        }
        guard let method = fields["method"]?.stringValue else {
            // A response to a request this server never sends: nothing to answer. Anything else is malformed.
            if id != nil, fields["result"] != nil || fields["error"] != nil { return nil }
            return Self.error(id: id ?? .null, code: -32600, "the message has no method")
        }
        guard let id else { return nil }  // A notification: `notifications/initialized`, `notifications/cancelled`, …
        let params = fields["params"] ?? .object([:])
        guard case .object(let parameters) = params else {
            return Self.error(id: id, code: -32602, "params must be an object")
        }
        switch method {
        case "initialize":
            return Self.result(id: id, initializeResult(requested: parameters["protocolVersion"]?.stringValue))
        case "ping":
            return Self.result(id: id, .object([:]))
        case "tools/list":
            return Self.result(id: id, ["tools": .array(toolbox.tools.map(\.definition))])
        case "tools/call":
            guard let name = parameters["name"]?.stringValue else {
                return Self.error(id: id, code: -32602, "tools/call needs the tool's name in params.name")
            }
            guard toolbox.tools.contains(where: { $0.name == name }) else {
                let names = toolbox.tools.map(\.name).joined(separator: ", ")
                return Self.error(id: id, code: -32602, "unknown tool \(UntrustedValue.quoted(name)): the tools are \(names)")
            }
            let arguments: [String: JSONValue]
            switch parameters["arguments"] {
            case nil, .null?: arguments = [:]
            case .object(let object)?: arguments = object
            default: return Self.error(id: id, code: -32602, "params.arguments must be an object")
            }
            return Self.result(id: id, await toolbox.call(name, arguments: arguments).json)
        default:
            return Self.error(id: id, code: -32601, "method not found: \(UntrustedValue.quoted(method))")
        }
    }

    func initializeResult(requested: String?) -> JSONValue {
        let version = requested.flatMap { Self.protocolVersions.contains($0) ? $0 : nil } ?? Self.protocolVersions[0]
        return [
            "protocolVersion": .string(version),
            "capabilities": ["tools": ["listChanged": false]],
            "serverInfo": ["name": "otter", "title": "Otter trace viewer", "version": .string(self.version)],
            "instructions": .string(instructions),
        ]
    }

    static func isValidID(_ id: JSONValue) -> Bool {
        switch id {
        case .string, .integer, .number: true
        default: false
        }
    }

    package static func result(id: JSONValue, _ result: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    package static func error(id: JSONValue, code: Int, _ message: String) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "error": ["code": .integer(Int64(code)), "message": .string(message)]]
    }

    package static func encode(_ value: JSONValue) -> Data {
        Data(value.text.utf8)
    }
}
