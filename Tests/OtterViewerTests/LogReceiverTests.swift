import AsyncHTTPClient
import CompressNIO
import Foundation
import Logging
import NIOCore
import Otter
import OtterOTLP
import Testing
import Tracing

@testable import OtterViewer

/// Log records into a running viewer over OTLP/HTTP (protobuf, JSON, gzip) and OTLP/gRPC, with Otter's own exporters
/// configured as an application configures them, and out again through `/api/otter/logs`; hostile bodies and
/// parameters refused with a status and a message.
@Suite("otter viewer: logs in and out", .serialized)
struct LogReceiverTests {
    /// A trace with two spans, and the logs an application writes inside them through swift-log.
    static func emitLogs(to exporter: any LogRecordExporter, service: String) async throws -> (TraceID, server: SpanID, child: SpanID) {
        let processor = BatchLogRecordProcessor(exporter: exporter)
        let resource = Resource(attributes: ["service.name": .string(service)])
        let emitter = OtterLogEmitter(resource: resource, processor: processor)
        let logger = Logger(label: "orders") { emitter.makeLogHandler(label: $0, metadataProvider: nil) }
        let tracer = OtterTracer(
            resource: resource, sampler: AlwaysOnSampler(), processor: SimpleSpanProcessor(exporter: InMemorySpanExporter()))
        var ids: (TraceID, SpanID, SpanID)?
        tracer.withSpan("GET /") { server in
            logger.info("request received", metadata: ["http.route": "/"])
            tracer.withSpan("charge") { child in
                logger.error("payment declined", metadata: ["card": ["brand": "visa"], "amount": "12.50"])
                ids = (server.spanContext.traceID, server.spanContext.spanID, child.spanContext.spanID)
            }
        }
        logger.notice("outside any span")
        #expect(await processor.forceFlush(timeout: .seconds(60)))
        _ = await processor.shutdown(timeout: .seconds(60))
        let (traceID, serverID, childID) = try #require(ids)
        return (traceID, serverID, childID)
    }

    static func records(_ json: [String: Any]) -> [[String: Any]] {
        ((json["resourceLogs"] as? [[String: Any]]) ?? []).flatMap { resource in
            ((resource["scopeLogs"] as? [[String: Any]]) ?? []).flatMap { ($0["logRecords"] as? [[String: Any]]) ?? [] }
        }
    }

    static func body(_ record: [String: Any]) -> String? {
        (record["body"] as? [String: Any])?["stringValue"] as? String
    }

    @Test(arguments: ["http/protobuf", "http/json", "grpc"])
    func otterLogsAreFoundByTraceWithTheirSpanIDs(protocolName: String) async throws {
        let viewer = try await RunningViewer()
        let endpoint = protocolName == "grpc" ? "http://127.0.0.1:\(viewer.grpcPort)" : "http://127.0.0.1:\(viewer.otlpPort)"
        let configuration = try OtterConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocolName,
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        ])
        let exporter = try #require(try Otter.otlpLogExporterFactory(.otlp, configuration))
        let service = "shop-\(protocolName)"
        let (traceID, serverID, childID) = try await Self.emitLogs(to: exporter, service: service)

        let (status, json) = try await viewer.get("/api/otter/logs?traceID=\(traceID.hexString)")
        #expect(status == 200)
        let records = Self.records(json)
        #expect(records.map(Self.body) == ["payment declined", "request received"], "newest first, the trace's records only")
        #expect(records.map { $0["spanId"] as? String } == [childID.hexString, serverID.hexString])
        #expect(records.allSatisfy { $0["traceId"] as? String == traceID.hexString })
        #expect(records.first?["severityNumber"] as? Int == 17)
        #expect(records.first?["severityText"] as? String == "error")
        let attributes = (records.first?["attributes"] as? [[String: Any]]) ?? []
        #expect(attributes.contains { $0["key"] as? String == "card" && ($0["value"] as? [String: Any])?["kvlistValue"] != nil })
        let resource = ((json["resourceLogs"] as? [[String: Any]])?.first?["resource"] as? [String: Any])?["attributes"] as? [[String: Any]]
        #expect(resource?.contains { ($0["value"] as? [String: Any])?["stringValue"] as? String == service } == true)

        let bySpan = try await viewer.get("/api/otter/logs?traceID=\(traceID.hexString)&spanID=\(serverID.hexString)")
        #expect(Self.records(bySpan.json).map(Self.body) == ["request received"])
        let byService = try await viewer.get("/api/otter/logs?service=\(service)&minSeverity=notice")
        #expect(Self.records(byService.json).map(Self.body) == ["outside any span", "payment declined"])
        let byWords = try await viewer.get("/api/otter/logs?query=PAYMENT+visa")
        #expect(Self.records(byWords.json).map(Self.body) == ["payment declined"])
        let byTags = try await viewer.get("/api/otter/logs?tags=http.route%3D%2F")
        #expect(Self.records(byTags.json).map(Self.body) == ["request received"])
        #expect(try await viewer.get("/api/otter/log-services").json["data"] as? [String] == [service])
        await viewer.stop()
    }

    @Test func gzippedProtobufAndPartialSuccessOverHTTP() async throws {
        let viewer = try await RunningViewer()
        var request = OTLPLogs([
            OtterLogRecord(timeNanosecondsSinceEpoch: 1_800_000_000_000_000_000, severity: .warn, body: "disk almost full")
        ]).request
        var invalid = request.resourceLogs[0].scopeLogs[0].logRecords[0]
        invalid.traceID = Data([0xAB])
        request.resourceLogs[0].scopeLogs[0].logRecords.append(invalid)
        let bytes: [UInt8] = try request.serializedBytes()
        var buffer = ByteBuffer(bytes: bytes)
        let gzipped = try buffer.compress(with: .gzip())
        let answer = try await viewer.post(
            Array(gzipped.readableBytesView), contentType: "application/x-protobuf", contentEncoding: "gzip", path: "/v1/logs")
        #expect(answer.status == 200)
        #expect(answer.body.contains("invalid trace id (1 bytes, not 16"), "partial_success names the refused record")

        let json = """
            {"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1800000000000000001","body":{"stringValue":"from json"},
            "traceId":"zz"}, {"timeUnixNano":"1800000000000000002","body":{"stringValue":"kept"}}]}]}]}
            """
        let jsonAnswer = try await viewer.post(Array(json.utf8), contentType: "application/json", path: "/v1/logs")
        #expect(jsonAnswer.status == 200)
        #expect(jsonAnswer.body.contains(#""rejectedLogRecords":"1""#), "\(jsonAnswer.body)")
        #expect(jsonAnswer.body.contains("32 hex digits"), "\(jsonAnswer.body)")
        #expect(try await viewer.store.logs(LogQuery()).records.map(\.body.text) == ["kept", "disk almost full"])
        await viewer.stop()
    }

    @Test func hostileBodiesAreRefusedWithAStatusAndAMessage() async throws {
        let viewer = try await RunningViewer()
        func post(_ body: [UInt8], _ contentType: String) async throws -> (status: Int, body: String) {
            try await viewer.post(body, contentType: contentType, path: "/v1/logs")
        }
        let malformed = try await post([0x0A, 0xFF, 0xFF, 0xFF], "application/x-protobuf")
        #expect(malformed.status == 400)
        let notJSON = try await post(Array("[1,2]".utf8), "application/json")
        #expect(notJSON.status == 400)
        #expect(notJSON.body.contains("not a JSON object"))
        let wrongType = try await post(Array("x".utf8), "text/plain")
        #expect(wrongType.status == 415)
        // A body nested 40 deep (the limit is 32): refused before swift-protobuf builds it.
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        value.stringValue = "leaf"
        for _ in 0..<40 {
            var array = Opentelemetry_Proto_Common_V1_ArrayValue()
            array.values = [value]
            value = Opentelemetry_Proto_Common_V1_AnyValue()
            value.arrayValue = array
        }
        var record = OTLPLogRecord()
        record.body = value
        var request = OTLPExportLogsServiceRequest()
        request.resourceLogs = [.init()]
        request.resourceLogs[0].scopeLogs = [.init()]
        request.resourceLogs[0].scopeLogs[0].logRecords = [record]
        let deep = try await post(try request.serializedBytes(), "application/x-protobuf")
        #expect(deep.status == 413)
        // 300,000 empty records in 600 KB: over the message limit.
        var many = ByteBuffer()
        var scope: [UInt8] = []
        for _ in 0..<600_000 { scope += [0x12, 0x00] }
        var resource: [UInt8] = [0x12]
        resource += Self.varint(scope.count) + scope
        many.writeBytes([0x0A] + Self.varint(resource.count) + resource)
        let flood = try await post(Array(many.readableBytesView), "application/x-protobuf")
        #expect(flood.status == 413)
        #expect(try await viewer.store.logs(LogQuery()).recordCount == 0)
        await viewer.stop()
    }

    static func varint(_ value: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = UInt64(value)
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        return bytes + [UInt8(rest)]
    }

    @Test(arguments: [
        ("traceID=xyz", "traceID"), ("traceID=00000000000000000000000000000000", "traceID"), ("spanID=abc", "spanID"),
        ("minSeverity=loud", "minSeverity"), ("minSeverity=25", "minSeverity"), ("limit=0", "limit"), ("limit=abc", "limit"),
        ("limit=10001", "limit"), ("tags=%22unterminated", "tags"), ("lookback=forever", "lookback"), ("start=x", "start"),
        ("start=20&end=10", "start"), ("query=" + (0..<33).map { "w\($0)" }.joined(separator: "+"), "query"),
        ("tags=" + (0..<33).map { "k\($0)=v" }.joined(separator: "%20"), "tags"), ("spanID=00f067aa0ba902b7", "spanID"),
        ("storedAfter=-1", "storedAfter"),
    ])
    func badParametersGet400NamingTheParameter(query: String, parameter: String) async throws {
        let viewer = try await RunningViewer()
        let (status, json) = try await viewer.get("/api/otter/logs?\(query)")
        #expect(status == 400)
        let message = ((json["errors"] as? [[String: Any]])?.first?["msg"] as? String) ?? ""
        #expect(message.contains("'\(parameter)'"), "\(message)")
        await viewer.stop()
    }
}

/// The logs fuzz target's entry point on its seeds and on seeded mutations of them (`scripts/fuzz.sh otlp-logs` runs it
/// under libFuzzer): it returns for every input.
@Suite("Logs fuzz entry point")
struct LogsFuzzEntryPointTests {
    @Test func seedsAndMutationsReturn() throws {
        let seeds = [
            try OTLPLogs([
                OtterLogRecord(
                    timeNanosecondsSinceEpoch: 1, severity: .error, body: "payment declined", attributes: ["k": ["a": [1, 2.5, true]]],
                    spanContext: OtterSpanContext(traceID: TraceID(bytes: Array(1...16))!, spanID: SpanID(bytes: Array(1...8))!),
                    resource: Resource(attributes: ["service.name": "checkout"]))
            ]).protobuf(),
            Array(OTLPLogs([OtterLogRecord(timeNanosecondsSinceEpoch: 2, severity: .info, body: "order placed")]).json()),
        ]
        var generator = SplitMix64(seed: 42)
        for seed in seeds {
            seed.withUnsafeBytes { FuzzEntryPoints.otlpLogs($0) }
            for _ in 0..<500 {
                var mutated = seed
                for _ in 0..<Int(generator.next() % 4 + 1) {
                    let index = Int(generator.next() % UInt64(mutated.count))
                    mutated[index] = UInt8(truncatingIfNeeded: generator.next())
                }
                mutated.withUnsafeBytes { FuzzEntryPoints.otlpLogs($0) }
            }
        }
    }
}

/// A small deterministic generator: the mutations are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
