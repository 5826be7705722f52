import Foundation
import GRPCCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The viewer's optional shared secret (`otter viewer --token`, or `OTTER_VIEWER_TOKEN`). Exporters send it as
/// `Authorization: Bearer <token>` (`OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer <token>`), API clients
/// too; a browser opens any page once with `?token=<token>` and gets it as an HTTP-only cookie.
public struct BearerToken: Sendable {
    package let secret: String
    static let cookieName = "otter_token"

    /// The token `secret`; nil when `secret` is nil or empty, so an unset option or variable means no token.
    public init?(_ secret: String?) {
        guard let secret, !secret.isEmpty else { return nil }
        self.secret = secret
    }

    /// Compares without stopping at the first difference, so response time does not reveal a prefix.
    func matches(_ offered: some StringProtocol) -> Bool {
        let expected = Array(secret.utf8)
        let given = Array(offered.utf8)
        var difference = UInt8(truncatingIfNeeded: expected.count ^ given.count)
        for index in 0..<max(expected.count, given.count) {
            difference |= (index < expected.count ? expected[index] : 0) ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0 && expected.count == given.count
    }

    /// Whether an `Authorization` header value is `Bearer <token>` (scheme case-insensitive).
    func matchesAuthorization(_ value: String?) -> Bool {
        guard let value, value.count > 7, value.prefix(7).lowercased() == "bearer " else { return false }
        return matches(value.dropFirst(7).trimmingCharacters(in: .whitespaces))
    }

    func matchesCookie(_ header: String?) -> Bool {
        guard let header else { return false }
        for pair in header.split(separator: ";") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == Self.cookieName, matches(parts[1]) { return true }
        }
        return false
    }
}

/// Rejects HTTP requests without the bearer token with 401. With `acceptsBrowserLogin`, a `?token=` query
/// parameter is also accepted: the answer sets the cookie and redirects to the same URL without the token.
package struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    package let token: BearerToken
    package let acceptsBrowserLogin: Bool

    package init(token: BearerToken, acceptsBrowserLogin: Bool) {
        self.token = token
        self.acceptsBrowserLogin = acceptsBrowserLogin
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if token.matchesAuthorization(request.headers[.authorization])
            || (acceptsBrowserLogin && token.matchesCookie(request.headers[.cookie]))
        {
            return try await next(request, context)
        }
        if acceptsBrowserLogin, let offered = request.uri.queryParameters.get("token"), token.matches(offered) {
            var location = request.uri.path
            if var components = URLComponents(string: request.uri.string) {
                let remaining = (components.queryItems ?? []).filter { $0.name != "token" }
                components.queryItems = remaining.isEmpty ? nil : remaining
                location = components.string ?? location
            }
            // Only a path on this server: `//host/...` or `/\host` would send the browser elsewhere (an open redirect).
            if !location.hasPrefix("/") || location.hasPrefix("//") || location.hasPrefix("/\\") { location = "/" }
            var headers: HTTPFields = [.location: location]
            headers[.setCookie] = "\(BearerToken.cookieName)=\(token.secret); Path=/; HttpOnly; SameSite=Strict"
            return Response(status: .seeOther, headers: headers)
        }
        let body = ByteBuffer(string: #"{"error":"missing or wrong bearer token: send Authorization: Bearer <token>"}"#)
        return Response(
            status: .unauthorized, headers: [.wwwAuthenticate: "Bearer", .contentType: "application/json"], body: .init(byteBuffer: body))
    }
}

/// Rejects gRPC calls without `authorization: Bearer <token>` metadata with UNAUTHENTICATED.
package struct BearerTokenInterceptor: ServerInterceptor {
    package let token: BearerToken

    package init(token: BearerToken) {
        self.token = token
    }

    package func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard request.metadata[stringValues: "authorization"].contains(where: { token.matchesAuthorization($0) }) else {
            throw RPCError(code: .unauthenticated, message: "missing or wrong bearer token: send authorization: Bearer <token>")
        }
        return try await next(request, context)
    }
}
