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
            if request.headers[.ifNoneMatch] == asset.etag {
                return Response(status: .notModified, headers: [.eTag: asset.etag])
            }
            return Response(
                status: .ok, headers: [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
        }
    }
}
