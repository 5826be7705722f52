import HTTPTypes
import Hummingbird
import NIOCore

/// What keeps web pages the user has open elsewhere away from the viewer's traces:
/// - a Host check: while the viewer listens on loopback, a request must name a loopback host (`localhost`,
///   `127.0.0.1`, `[::1]`), so a DNS-rebinding page (`evil.example` resolving to 127.0.0.1) gets 421;
/// - cross-site writes refused: a POST must carry `application/json` (which a cross-site form cannot send without
///   a CORS preflight the viewer never grants) and must not come from another site (`Sec-Fetch-Site`, or an
///   `Origin` that is not a loopback host);
/// - headers on every answer: a Content-Security-Policy without inline script, `nosniff`, no framing, no referrer.
struct BrowserSecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    /// True when the viewer listens beyond loopback: its names are unknown, so any Host is accepted.
    let allowsAnyHost: Bool

    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if !allowsAnyHost, let host = request.head.authority, !Self.isLoopbackHost(host) {
            response = Self.refusal(
                .misdirectedRequest, "this viewer answers only requests for localhost, 127.0.0.1 or [::1], not \(host.prefix(100))")
        } else if request.method == .post, let refusal = Self.crossSiteRefusal(request, checksOrigin: !allowsAnyHost) {
            response = refusal
        } else {
            do {
                response = try await next(request, context)
            } catch let error as HTTPError where error.body == nil {
                // The router's own answers (no route for this path and method) have no body: say what was asked.
                response = HTTPAnswer.error(error.status, Self.bareErrorMessage(error.status, request))
            } catch let error as any HTTPResponseError {
                // A 404 for an unknown path (and any other error answer) gets the same headers.
                response = try error.response(from: request, context: context)
            }
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.crossOriginResourcePolicy] = "same-origin"
        return response
    }

    static func crossSiteRefusal(_ request: Request, checksOrigin: Bool) -> Response? {
        if let site = request.headers[.secFetchSite], site == "cross-site" || site == "same-site" {
            return refusal(.forbidden, "cross-site requests are not accepted")
        }
        if checksOrigin, let origin = request.headers[.origin], origin != "null",
            !isLoopbackHost(origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? "")
        {
            return refusal(.forbidden, "cross-site requests are not accepted (Origin \(origin.prefix(100)))")
        }
        let contentType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard contentType == "application/json" else {
            return refusal(.unsupportedMediaType, "send the body as application/json")
        }
        return nil
    }

    /// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
    static func isLoopbackHost(_ authority: String) -> Bool {
        var host = Substring(authority.lowercased())
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            host = host[host.index(after: host.startIndex)..<close]
            return host == "::1"
        }
        if let colon = host.lastIndex(of: ":") { host = host[..<colon] }
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// What an answer without a message says: for a 404, the method and path that have no route.
    static func bareErrorMessage(_ status: HTTPResponse.Status, _ request: Request) -> String {
        guard status == .notFound else { return status.reasonPhrase }
        return "nothing answers \(request.method.rawValue) \(UntrustedValue.quoted(String(request.uri.path.prefix(200))))"
    }

    static func refusal(_ status: HTTPResponse.Status, _ message: String) -> Response {
        HTTPAnswer.error(status, message)
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let crossOriginResourcePolicy = Self("Cross-Origin-Resource-Policy")!
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
