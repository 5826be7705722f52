import Foundation
import Otter
import OtterTestSupport
import SwiftProtobuf
import Testing
import Tracing

@testable import OtterOTLP

/// Golden tests against opentelemetry-python (PyPI: opentelemetry-proto, opentelemetry-exporter-otlp-proto-common),
/// a third-party encoder and decoder of the same OTLP messages.
@Suite(
    "OTLP encodings against opentelemetry-python", .serialized,
    .enabled(if: OptionalPeers.shouldRunPythonTests, "needs opentelemetry-python (bash scripts/setup-python-peers.sh)"))
struct PythonGoldenTests {
    /// Runs the peer script; nil (and a recorded issue in CI) when Python is missing.
    func runPeer(_ arguments: [String]) throws -> Data? {
        guard let python = PythonPeers.interpreter else {
            if PythonPeers.areRequired {
                Issue.record("OTTER_REQUIRE_PYTHON_PEERS=1 but no Python with opentelemetry-python was found")
            }
            OptionalPeers.noteSkipped()
            return nil
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [PythonPeers.packageRoot.appendingPathComponent("Tests/OtterOTLPTests/Python/otlp_peer.py").path] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return data
    }

    func temporaryFile(_ data: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("otlp-\(UUID()).bin")
        try data.write(to: url)
        return url
    }

    @Test func otterDecodesWhatPythonEncodes() throws {
        guard let output = try runPeer(["encode"]) else { return }
        let golden = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let hex = try #require(golden["protobuf_hex"] as? String)
        let expected = try #require(golden["spans"] as? [[String: Any]])
        let bytes = try #require(Hex.bytes(fromHex: hex))
        let spans = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: bytes))
        #expect(spans.count == expected.count)
        for (span, fields) in zip(spans, expected) {
            #expect(span.spanContext.traceID.hexString == fields["trace_id"] as? String)
            #expect(span.spanContext.spanID.hexString == fields["span_id"] as? String)
            #expect((span.parentSpanContext?.spanID.hexString ?? "") == fields["parent_span_id"] as? String)
            #expect(span.operationName == fields["name"] as? String)
            #expect(OTLPMapping.span(for: span).kind.rawValue == fields["kind"] as? Int)
            #expect(span.startTimeNanosecondsSinceEpoch == (fields["start"] as? NSNumber)?.uint64Value)
            #expect(span.endTimeNanosecondsSinceEpoch == (fields["end"] as? NSNumber)?.uint64Value)
            #expect(span.instrumentationScope.name == "golden-scope")
            #expect(span.instrumentationScope.version == "1.2.3")
            #expect(span.resource.serviceName == "python-golden")
            #expect(span.status.map { $0.code == .error ? 2 : 1 } ?? 0 == fields["status_code"] as? Int)
        }
        let root = try #require(spans.first { $0.operationName == "root" })
        #expect(root.kind == .server)
        #expect(root.attributes.get("http.request.method") == .string("GET"))
        #expect(root.attributes.get("http.response.status_code") == .int64(200))
        #expect(root.attributes.get("ratio") == .double(0.25))
        #expect(root.attributes.get("cached") == .bool(true))
        #expect(root.attributes.get("tags") == .stringArray(["a", "b"]))
        #expect(root.attributes.get("sizes") == .int64Array([1, 2, 3]))
        #expect(root.events.first?.name == "order.validated")
        #expect(root.events.first?.attributes.get("order.item_count") == .int64(3))
        let child = try #require(spans.first { $0.operationName == "child" })
        #expect(child.kind == .client)
        #expect(child.parentSpanContext?.spanID == root.spanContext.spanID)
        #expect(child.status == SpanStatus(code: .error, message: "downstream failed"))
        #expect(child.links.first?.spanContext.spanID == root.spanContext.spanID)
        #expect(child.links.first?.attributes.get("link.kind") == .string("retry"))
    }

    func expectPythonSees(_ described: [[String: Any]]) {
        #expect(described.count == 2)
        guard described.count == 2 else { return }
        let server = described[0]
        #expect(server["trace_id"] as? String == "5b8efff798038103d269b633813fc60c")
        #expect(server["span_id"] as? String == "eee19b7ec3c1b174")
        #expect(server["parent_span_id"] as? String == "eee19b7ec3c1b173")
        #expect(server["trace_state"] as? String == "vendor=abc,other=1")
        #expect(server["flags"] as? Int == 0x301)
        #expect(server["name"] as? String == "GET /orders/{id}")
        #expect(server["kind"] as? Int == 2)
        #expect((server["start"] as? NSNumber)?.uint64Value == 1_700_000_000_123_456_789)
        #expect(server["dropped_attributes_count"] as? Int == 2)
        #expect(server["dropped_events_count"] as? Int == 3)
        #expect(server["dropped_links_count"] as? Int == 4)
        #expect(server["status_code"] as? Int == 1)
        #expect(server["scope_name"] as? String == "hummingbird")
        #expect(server["scope_version"] as? String == "2.28.1")
        let attributes = server["attributes"] as? [String: Any] ?? [:]
        #expect(attributes["http.request.method"] as? String == "GET")
        #expect((attributes["big"] as? NSNumber)?.int64Value == 9_007_199_254_740_993)
        #expect(attributes["ratio"] as? Double == 0.25)
        #expect(attributes["cached"] as? Bool == true)
        #expect(attributes["tags"] as? [String] == ["a", "b"])
        #expect(attributes["sizes"] as? [Int] == [1, 2, 3])
        #expect(attributes["flags"] as? [Bool] == [true, false])
        let events = server["events"] as? [[String: Any]] ?? []
        #expect(events.first?["name"] as? String == "order.validated")
        let links = server["links"] as? [[String: Any]] ?? []
        #expect(links.first?["span_id"] as? String == "b7ad6b7169203331")
        #expect(links.first?["dropped_attributes_count"] as? Int == 1)
        #expect((server["resource"] as? [String: Any])?["service.name"] as? String == "otlp-tests")
        let client = described[1]
        #expect(client["status_code"] as? Int == 2)
        #expect(client["status_message"] as? String == "disk full")
        #expect(client["flags"] as? Int == 0x101)
        #expect((client["attributes"] as? [String: Any])?["quote"] as? String == "say \"hi\"\n")
    }

    @Test func pythonDecodesOtterProtobufWithEveryField() throws {
        let file = try temporaryFile(Data(OTLPProtobufEncoder.encode(OTLPFixtures.spans)))
        defer { try? FileManager.default.removeItem(at: file) }
        guard let output = try runPeer(["decode-protobuf", file.path]) else { return }
        expectPythonSees(try #require(try JSONSerialization.jsonObject(with: output) as? [[String: Any]]))
    }

    @Test func pythonDecodesOtterJSONWithEveryField() throws {
        let file = try temporaryFile(OTLPJSON.encode(OTLPMapping.request(for: OTLPFixtures.spans)))
        defer { try? FileManager.default.removeItem(at: file) }
        guard let output = try runPeer(["decode-json", file.path]) else { return }
        expectPythonSees(try #require(try JSONSerialization.jsonObject(with: output) as? [[String: Any]]))
    }

    /// The generated OTLP logs messages read what opentelemetry-python's logging handler sends: records written
    /// inside a span carry that span's trace and span ids, severity, body and attributes.
    @Test func otterReadsPythonsOTLPLogs() throws {
        guard let output = try runPeer(["encode-logs"]) else { return }
        let golden = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let hex = try #require(golden["protobuf_hex"] as? String)
        let bytes = try #require(Hex.bytes(fromHex: hex))
        let expected = try #require(golden["records"] as? [[String: Any]])
        let request = try OTLPExportLogsServiceRequest(serializedBytes: bytes)
        let records = request.resourceLogs.flatMap { $0.scopeLogs.flatMap(\.logRecords) }
        #expect(records.count == 2)
        #expect(records.count == expected.count)
        for (record, fields) in zip(records, expected) {
            #expect(record.body.stringValue == fields["body"] as? String)
            #expect(record.severityNumber.rawValue == fields["severity_number"] as? Int)
            #expect(record.severityText == fields["severity_text"] as? String)
            #expect(Hex.string(record.traceID) == golden["trace_id"] as? String)
            #expect(Hex.string(record.spanID) == golden["span_id"] as? String)
            #expect(record.timeUnixNano == (fields["time"] as? NSNumber)?.uint64Value)
        }
        #expect(records.map(\.severityNumber) == [.info, .error])
        #expect(records.first?.attributes.first { $0.key == "order.id" }?.value.intValue == 42)
        #expect(request.resourceLogs.first?.scopeLogs.first?.scope.name == "golden.logs")
    }

    /// Other backends read Otter's OTLP logs: the official proto package decodes both encodings to the same fields.
    @Test(arguments: ["protobuf", "json"])
    func pythonDecodesOtterLogs(encoding: String) throws {
        let spanContext = OtterSpanContext(
            traceID: TraceID(hexString: "4bf92f3577b34da6a3ce929d0e0e4736")!, spanID: SpanID(hexString: "00f067aa0ba902b7")!,
            traceFlags: .sampled)
        let logs = OTLPLogs([
            OtterLogRecord(
                timeNanosecondsSinceEpoch: 1_767_225_600_123_456_789, severity: .error, severityText: "error", body: "payment declined",
                attributes: ["amount": 12.5, "tries": 3, "card": ["brand": "visa"], "lines": ["book", "pen"], "paid": false],
                spanContext: spanContext, resource: Resource(attributes: ["service.name": "payments"]),
                instrumentationScope: InstrumentationScope(name: "payments", version: "1.0")),
            OtterLogRecord(timeNanosecondsSinceEpoch: 1_767_225_600_200_000_000, severity: .info, body: "no span"),
        ])
        let file = try temporaryFile(encoding == "json" ? logs.json() : Data(try logs.protobuf()))
        defer { try? FileManager.default.removeItem(at: file) }
        guard let output = try runPeer(["decode-logs", file.path, encoding]) else { return }
        let records = try #require(try JSONSerialization.jsonObject(with: output) as? [[String: Any]])
        #expect(records.count == 2)
        let first = try #require(records.first)
        #expect(first["body"] as? String == "payment declined")
        #expect(first["severity_number"] as? Int == 17)
        #expect(first["severity_text"] as? String == "error")
        #expect(first["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(first["span_id"] as? String == "00f067aa0ba902b7")
        #expect(first["flags"] as? Int == 1)
        #expect((first["time"] as? NSNumber)?.uint64Value == 1_767_225_600_123_456_789)
        let attributes = try #require(first["attributes"] as? [String: Any])
        #expect(attributes["amount"] as? Double == 12.5)
        #expect(attributes["tries"] as? Int == 3)
        #expect(attributes["paid"] as? Bool == false)
        #expect(attributes["lines"] as? [String] == ["book", "pen"])
        #expect((attributes["card"] as? [String: Any])?["brand"] as? String == "visa", "the map value survives as a kvlist")
        #expect(first["scope_name"] as? String == "payments")
        #expect((first["resource"] as? [String: Any])?["service.name"] as? String == "payments")
        #expect(records.last?["trace_id"] as? String == "", "a record outside any span has no ids")
    }
}
