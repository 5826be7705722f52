import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterOTLP
import OtterViewer
import SwiftProtobuf
import Testing
import Tracing

/// `otter viewer --token`: without the bearer token nothing is stored and nothing is shown; exporters pass it
/// as a header (HTTP) or metadata (gRPC), browsers log in once with `?token=`.
@Suite("Viewer bearer token", .serialized)
struct BearerTokenTests {
    static let token = "s3cret-token"

    /// A request on the query port without following redirects: (status, headers, body).
    func request(
        _ viewer: RunningViewer, _ path: String, headers: [(String, String)] = []
    ) async throws -> (status: Int, headers: [String: String], body: String) {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)\(path)")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            let response = try await client.execute(request, timeout: .seconds(30))
            var responseHeaders: [String: String] = [:]
            for header in response.headers { responseHeaders[header.name.lowercased()] = header.value }
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            try await client.shutdown()
            return (Int(response.status.code), responseHeaders, body)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func ingestNeedsTheToken() async throws {
        let viewer = try await RunningViewer(token: Self.token)
        let body: [UInt8] = try OTLPMapping.request(for: ViewerFixtures.spans).serializedBytes()
        let (status, text) = try await viewer.post(body, contentType: "application/x-protobuf")
        #expect(status == 401)
        #expect(text.contains("bearer token"))
        #expect(try await viewer.store.trace(ViewerFixtures.traceID).isEmpty)

        let endpoint = URL(string: "http://127.0.0.1:\(viewer.otlpPort)/v1/traces")!
        let wrong = OTLPHTTPExporter(configuration: .init(endpoint: endpoint, headers: [("Authorization", "Bearer guess")]))
        await #expect(throws: (any Error).self) { try await wrong.export(ViewerFixtures.spans) }
        let right = OTLPHTTPExporter(configuration: .init(endpoint: endpoint, headers: [("Authorization", "Bearer \(Self.token)")]))
        try await right.export(ViewerFixtures.spans)
        #expect(try await viewer.store.trace(ViewerFixtures.traceID).count == ViewerFixtures.spans.count)
        await wrong.shutdown()
        await right.shutdown()
        await viewer.stop()
    }

    @Test func grpcIngestNeedsTheToken() async throws {
        let viewer = try await RunningViewer(token: Self.token)
        let endpoint = URL(string: "http://127.0.0.1:\(viewer.grpcPort)")!
        let anonymous = try OTLPGRPCExporter(configuration: .init(endpoint: endpoint, transportProtocol: .grpc))
        do {
            try await anonymous.export(ViewerFixtures.spans)
            Issue.record("expected UNAUTHENTICATED")
        } catch {
            #expect("\(error)".contains("unauthenticated"), "\(error)")
        }
        #expect(try await viewer.store.trace(ViewerFixtures.traceID).isEmpty)
        let authorized = try OTLPGRPCExporter(
            configuration: .init(endpoint: endpoint, transportProtocol: .grpc, headers: [("authorization", "Bearer \(Self.token)")]))
        try await authorized.export(ViewerFixtures.spans)
        #expect(try await viewer.store.trace(ViewerFixtures.traceID).count == ViewerFixtures.spans.count)
        await anonymous.shutdown()
        await authorized.shutdown()
        await viewer.stop()
    }

    @Test func queryAndUINeedTheTokenAndBrowsersLogInOnce() async throws {
        let viewer = try await RunningViewer(token: Self.token)
        try await viewer.store.write(ViewerFixtures.spans)
        let tracePath = "/api/traces/\(ViewerFixtures.traceID.hexString)"

        #expect(try await request(viewer, tracePath).status == 401)
        #expect(try await request(viewer, tracePath, headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(try await request(viewer, tracePath, headers: [("Authorization", "Bearer \(Self.token)")]).status == 200)
        #expect(try await request(viewer, "/search").status == 401)

        let login = try await request(viewer, "/search?service=http-server&token=\(Self.token)")
        #expect(login.status == 303)
        #expect(login.headers["location"] == "/search?service=http-server", "the token leaves the address bar")
        let cookie = try #require(login.headers["set-cookie"])
        #expect(cookie.contains("HttpOnly"))
        let session = String(cookie.split(separator: ";")[0])
        let page = try await request(viewer, "/search?service=http-server", headers: [("Cookie", session)])
        #expect(page.status == 200)
        #expect(page.body.contains("http-server"))
        #expect(try await request(viewer, "/search?token=wrong").status == 401)
        await viewer.stop()
    }

    @Test func withoutATokenEverythingIsOpen() async throws {
        let viewer = try await RunningViewer()
        #expect(try await request(viewer, "/api/services").status == 200)
        await viewer.stop()
    }
}
