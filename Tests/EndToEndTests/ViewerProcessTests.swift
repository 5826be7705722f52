import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterExamples
import OtterOTLP
import Testing
import Tracing

/// `otter viewer` as a real process.
@Suite("otter viewer process", .serialized)
struct ViewerProcessTests {
    /// Starts `otter viewer` on free ports with the given store; returns it with its OTLP/HTTP and UI base URLs.
    func startViewer(db: String) async throws -> (ChildProcess, String, String) {
        let viewer = try ProcessHarness.otter(
            "viewer", ["viewer", "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", "0", "--db", db])
        let ingest = await ChildProcess.withDeadline(.seconds(60)) { await viewer.firstLine { $0.contains("OTLP/HTTP on ") } } ?? nil
        let ui = await ChildProcess.withDeadline(.seconds(60)) { await viewer.firstLine { $0.contains("UI on ") } } ?? nil
        guard let ingestURL = ingest?.components(separatedBy: "OTLP/HTTP on ").last,
              let uiURL = ui?.components(separatedBy: "UI on ").last
        else {
            viewer.kill()
            await viewer.waitForExit()
            throw HarnessError("viewer did not start: \(viewer.lines)")
        }
        return (viewer, ingestURL, uiURL)
    }

    @Test func everyAcknowledgedSpanSurvivesKillDashNine() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-kill-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) } }
        let (viewer, ingestURL, _) = try await startViewer(db: db)
        let exporter = OTLPHTTPExporter(configuration: .init(endpoint: URL(string: ingestURL)!))
        let generator = RandomIDGenerator()
        var acknowledged: [TraceID] = []
        // Recent spans: the viewer prunes spans older than its retention (72 h) when it starts.
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        for batch in 0..<20 {
            let traceID = generator.newTraceID()
            let spans = (0..<50).map { index in
                FinishedSpan(
                    operationName: "span-\(batch)-\(index)", kind: .internal,
                    spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                    startTimeNanosecondsSinceEpoch: now - 1_000_000, endTimeNanosecondsSinceEpoch: now,
                    resource: Resource(attributes: ["service.name": "kill-test"]))
            }
            try await exporter.export(spans)  // returns only after the viewer answered 200
            acknowledged.append(traceID)
        }
        viewer.kill()
        await viewer.waitForExit()

        let (restarted, _, uiURL) = try await startViewer(db: db)
        for traceID in acknowledged {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "\(uiURL)api/traces/\(traceID.hexString)"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 16 << 20)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            let spans = ((json?["data"] as? [[String: Any]])?.first?["spans"] as? [Any]) ?? []
            #expect(response.status.code == 200)
            #expect(spans.count == 50, "trace \(traceID) lost spans after kill -9")
        }
        restarted.terminate()
        #expect(await restarted.waitForExit() == 0, "SIGTERM stops the viewer cleanly")
    }
}
