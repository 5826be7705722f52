import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/mcp` on the viewer's UI port: MCP's streamable HTTP transport, stateless. Each POST carries one JSON-RPC message
/// and gets its answer as `application/json` (202 with no body for a notification); no session id is issued and none
/// is needed, and the server never streams (GET and DELETE answer 405). The viewer's token and its Host/Origin checks
/// guard it like every other page (`BrowserSecurityMiddleware` also requires `application/json` bodies).
struct MCPEndpoint: Sendable {
    static let path = "/mcp"

    let server: MCPServer

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post(RouterPath(stringLiteral: Self.path)) { request, _ -> Response in
            await answer(request)
        }
        for method in [HTTPRequest.Method.get, .delete] {
            router.on(RouterPath(stringLiteral: Self.path), method: method) { _, _ -> Response in
                var response = Self.failure(
                    .methodNotAllowed, code: -32600, "the server sends no stream and keeps no session: POST each message")
                response.headers[.allow] = "POST"
                return response
            }
        }
    }

    func answer(_ request: Request) async -> Response {
        if let accept = request.headers[.accept], !Self.acceptsJSON(accept) {
            return Self.failure(.notAcceptable, code: -32600, "the server answers with application/json: accept it")
        }
        if let version = request.headers[.mcpProtocolVersion], !MCPServer.protocolVersions.contains(version) {
            return Self.failure(
                .badRequest, code: -32600,
                "unsupported MCP-Protocol-Version \(UntrustedValue.quoted(String(version.prefix(40)))): "
                    + "supported are \(MCPServer.protocolVersions.joined(separator: ", "))")
        }
        let body: ByteBuffer
        do throws(RequestBodyError) {
            body = try await request.collectBody(upTo: MCPServer.maximumMessageBytes)
        } catch {
            return Self.failure(error.status, code: -32600, error.description)
        }
        guard let answer = await server.handle(Data(body.readableBytesView)) else {
            return Response(status: .accepted)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
    }

    /// Whether an Accept header allows `application/json` (MCP clients send `application/json, text/event-stream`).
    static func acceptsJSON(_ accept: String) -> Bool {
        accept.split(separator: ",").contains { item in
            let type = item.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            return type == "application/json" || type == "application/*" || type == "*/*"
        }
    }

    /// An HTTP-level refusal, its body a JSON-RPC error (what MCP clients read).
    static func failure(_ status: HTTPResponse.Status, code: Int, _ message: String) -> Response {
        let body = MCPServer.encode(MCPServer.error(id: .null, code: code, message))
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension HTTPField.Name {
    static let mcpProtocolVersion = Self("MCP-Protocol-Version")!
    static let allow = Self("Allow")!
}
