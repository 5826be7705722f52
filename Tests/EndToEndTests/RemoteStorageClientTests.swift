import Foundation
import OtterExamples
import OtterTestSupport
import Testing

/// `otter viewer --remote-storage-port` driven by another language's client: Python stubs that grpcio-tools generates
/// from the protos Otter vendors (jaeger-idl's storage v2), as a Jaeger v2 query service would call it.
@Suite("Jaeger remote storage with a grpcio client", .serialized)
struct RemoteStorageClientTests {
    @Test func aHundredThousandSpanTraceAndEveryCallAsTheProtosSay() async throws {
        guard PythonPeers.interpreter != nil else {
            if PythonPeers.areRequired { Issue.record("OTTER_REQUIRE_PYTHON_PEERS=1 but no Python peers") }
            OptionalPeers.noteSkipped()
            return
        }
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-remote-storage-\(UUID().uuidString).sqlite").path
        let (viewer, _, _) = try await ProcessHarness.startViewer(db: db, ["--remote-storage-port", "0"])
        defer { viewer.kill() }
        let line = await ChildProcess.withDeadline(.seconds(60)) {
            await viewer.firstLine { $0.contains("Jaeger remote storage (gRPC) on ") }
        }
        let address = try #require((line ?? nil)?.components(separatedBy: " on ").last, "\(viewer.lines)")

        let protos = PythonPeers.packageRoot.appendingPathComponent("Protos").path
        let run = try await PythonPeers.run(
            script: "Tests/EndToEndTests/Python/remote_storage_client.py", arguments: [protos, address, "100000"])
        #expect(run.status == 0, "\(run.errors.suffix(3_000))")
        let report = try #require(try JSONSerialization.jsonObject(with: run.output) as? [String: Any], "\(run.errors.suffix(3_000))")

        let traces = try #require(report["get_traces"] as? [String: Any])
        #expect(traces["spans"] as? Int == 100_000)
        #expect(traces["distinct_span_ids"] as? Int == 100_000)
        #expect((traces["chunks"] as? Int ?? 0) > 10, "a 100,000-span trace comes in many chunks: \(traces)")
        #expect((traces["largest_chunk_bytes"] as? Int ?? .max) < 4 << 20, "within Jaeger's default 4 MiB")
        #expect(traces["trace_ids"] as? [String] == ["5eed5eed5eed5eed5eed5eed5eed5eed"])
        #expect(traces["empty_chunks"] as? Int == 0)

        #expect(report["services"] as? [String] == ["checkout", "payments"])
        #expect((report["server_operations"] as? [[String]]) == [["order", "server"]])
        #expect(report["found_trace_ids"] as? [String] == ["5eed5eed5eed5eed5eed5eed5eed5eed"])
        #expect(report["found_start"] as? [Int] == [try #require(report["start"] as? Int)])
        let summary = try #require((report["summaries"] as? [[String: Any]])?.first)
        #expect(summary["spans"] as? Int == 100_000)
        #expect(summary["root"] as? String == "order")
        #expect(summary["services"] as? [String] == ["checkout=50001", "payments=49999"])
        #expect(report["found_with_wrong_tag"] as? Int == 0)
        #expect((report["dependencies"] as? [String])?.first?.hasPrefix("checkout->payments:") == true)
        #expect(report["capabilities"] as? [String: Bool] == ["without_service_name": true, "same_span_conjunction": true])
        #expect(
            report["health"] as? [String: String] == [
                "": "SERVING", "jaeger.storage.v2.TraceReader": "SERVING", "jaeger.storage.v2.DependencyReader": "SERVING",
                "missing": "NOT_FOUND",
            ])

        let errors = try #require(report["errors"] as? [String: [String: String]])
        #expect(errors["short_trace_id"] == ["code": "INVALID_ARGUMENT", "message": "query[0].trace_id must be 16 bytes, not 2"])
        #expect(errors["negative_depth"]?["code"] == "INVALID_ARGUMENT")
        #expect(report["found_with_unset_depth"] as? Int == 1, "search_depth 0 is the default depth")
        #expect(errors["garbage_bytes"]?["code"] == "INVALID_ARGUMENT")
        #expect(errors["unknown_method"]?["code"] == "UNIMPLEMENTED")

        // A client that holds a stream of the big trace without reading it does not keep the viewer from stopping.
        let staller = try ProcessHarness.python(
            "stall", script: "remote_storage_client.py",
            arguments: [protos, address, "stall", "5eed" + String(repeating: "5eed", count: 7)])
        defer { staller.kill() }
        let stalled = await ChildProcess.withDeadline(.seconds(120)) { await staller.firstLine { $0 == "stalled" } }
        #expect((stalled ?? nil) != nil, "\(staller.lines)")
        viewer.terminate()
        let exited = await ChildProcess.withDeadline(.seconds(60)) { await viewer.waitForExit() }
        #expect(exited == 0, "the viewer stops within its grace though a stream is held unread")
    }
}
