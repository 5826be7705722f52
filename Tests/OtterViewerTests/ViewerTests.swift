import AsyncHTTPClient
import CompressNIO
import Foundation
import Hummingbird
import Logging
import NIOCore
import Otter
import OtterOTLP
import OtterViewer
import ServiceLifecycle
import Synchronization
import Testing
import Tracing

/// A viewer on ephemeral ports with its store, for one test.
final class RunningViewer: Sendable {
    let store: SQLiteTraceStore
    let otlpPort: Int
    let grpcPort: Int
    let queryPort: Int
    /// The Jaeger remote storage port; 0 unless started `servingRemoteStorage`.
    let remoteStoragePort: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// `serving` wraps the store the viewer uses (to inject faults); `store` stays the real one underneath. Without
    /// `keepsLogs`, the viewer has no log store.
    init(
        path: String = ":memory:", token: String? = nil, keepsLogs: Bool = true, maximumRequestBytesInFlight: Int = 512 << 20,
        serving: ((SQLiteTraceStore) -> any TraceStore)? = nil, servingRemoteStorage: Bool = false, traceOutlineAbove: Int = 2_000,
        maximumModelSpans: Int = 200_000, modelBudgetBytes: Int = 256 << 20
    ) async throws {
        store = try SQLiteTraceStore(path: path)
        var logger = Logger(label: "viewer-tests")
        logger.logLevel = .critical
        var configuration = Viewer.Configuration(
            otlpGRPCPort: 0, otlpHTTPPort: 0, queryPort: 0, token: BearerToken(token),
            maximumRequestBytesInFlight: maximumRequestBytesInFlight, remoteStoragePort: servingRemoteStorage ? 0 : nil)
        configuration.traceOutlineAbove = traceOutlineAbove
        configuration.maximumModelSpans = maximumModelSpans
        configuration.modelBudgetBytes = modelBudgetBytes
        let viewer = try Viewer(configuration: configuration, store: serving?(store) ?? store, logStore: keepsLogs ? store : nil)
        let (ports, continuation) = AsyncStream.makeStream(of: (String, Int).self)
        let services = viewer.makeServices(logger: logger) { name, port in continuation.yield((name, port)) }
        let group = ServiceGroup(services: services, logger: logger)
        self.group = group
        task = Task { try await group.run() }
        var found: [String: Int] = [:]
        for await (name, port) in ports {
            found[name] = port
            if found.count == (servingRemoteStorage ? 4 : 3) { break }
        }
        otlpPort = found["otlp-http"] ?? 0
        grpcPort = found["otlp-grpc"] ?? 0
        queryPort = found["query"] ?? 0
        remoteStoragePort = found["remote-storage"] ?? 0
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    func post(
        _ body: [UInt8], contentType: String, contentEncoding: String? = nil, path: String = "/v1/traces"
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(otlpPort)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let contentEncoding { request.headers.add(name: "Content-Encoding", value: contentEncoding) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text)
    }

    func get(_ path: String) async throws -> (status: Int, json: [String: Any]) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(queryPort)\(path)"), timeout: .seconds(30))
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }
}

enum ViewerFixtures {
    static let traceID = TraceID(hexString: "4bf92f3577b34da6a3ce929d0e0e4736")!

    static var spans: [FinishedSpan] {
        let server = FinishedSpan(
            operationName: "/", kind: .server,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(hexString: "00f067aa0ba902b7")!, traceFlags: .sampled),
            parentSpanContext: OtterSpanContext(
                traceID: traceID, spanID: SpanID(hexString: "1111111111111111")!, traceFlags: .sampled, isRemote: true),
            startTimeNanosecondsSinceEpoch: 1_700_000_000_000_000_000, endTimeNanosecondsSinceEpoch: 1_700_000_000_250_000_000,
            attributes: ["http.request.method": "GET", "http.response.status_code": 200, "big": .int64(9_007_199_254_740_993)],
            events: [
                SpanEvent(
                    name: "order.validated", at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: 1_700_000_000_100_000_000),
                    attributes: ["items": 3])
            ],
            resource: Resource(attributes: ["service.name": "http-server", "host.name": "vm"]))
        let client = FinishedSpan(
            operationName: "GET", kind: .client,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(hexString: "2222222222222222")!, traceFlags: .sampled),
            parentSpanContext: server.spanContext,
            startTimeNanosecondsSinceEpoch: 1_700_000_000_010_000_000, endTimeNanosecondsSinceEpoch: 1_700_000_000_020_000_000,
            links: [FinishedSpan.Link(spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(hexString: "3333333333333333")!))],
            status: SpanStatus(code: .error, message: "503 from downstream"),
            resource: Resource(attributes: ["service.name": "http-server", "host.name": "vm"]))
        let other = FinishedSpan(
            operationName: "order", kind: .internal,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(hexString: "4444444444444444")!, traceFlags: .sampled),
            parentSpanContext: server.spanContext,
            startTimeNanosecondsSinceEpoch: 1_700_000_000_030_000_000, endTimeNanosecondsSinceEpoch: 1_700_000_000_040_000_000,
            resource: Resource(attributes: ["service.name": "order-example"]))
        return [server, client, other]
    }
}

@Suite("otter viewer", .serialized)
struct ViewerTests {
    @Test func spansFromOtterExporterComeBackAsJaegerJSON() async throws {
        let viewer = try await RunningViewer()
        let exporter = OTLPHTTPExporter(configuration: .init(endpoint: URL(string: "http://127.0.0.1:\(viewer.otlpPort)/v1/traces")!))
        try await exporter.export(ViewerFixtures.spans)

        let (status, body) = try await viewer.get("/api/traces/\(ViewerFixtures.traceID.hexString)")
        #expect(status == 200)
        let trace = try #require((body["data"] as? [[String: Any]])?.first)
        #expect(body["errors"] is NSNull)
        #expect(trace["traceID"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        let spans = try #require(trace["spans"] as? [[String: Any]])
        #expect(spans.count == 3)
        let server = try #require(spans.first { $0["operationName"] as? String == "/" })
        let client = try #require(spans.first { $0["operationName"] as? String == "GET" })
        #expect((server["references"] as? [[String: Any]])?.first?["spanID"] as? String == "1111111111111111")
        let clientReferences = client["references"] as? [[String: Any]] ?? []
        #expect(clientReferences.map { $0["refType"] as? String } == ["CHILD_OF", "FOLLOWS_FROM"])
        #expect(clientReferences.first?["spanID"] as? String == "00f067aa0ba902b7")
        #expect(server["startTime"] as? Int == 1_700_000_000_000_000)
        #expect(server["duration"] as? Int == 250_000)
        let serverTags = Dictionary(
            (server["tags"] as? [[String: Any]] ?? []).map { ($0["key"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(serverTags["span.kind"]?["value"] as? String == "server")
        #expect(serverTags["http.response.status_code"]?["type"] as? String == "int64")
        #expect(serverTags["big"]?["value"] as? String == "9007199254740993", "int64 beyond 2^53 is a string")
        let clientTags = Dictionary(
            (client["tags"] as? [[String: Any]] ?? []).map { ($0["key"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(clientTags["error"]?["value"] as? Bool == true)
        #expect(clientTags["otel.status_code"]?["value"] as? String == "ERROR")
        #expect(clientTags["otel.status_description"]?["value"] as? String == "503 from downstream")
        let log = try #require((server["logs"] as? [[String: Any]])?.first)
        #expect(log["timestamp"] as? Int == 1_700_000_000_100_000)
        #expect((log["fields"] as? [[String: Any]])?.first?["value"] as? String == "order.validated")
        let processes = try #require(trace["processes"] as? [String: [String: Any]])
        #expect(Set(processes.values.compactMap { $0["serviceName"] as? String }) == ["http-server", "order-example"])
        #expect(processes[server["processID"] as? String ?? ""]?["serviceName"] as? String == "http-server")

        let services = try await viewer.get("/api/services")
        #expect(services.json["data"] as? [String] == ["http-server", "order-example"])
        #expect(services.json["total"] as? Int == 2)
        let operations = try await viewer.get("/api/services/http-server/operations")
        #expect(operations.json["data"] as? [String] == ["/", "GET"])
        let kinds = try await viewer.get("/api/operations?service=http-server&spanKind=client")
        #expect((kinds.json["data"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["GET"])
        #expect(try await viewer.get("/api/operations").status == 400)
        await viewer.stop()
    }

    @Test func unknownAndInvalidTraceIDs() async throws {
        let viewer = try await RunningViewer()
        let missing = try await viewer.get("/api/traces/0123456789abcdef0123456789abcdef")
        #expect(missing.status == 404)
        #expect((missing.json["errors"] as? [[String: Any]])?.first?["msg"] as? String == "trace not found")
        #expect(try await viewer.get("/api/traces/not-hex").status == 400)
        #expect(try await viewer.get("/api/traces/00000000000000000000000000000000").status == 400)
        await viewer.stop()
    }

    @Test func badInputIsRejectedWithAMessageAndNothingIsStored() async throws {
        let viewer = try await RunningViewer()
        let valid: [UInt8] = OTLPProtobufEncoder.encode(ViewerFixtures.spans)

        let malformed = try await viewer.post([0x0A, 0xFF, 0xFF, 0x01], contentType: "application/x-protobuf")
        #expect(malformed.status == 400)
        #expect(malformed.body.contains("malformed OTLP request"))
        let badJSON = try await viewer.post(Array("{\"resourceSpans\": [".utf8), contentType: "application/json")
        #expect(badJSON.status == 400)
        #expect(badJSON.body.contains("not valid JSON"))
        #expect(try await viewer.post(valid, contentType: "text/plain").status == 415)
        #expect(try await viewer.post(valid, contentType: "application/x-protobuf", contentEncoding: "br").status == 415)

        var bomb = ByteBuffer(bytes: [UInt8](repeating: 0, count: 70 << 20))
        let compressed = try bomb.compress(with: .gzip())
        #expect(compressed.readableBytes < 1 << 20)
        let bombResponse = try await viewer.post(
            Array(compressed.readableBytesView), contentType: "application/x-protobuf", contentEncoding: "gzip")
        #expect(bombResponse.status == 413, "\(bombResponse)")
        #expect(try await viewer.post([UInt8](repeating: 1, count: 65 << 20), contentType: "application/x-protobuf").status == 413)

        #expect(try await viewer.store.services().isEmpty, "nothing was stored")
        let accepted = try await viewer.post(valid, contentType: "application/x-protobuf")
        #expect(accepted.status == 200, "the viewer keeps serving")
        #expect(try await viewer.store.trace(ViewerFixtures.traceID).count == 3)
        await viewer.stop()
    }

    @Test func acknowledgedSpansSurviveARestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("otter-viewer-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let first = try await RunningViewer(path: path)
        #expect(try await first.post(OTLPProtobufEncoder.encode(ViewerFixtures.spans), contentType: "application/x-protobuf").status == 200)
        await first.stop()

        let second = try await RunningViewer(path: path)
        let (status, body) = try await second.get("/api/traces/\(ViewerFixtures.traceID.hexString)")
        #expect(status == 200)
        #expect(((body["data"] as? [[String: Any]])?.first?["spans"] as? [Any])?.count == 3)
        await second.stop()
    }
}
