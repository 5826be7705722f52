import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterViewer
import Synchronization

/// `otter mcp`: an MCP server over standard input and output (what coding agents launch), answering from a running
/// `otter viewer`. It starts without one: the tools are listed, and a call while no viewer answers says so and how to
/// start it.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the viewer's traces, metrics and logs to AI agents over MCP (stdio).",
        discussion: """
            Reads JSON-RPC messages from standard input, one per line, and writes the answers to standard output. Add it \
            to an agent's MCP configuration as the command `otter mcp`; the viewer serves the same tools over HTTP at \
            /mcp on its UI port.
            """)

    @Option(help: "The viewer whose data the tools read.")
    var viewer = "http://127.0.0.1:16686"

    @Option(help: "Bearer token for the viewer (default: $OTTER_VIEWER_TOKEN).")
    var token: String?

    @Option(help: "How long one tool call may wait for the viewer (Go duration).")
    var viewerTimeout = "60s"

    func run() async throws {
        let base = viewer.hasSuffix("/") ? String(viewer.dropLast()) : viewer
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ValidationError("--viewer \(viewer) is not an http:// or https:// URL")
        }
        if let port = url.port, !(1...65_535).contains(port) {
            throw ValidationError("--viewer \(viewer): port \(port) is not a port number (1 to 65535)")
        }
        let timeout: UInt64
        do {
            timeout = try UntrustedValue.duration("--viewer-timeout", viewerTimeout)
        } catch {
            throw ValidationError("\(error)")
        }
        guard timeout > 0 else { throw ValidationError("--viewer-timeout must be more than 0") }
        let toolbox = ViewerProxyToolbox(
            base: base, token: token ?? ProcessInfo.processInfo.environment["OTTER_VIEWER_TOKEN"],
            timeout: .nanoseconds(Int64(clamping: timeout)))
        let server = MCPServer(toolbox: toolbox)
        let output = StandardOutputLines()
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for await line in StandardInputLines.lines(maximumBytes: MCPServer.maximumMessageBytes) {
                // At most 8 messages in hand at once: a client that pipelines thousands waits instead of growing memory.
                if inFlight >= 8 {
                    await group.next()
                    inFlight -= 1
                }
                switch line {
                case .tooLong:
                    output.write(
                        MCPServer.encode(
                            MCPServer.error(id: .null, code: -32600, "the message is over \(MCPServer.maximumMessageBytes) bytes")))
                case .line(let data):
                    guard data.contains(where: { ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains($0) }) else {
                        continue
                    }
                    // Messages are answered concurrently (a slow tool call does not hold up a ping); each answer is one line.
                    inFlight += 1
                    group.addTask {
                        if let answer = await server.handle(data) { output.write(answer) }
                    }
                }
            }
        }
    }
}

/// Answer lines on standard output, written whole, one at a time.
final class StandardOutputLines: Sendable {
    private let lock = Mutex(())

    func write(_ message: Data) {
        lock.withLock { _ in
            FileHandle.standardOutput.write(message + Data([UInt8(ascii: "\n")]))
        }
    }
}

/// Standard input as lines of at most `maximumBytes` (a longer line is skipped up to its end and reported once), read
/// on a thread of its own so the cooperative pool never blocks on it. The stream ends at end of input.
enum StandardInputLines {
    enum Line: Sendable {
        case line(Data)
        case tooLong
    }

    static func lines(maximumBytes: Int) -> AsyncStream<Line> {
        AsyncStream { continuation in
            let thread = Thread {
                var pending = Data()
                var skipping = false
                while true {
                    let chunk = FileHandle.standardInput.availableData
                    if chunk.isEmpty { break }
                    var rest = chunk[...]
                    while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
                        if skipping {
                            skipping = false
                        } else {
                            pending.append(contentsOf: rest[..<newline])
                            continuation.yield(pending.count > maximumBytes ? .tooLong : .line(pending))
                        }
                        pending = Data()
                        rest = rest[rest.index(after: newline)...]
                    }
                    if !skipping {
                        pending.append(contentsOf: rest)
                        if pending.count > maximumBytes {
                            continuation.yield(.tooLong)
                            pending = Data()
                            skipping = true
                        }
                    }
                }
                if !skipping, !pending.isEmpty { continuation.yield(.line(pending)) }
                continuation.finish()
            }
            thread.start()
        }
    }
}

/// ``ViewerTools`` answered by a viewer's `/mcp`: each call is sent on as a `tools/call`. A viewer that does not answer,
/// refuses the token or is not Otter gives an error result that says what to do, never a failed server.
struct ViewerProxyToolbox: MCPToolbox {
    let base: String
    let token: String?
    let timeout: Duration

    var tools: [MCPTool] { ViewerTools.all }

    func call(_ name: String, arguments: [String: JSONValue]) async -> MCPToolResult {
        let message: JSONValue = [
            "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["name": .string(name), "arguments": .object(arguments)],
        ]
        var request = HTTPClientRequest(url: base + "/mcp")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        request.headers.add(name: "MCP-Protocol-Version", value: MCPServer.protocolVersions[0])
        if let token, !token.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: MCPServer.encode(message)))
        // A viewer that is not running would be retried until the call's timeout: a short probe says so at once.
        do {
            var probe = HTTPClientRequest(url: base + "/mcp")
            probe.method = .GET
            _ = try await HTTPClient.shared.execute(probe, timeout: .seconds(2))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            // Connected but slow to answer: a busy viewer, not a missing one. The call itself gets the full timeout.
        } catch {
            return .failure(
                "no Otter viewer answers at \(base) (\(error)). Start one with `otter viewer` (or point `otter mcp --viewer` at "
                    + "the one that runs), then call the tool again.")
        }
        let answer: (status: UInt, body: ByteBuffer)?
        do {
            let request = request
            answer = try await withTimeout(timeout) {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3600))
                return (response.status.code, try await response.body.collect(upTo: 64 << 20))
            }
        } catch {
            return .failure("the viewer at \(base) did not answer: \(error)")
        }
        guard let (status, body) = answer else {
            return .failure("the viewer at \(base) did not answer within \(timeout)")
        }
        switch status {
        case 200: break
        case 401:
            let given = token.map { !$0.isEmpty } ?? false
            return .failure(
                given
                    ? "the viewer at \(base) refused the token: pass the one `otter viewer` was started with (--token or OTTER_VIEWER_TOKEN)"
                    : "the viewer at \(base) needs its token: pass `otter mcp --token` or set OTTER_VIEWER_TOKEN")
        case 404: return .failure("\(base) has no /mcp: it is not an Otter viewer, or an older one (upgrade it)")
        default:
            let detail =
                JSONValue.parse(Data(body.readableBytesView))?["error"]?["message"]?.stringValue ?? String(String(buffer: body).prefix(300))
            return .failure("the viewer at \(base) answered \(status): \(detail)")
        }
        guard let reply = JSONValue.parse(Data(body.readableBytesView)) else {
            return .failure("the viewer at \(base) did not answer JSON")
        }
        if let result = reply["result"], let toolResult = MCPToolResult(json: result) { return toolResult }
        return .failure(
            "the viewer at \(base) refused the call: \(reply["error"]?["message"]?.stringValue ?? reply.text.prefix(300).description)")
    }
}
