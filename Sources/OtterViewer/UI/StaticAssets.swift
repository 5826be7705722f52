import Hummingbird
import NIOCore

/// The explorer's scripts and styles, compiled into the binary from `UI/Assets/` and served under `/static/`.
/// Each answer carries an ETag of its content, so browsers revalidate after an upgrade and otherwise reuse them.
enum StaticAssets {
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
        var etag: String
    }

    static let assets: [String: Asset] = [
        "otter.css": asset(PackageResources.otter_css, "text/css; charset=utf-8"),
        "trace.js": asset(PackageResources.trace_js, "text/javascript; charset=utf-8"),
        "search.js": asset(PackageResources.search_js, "text/javascript; charset=utf-8"),
        "otter.svg": icon,
    ]

    static func asset(_ bytes: [UInt8], _ contentType: String) -> Asset {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Asset(bytes: bytes, contentType: contentType, etag: "\"\(String(hash, radix: 16))\"")
    }

    static func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/static/:name") { request, context -> Response in
            guard let name = context.parameters.get("name"), let asset = assets[name] else {
                return Response(
                    status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "not found")))
            }
            return response(asset, to: request)
        }
        // Browsers ask for /favicon.ico whatever the page says: the same icon.
        router.get("/favicon.ico") { request, _ -> Response in
            response(icon, to: request)
        }
    }

    private static let icon = asset(PackageResources.otter_svg, "image/svg+xml")

    private static func response(_ asset: Asset, to request: Request) -> Response {
        if request.headers[.ifNoneMatch] == asset.etag {
            return Response(status: .notModified, headers: [.eTag: asset.etag])
        }
        return Response(
            status: .ok, headers: [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}

/// Answers HEAD as GET without the body (RFC 9110 §9.3.2): link checkers and `curl -I` get the page's status and
/// headers instead of 404. It wraps the whole router, because routes are found before middleware runs.
struct HeadAsGetResponder<Base: HTTPResponder>: HTTPResponder {
    let base: Base

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        response.body = .init()
        return response
    }
}
