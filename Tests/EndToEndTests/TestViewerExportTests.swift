import AsyncHTTPClient
import Foundation
import NIOCore
import OtterTesting
import Testing
import Tracing

/// `OTTER_TEST_VIEWER`: a test's spans also go to a running `otter viewer`, tagged with the test's name.
@Suite("OtterTesting's viewer export")
struct TestViewerExportTests {
    @Test func aTestsSpansReachTheViewerTaggedWithItsName() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-test-viewer-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) } }
        let (viewer, ingestURL, uiURL) = try await ProcessHarness.startViewer(db: db)
        defer { viewer.kill() }
        let testName = "CheckoutTests/chargesTheCard()"
        let tracer = TestTracer(
            testName: testName, serviceName: "viewer-export",
            environment: ["OTTER_TEST_VIEWER": ingestURL, "OTTER_TEST_VIEWER_UI": uiURL])
        await tracer.withTracing {
            withSpan("checkout") { _ in withSpan("charge card", ofKind: .client) { _ in } }
        }
        let traceID = try #require(tracer.recordedTrace.traceIDs.first)
        // withTracing has sent the spans before returning: the viewer has them now.
        let tags = #"{"test.name":"CheckoutTests/chargesTheCard()"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "\(uiURL)api/traces?service=viewer-export&tags=\(tags)"), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        let traces = json?["data"] as? [[String: Any]] ?? []
        #expect(traces.count == 1)
        #expect(traces.first?["traceID"] as? String == traceID.hexString)
        #expect((traces.first?["spans"] as? [Any])?.count == 2)
        let base = uiURL.hasSuffix("/") ? String(uiURL.dropLast()) : uiURL
        #expect(tracer.failureReport.contains("In the viewer (sent when the test ends): \(base)/trace/\(traceID.hexString)"))
    }

    /// A viewer that is not there costs the first test the export timeout at most, is reported, and is not tried
    /// again in the run.
    @Test func anAbsentViewerIsGivenUpOnOnce() async throws {
        let environment = ["OTTER_TEST_VIEWER": "http://127.0.0.1:9/"]  // the discard port: nothing listens
        let first = TestTracer(testName: "first", environment: environment)
        await first.withTracing { withSpan("work") { _ in } }
        #expect(first.failureReport.contains("Not in the viewer: the viewer at http://127.0.0.1:9/v1/traces did not take the spans"))
        let second = TestTracer(testName: "second", environment: environment)
        await second.withTracing { withSpan("work") { _ in } }
        #expect(second.failureReport.contains("work [INTERNAL]"))
        #expect(!second.failureReport.contains("viewer"))
    }

    @Test func aValueThatIsNoURLExportsNothing() async throws {
        for value in ["notaurl", "ftp://127.0.0.1:4318", "http://"] {
            let tracer = TestTracer(testName: "bad value", environment: ["OTTER_TEST_VIEWER": value])
            await tracer.withTracing { withSpan("work") { _ in } }
            #expect(!tracer.failureReport.contains("viewer"), "\(value)")
        }
    }
}
