import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import OtterViewer

/// The files under `UI/Assets` and `UI/Templates` are listed by hand (in Package.swift, `StaticAssets` and
/// `Templates`): a file added without its entries, or an entry naming the wrong file, fails here instead of in a
/// browser.
@Suite("viewer assets and templates")
struct ViewerAssetsTests {
    /// `Sources/OtterViewer/UI` of this checkout: this file is `Tests/OtterViewerTests/ViewerAssetsTests.swift`.
    static let userInterface = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources").appendingPathComponent("OtterViewer")
        .appendingPathComponent("UI")

    static func files(_ folder: String, extensions: Set<String>) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(
            at: userInterface.appendingPathComponent(folder), includingPropertiesForKeys: nil
        ).filter { extensions.contains($0.pathExtension) }.sorted { $0.path < $1.path }
    }

    @Test func everyAssetIsServedAsItIsOnDisk() async throws {
        let onDisk = try Self.files("Assets", extensions: ["mjs", "js", "css", "svg"])
        #expect(onDisk.count >= 20, "found the assets folder")
        #expect(Set(onDisk.map(\.lastPathComponent)) == Set(StaticAssets.assets.keys))
        let viewer = try await RunningViewer()
        for file in onDisk {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)/static/\(file.lastPathComponent)"), timeout: .seconds(30))
            let served = try await response.body.collect(upTo: 4 << 20)
            #expect(response.status == .ok, "\(file.lastPathComponent)")
            #expect(Array(served.readableBytesView) == Array(try Data(contentsOf: file)), "\(file.lastPathComponent) is served as written")
        }
        await viewer.stop()
    }

    @Test func everyModuleImportsOnlyServedModules() throws {
        for file in try Self.files("Assets", extensions: ["mjs"]) {
            let source = try String(contentsOf: file, encoding: .utf8)
            for line in source.split(separator: "\n") where line.hasPrefix("import ") {
                guard let from = line.range(of: "from './") else { continue }
                let name = line[from.upperBound...].prefix { $0 != "'" }
                #expect(StaticAssets.assets[String(name)] != nil, "\(file.lastPathComponent) imports \(name), which is not served")
            }
        }
    }

    @Test func everyTemplateIsRegisteredAsItIsOnDisk() throws {
        let onDisk = try Self.files("Templates", extensions: ["mustache"])
        #expect(Set(onDisk.map { $0.deletingPathExtension().lastPathComponent }) == Set(Templates.files.map(\.name)))
        for file in onDisk {
            let registered = Templates.files.first { $0.name == file.deletingPathExtension().lastPathComponent }
            #expect(registered?.bytes == Array(try Data(contentsOf: file)), "\(file.lastPathComponent) is registered as written")
        }
    }

    @Test func headSaysTheLengthAndConditionalRequestsMatchAsRFC9110Says() async throws {
        let viewer = try await RunningViewer()
        let url = "http://127.0.0.1:\(viewer.queryPort)/static/otter.css"
        let get = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        let length = try await get.body.collect(upTo: 4 << 20).readableBytes
        let etag = try #require(get.headers.first(name: "ETag"))
        var head = HTTPClientRequest(url: url)
        head.method = .HEAD
        let headResponse = try await HTTPClient.shared.execute(head, timeout: .seconds(30))
        #expect(headResponse.headers["Content-Length"] == [String(length)], "HEAD says GET's length, once")
        for condition in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "If-None-Match", value: condition)
            #expect(
                try await HTTPClient.shared.execute(request, timeout: .seconds(30)).status == .notModified, "If-None-Match: \(condition)")
        }
        var other = HTTPClientRequest(url: url)
        other.headers.add(name: "If-None-Match", value: "\"other\"")
        #expect(try await HTTPClient.shared.execute(other, timeout: .seconds(30)).status == .ok)
        await viewer.stop()
    }
}
