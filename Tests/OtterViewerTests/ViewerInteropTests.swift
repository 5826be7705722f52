import Foundation
import Otter
import OtterOTLP
import OtterTestSupport
import OtterViewer
import Testing
import Tracing

/// Spans sent by opentelemetry-python's OTLP exporters (HTTP and gRPC, PyPI) and by Otter's gRPC exporter come
/// back from the viewer's Jaeger API with exact parents, tags, logs and processes.
@Suite("otter viewer with real OTLP clients", .serialized)
struct ViewerInteropTests {
    /// Runs a Python peer script and returns the ids it prints. The process is waited for on a thread of its own, not
    /// on the cooperative pool (two threads on this machine), which other suites' work shares.
    func sendWithPython(_ protocolName: String, endpoint: String, script: String = "send_spans.py") async throws -> [String: String]? {
        guard let python = PythonPeers.interpreter else {
            if PythonPeers.areRequired { Issue.record("OTTER_REQUIRE_PYTHON_PEERS=1 but no Python peers") }
            OptionalPeers.noteSkipped()
            return nil
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [
            PythonPeers.packageRoot.appendingPathComponent("Tests/OtterViewerTests/Python/\(script)").path, protocolName, endpoint,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }
        }
        #expect(process.terminationStatus == 0)
        return try JSONSerialization.jsonObject(with: data) as? [String: String]
    }

    @Test(
        .enabled(if: OptionalPeers.shouldRunPythonTests, "needs opentelemetry-python (bash scripts/setup-python-peers.sh)"),
        arguments: ["http", "grpc"])
    func pythonExporterSpansComeBackExactly(protocolName: String) async throws {
        let viewer = try await RunningViewer()
        let endpoint = protocolName == "grpc" ? "http://127.0.0.1:\(viewer.grpcPort)" : "http://127.0.0.1:\(viewer.otlpPort)/v1/traces"
        guard let ids = try await sendWithPython(protocolName, endpoint: endpoint) else {
            await viewer.stop()
            return
        }
        let traceID = try #require(ids["trace_id"])
        let (status, body) = try await viewer.get("/api/traces/\(traceID)")
        #expect(status == 200, "\(body)")
        let trace = try #require((body["data"] as? [[String: Any]])?.first)
        let spans = try #require(trace["spans"] as? [[String: Any]])
        let root = try #require(spans.first { $0["spanID"] as? String == ids["root_span_id"] })
        let child = try #require(spans.first { $0["spanID"] as? String == ids["child_span_id"] })
        #expect((root["references"] as? [Any])?.isEmpty == true)
        #expect((child["references"] as? [[String: Any]])?.first?["spanID"] as? String == ids["root_span_id"])
        #expect((child["references"] as? [[String: Any]])?.first?["refType"] as? String == "CHILD_OF")
        let rootTags = Dictionary(
            ((root["tags"] as? [[String: Any]]) ?? []).map { ($0["key"] as? String ?? "", $0["value"]) }, uniquingKeysWith: { a, _ in a })
        #expect(rootTags["http.request.method"] as? String == "GET")
        #expect(rootTags["http.response.status_code"] as? Int == 200)
        #expect(rootTags["span.kind"] as? String == "server")
        let childTags = Dictionary(
            ((child["tags"] as? [[String: Any]]) ?? []).map { ($0["key"] as? String ?? "", $0["value"]) }, uniquingKeysWith: { a, _ in a })
        #expect(childTags["error"] as? Bool == true)
        #expect(childTags["otel.status_description"] as? String == "cache down")
        let fields = ((child["logs"] as? [[String: Any]])?.first?["fields"] as? [[String: Any]]) ?? []
        #expect(fields.first?["value"] as? String == "cache.miss")
        #expect(fields.contains { $0["key"] as? String == "cache.key" && $0["value"] as? String == "user:1" })
        let processes = try #require(trace["processes"] as? [String: [String: Any]])
        #expect(processes[root["processID"] as? String ?? ""]?["serviceName"] as? String == "python-\(protocolName)")
        #expect(
            (processes.values.first?["tags"] as? [[String: Any]])?.contains { $0["key"] as? String == "telemetry.sdk.language" } == true)
        await viewer.stop()
    }

    /// opentelemetry-python's `LoggingHandler` with its OTLP log exporters: the records written inside spans are found
    /// by trace id with their span ids, severities and attributes.
    @Test(
        .enabled(if: OptionalPeers.shouldRunPythonTests, "needs opentelemetry-python (bash scripts/setup-python-peers.sh)"),
        arguments: ["http", "grpc"])
    func pythonLoggingHandlerRecordsAreFoundByTrace(protocolName: String) async throws {
        let viewer = try await RunningViewer()
        let endpoint = protocolName == "grpc" ? "http://127.0.0.1:\(viewer.grpcPort)" : "http://127.0.0.1:\(viewer.otlpPort)/v1/logs"
        guard let ids = try await sendWithPython(protocolName, endpoint: endpoint, script: "send_logs.py") else {
            await viewer.stop()
            return
        }
        let traceID = try #require(ids["trace_id"])
        let (status, json) = try await viewer.get("/api/otter/logs?traceID=\(traceID)")
        #expect(status == 200)
        let records = ((json["resourceLogs"] as? [[String: Any]]) ?? []).flatMap { resource in
            ((resource["scopeLogs"] as? [[String: Any]]) ?? []).flatMap { ($0["logRecords"] as? [[String: Any]]) ?? [] }
        }
        let bodies = records.map { ($0["body"] as? [String: Any])?["stringValue"] as? String }
        #expect(bodies == ["child failed", "child step slow", "root step"])
        #expect(records.map { $0["spanId"] as? String } == [ids["child_span_id"], ids["child_span_id"], ids["root_span_id"]])
        #expect(records.map { $0["severityNumber"] as? Int } == [17, 13, 9])
        let rootAttributes = (records.last?["attributes"] as? [[String: Any]]) ?? []
        #expect(
            rootAttributes.contains {
                $0["key"] as? String == "order.id" && ($0["value"] as? [String: Any])?["stringValue"] as? String == "42"
            })
        let service = try await viewer.get("/api/otter/logs?service=python-logs-\(protocolName)")
        #expect((service.json["resourceLogs"] as? [Any])?.isEmpty == false, "the record outside any span is found by service")
        await viewer.stop()
    }

    @Test func otterGRPCExporterReachesTheViewer() async throws {
        let viewer = try await RunningViewer()
        let exporter = try OTLPGRPCExporter(
            // What is tested is that the spans arrive, not how fast: a loaded machine may take seconds for the first call.
            configuration: .init(
                endpoint: URL(string: "http://127.0.0.1:\(viewer.grpcPort)")!, transportProtocol: .grpc, timeout: .seconds(60)))
        try await exporter.export(ViewerFixtures.spans)
        #expect(try await viewer.store.trace(ViewerFixtures.traceID).count == 3)

        // A span with an all-zero span id: the other span is stored, the invalid one reported as rejected (OTLP
        // partial success), and the export succeeds so the exporter does not retry.
        var invalid = ViewerFixtures.spans
        invalid[0].spanContext.traceID = TraceID(high: 9, low: 9)
        invalid[1].spanContext.traceID = TraceID(high: 9, low: 9)
        invalid[1].spanContext.spanID = SpanID(0)
        try await exporter.export(Array(invalid.prefix(2)))
        #expect(try await viewer.store.trace(TraceID(high: 9, low: 9)).count == 1, "the valid span is kept")
        await exporter.shutdown()
        await viewer.stop()
    }
}
