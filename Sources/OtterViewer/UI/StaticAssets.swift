import Foundation
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

    /// Every file of `UI/Assets/` by the name it is served under, its content type following from its extension.
    static let assets: [String: Asset] = Dictionary(
        uniqueKeysWithValues: [
            // Styles, linked by the layout in this order (the cascade's).
            ("otter.css", PackageResources.otter_css),
            ("pages.css", PackageResources.pages_css),
            ("explorer.css", PackageResources.explorer_css),
            ("flamegraph.css", PackageResources.flamegraph_css),
            ("logs.css", PackageResources.logs_css),
            ("details.css", PackageResources.details_css),
            // ES modules: one entry per page, and what they import.
            ("trace-page.mjs", PackageResources.trace_page_mjs),
            ("upload-page.mjs", PackageResources.upload_page_mjs),
            ("search-page.mjs", PackageResources.search_page_mjs),
            ("logs-page.mjs", PackageResources.logs_page_mjs),
            ("explorer.mjs", PackageResources.explorer_mjs),
            ("state.mjs", PackageResources.state_mjs),
            ("toolbar.mjs", PackageResources.toolbar_mjs),
            ("keys.mjs", PackageResources.keys_mjs),
            ("timeline.mjs", PackageResources.timeline_mjs),
            ("minimap.mjs", PackageResources.minimap_mjs),
            ("flamegraph.mjs", PackageResources.flamegraph_mjs),
            ("statistics.mjs", PackageResources.statistics_mjs),
            ("logs-view.mjs", PackageResources.logs_view_mjs),
            ("details.mjs", PackageResources.details_mjs),
            ("model.mjs", PackageResources.model_mjs),
            ("find.mjs", PackageResources.find_mjs),
            ("logs.mjs", PackageResources.logs_mjs),
            ("live.mjs", PackageResources.live_mjs),
            ("outline.mjs", PackageResources.outline_mjs),
            ("format.mjs", PackageResources.format_mjs),
            ("dom.mjs", PackageResources.dom_mjs),
        ].map { name, bytes in (name, asset(bytes, contentType(of: name))) } + [("otter.svg", icon)])

    /// The content type of an asset, by its name's extension.
    static func contentType(of name: String) -> String {
        if name.hasSuffix(".css") { return "text/css; charset=utf-8" }
        if name.hasSuffix(".mjs") || name.hasSuffix(".js") { return "text/javascript; charset=utf-8" }
        if name.hasSuffix(".svg") { return "image/svg+xml" }
        return "application/octet-stream"
    }

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

    /// Whether an `If-None-Match` value names `etag` (RFC 9110 §13.1.2: a list, weak comparison, or `*`).
    static func matches(_ condition: String, _ etag: String) -> Bool {
        condition.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }

    private static func response(_ asset: Asset, to request: Request) -> Response {
        if let condition = request.headers[.ifNoneMatch], matches(condition, asset.etag) {
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
        // No body, but the length GET's body would have, as RFC 9110 §9.3.2 lets HEAD say.
        response.body = ResponseBody(contentLength: response.body.contentLength) { writer in try await writer.finish(nil) }
        return response
    }
}
