import Foundation
import Logging
import Otter
import OtterOTLP
import Synchronization
import Tracing

/// With `OTTER_TEST_VIEWER=http://127.0.0.1:4318` (an OTLP/HTTP endpoint, e.g. `otter viewer`'s), a test's spans
/// also go there (their resource carries `test.name`, which the viewer's search finds as a tag), so a failing test's
/// trace can be opened in the viewer. `OTTER_TEST_VIEWER_UI` is the viewer's UI (default: the same host on port
/// 16686). A value that is not an http(s) URL, or a viewer that does not take the spans, is reported once on standard
/// error and exporting stops for the rest of the run, so tests never wait on an absent viewer more than once.
struct TestViewerExport: Sendable {
    let processor: BatchSpanProcessor
    let userInterface: String
    private let runner: Task<Void, Never>

    /// Why test spans are not reaching the viewer at `endpoint`; nil while they are (or none were sent yet).
    static func problem(with endpoint: String) -> String? { problems.withLock { $0[endpoint] } }

    /// Per OTTER_TEST_VIEWER value: why its exports stopped.
    private static let problems = Mutex<[String: String]>([:])

    /// The OTTER_TEST_VIEWER value this export was made for.
    let setting: String

    init?(environment: [String: String]) {
        guard let raw = environment["OTTER_TEST_VIEWER"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            return nil
        }
        guard let base = URL(string: raw), let scheme = base.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = base.host, !host.isEmpty
        else {
            Self.giveUp(raw, "OTTER_TEST_VIEWER=\(raw) is not an http:// or https:// URL (e.g. http://127.0.0.1:4318)")
            return nil
        }
        guard Self.problem(with: raw) == nil else { return nil }
        setting = raw
        let endpoint = base.path.hasSuffix("/v1/traces") ? base : base.appendingPathComponent("v1/traces")
        var quiet = Logger(label: "otter.test-viewer")
        quiet.logLevel = .critical
        let exporter = OTLPHTTPExporter(
            configuration: OTLPExporterConfiguration(endpoint: endpoint, timeout: .seconds(3)), logger: quiet)
        processor = BatchSpanProcessor(
            exporter: FailureReportingExporter(exporter: exporter, setting: raw, endpoint: endpoint), logger: quiet)
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

    /// Sends what is queued (waiting at most 5 s), then stops.
    func finish() async {
        await processor.shutdown(timeout: .seconds(5))
        runner.cancel()
    }

    /// Records why exporting to `setting` stopped and says so once.
    static func giveUp(_ setting: String, _ problem: String) {
        let firstTime = problems.withLock { problems in
            guard problems[setting] == nil else { return false }
            problems[setting] = problem
            return true
        }
        if firstTime {
            FileHandle.standardError.write(Data("OtterTesting: \(problem); test spans are not sent to a viewer in this run\n".utf8))
        }
    }
}

/// Hands batches on, and stops the run's viewer export at the first batch the viewer does not take.
private struct FailureReportingExporter: SpanExporter {
    let exporter: OTLPHTTPExporter
    let setting: String
    let endpoint: URL

    func export(_ batch: [FinishedSpan]) async throws {
        guard TestViewerExport.problem(with: setting) == nil else { return }
        do {
            try await exporter.export(batch)
        } catch {
            TestViewerExport.giveUp(setting, "the viewer at \(endpoint.absoluteString) did not take the spans (\(error))")
            throw error
        }
    }

    func shutdown() async {
        await exporter.shutdown()
    }
}
