import Foundation
import Otter
import OtterOTLP
import Tracing

/// With `OTTER_TEST_VIEWER=http://127.0.0.1:4318` (an OTLP/HTTP endpoint, e.g. `otter viewer`'s), a test's spans
/// also go there (their resource carries `test.name`, which the viewer's search finds as a tag), so a failing test's trace can be opened in the viewer.
/// `OTTER_TEST_VIEWER_UI` is the viewer's UI (default: the same host on port 16686).
struct TestViewerExport: Sendable {
    let processor: BatchSpanProcessor
    let userInterface: String
    private let runner: Task<Void, Never>

    init?(environment: [String: String]) {
        guard let raw = environment["OTTER_TEST_VIEWER"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty,
            let base = URL(string: raw), let scheme = base.scheme, scheme == "http" || scheme == "https",
            let host = base.host
        else { return nil }
        let endpoint = base.path.hasSuffix("/v1/traces") ? base : base.appendingPathComponent("v1/traces")
        let exporter = OTLPHTTPExporter(configuration: OTLPExporterConfiguration(endpoint: endpoint, timeout: .seconds(5)))
        processor = BatchSpanProcessor(exporter: exporter)
        let processor = processor
        runner = Task { await processor.run() }
        if let ui = environment["OTTER_TEST_VIEWER_UI"], !ui.isEmpty {
            userInterface = ui.hasSuffix("/") ? String(ui.dropLast()) : ui
        } else {
            let hostText = host.contains(":") ? "[\(host)]" : host
            userInterface = "\(scheme)://\(hostText):16686"
        }
    }

    func traceURL(_ id: TraceID) -> String { "\(userInterface)/trace/\(id.hexString)" }

    /// Sends what is queued (waiting at most 5 s, so an absent viewer delays a test by no more), then stops.
    func finish() async {
        await processor.shutdown(timeout: .seconds(5))
        runner.cancel()
    }
}
