import Foundation
import Otter
import Synchronization
import Tracing

/// One test's own tracer: an Otter tracer that records in memory (and, with `OTTER_TEST_VIEWER` set, also sends its
/// spans to a viewer). `@Test(.traced)` and `XCTestCase.withTestTracer(serviceName:_:)` make one per test and make
/// it the task's tracer with swift-distributed-tracing's `withTracer`, so tests running in parallel each see only
/// their own spans, whatever `InstrumentationSystem` holds.
///
/// ```swift
/// let trace = try await TestTracer.current.trace()
/// #expect(trace.span("parent")?.parent?.name == "GET /")
/// ```
public final class TestTracer: Sendable {
    /// The test's name, as the viewer export tags it (`test.name`).
    public let testName: String
    public let tracer: OtterTracer
    public let recorder: SpanRecorder
    let viewerExport: TestViewerExport?

    @TaskLocal static var taskLocal: TestTracer?

    /// The tracer of the test running in this task.
    /// - Throws: ``TestTracerError/noTestTracer`` outside `@Test(.traced)` or `withTestTracer`.
    public static var current: TestTracer {
        get throws {
            guard let tracer = taskLocal else { throw TestTracerError.noTestTracer }
            return tracer
        }
    }

    /// A tracer for the test `testName`. Spans get a resource with `service.name` = `serviceName` and `test.name` =
    /// `testName` (search the viewer for the tag `test.name`). `environment` is read for `OTTER_TEST_VIEWER` and `OTTER_TEST_VIEWER_UI`.
    public init(
        testName: String, serviceName: String = "test",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.testName = testName
        let recorder = SpanRecorder()
        self.recorder = recorder
        viewerExport = TestViewerExport(environment: environment)
        let processor: any SpanProcessor = viewerExport.map { MultiSpanProcessor([recorder, $0.processor]) } ?? recorder
        tracer = OtterTracer(
            resource: Resource(attributes: ["service.name": .string(serviceName), "test.name": .string(testName)]),
            processor: processor)
    }

    /// Runs `body` with this tracer as the task's tracer (and ``current``), then sends what the viewer export has
    /// queued.
    public func withTracing<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        do {
            let result = try await Self.$taskLocal.withValue(self) {
                try await withTracer(tracer) { try await body() }
            }
            await viewerExport?.finish()
            return result
        } catch {
            await viewerExport?.finish()
            throw error
        }
    }

    /// The recorded trace once every started span has ended (or `timeout` passed; spans still open are listed in
    /// ``RecordedTrace/openSpanNames``). A server's span can end just after its client has the response; this waits
    /// for it without sleeping.
    public func trace(waitingUpTo timeout: Duration = .seconds(5)) async -> RecordedTrace {
        await recorder.waitUntilAllSpansEnd(timeout: timeout)
        return recordedTrace
    }

    /// The spans ended so far, without waiting.
    public var recordedTrace: RecordedTrace {
        RecordedTrace(recorder.finishedSpans, openSpanNames: recorder.openSpanNames, droppedCount: recorder.droppedCount)
    }

    /// The last report and the number of ended spans it shows: failures in a loop over a big trace reuse it.
    private let lastReport = Mutex<(endedSpans: Int, report: String)?>(nil)

    /// What a failure report adds: the trace as a tree (its first 200 lines), and where the viewer shows it.
    public var failureReport: String {
        let ended = recorder.endedCount
        if let cached = lastReport.withLock({ $0 }), cached.endedSpans == ended { return cached.report }
        let report = makeFailureReport()
        lastReport.withLock { $0 = (ended, report) }
        return report
    }

    private func makeFailureReport() -> String {
        let trace = recordedTrace
        var text = Self.reportHeading + "\n" + trace.tree(maximumLines: 200)
        if text.hasSuffix("\n") { text.removeLast() }
        if let viewerExport {
            if let problem = TestViewerExport.problem(with: viewerExport.setting) {
                text += "\nNot in the viewer: \(problem)"
            } else {
                for id in trace.traceIDs { text += "\nIn the viewer (sent when the test ends): \(viewerExport.traceURL(id))" }
            }
        }
        return text
    }

    /// The first line of ``failureReport``.
    static let reportHeading = "Recorded trace:"
}

/// Why ``TestTracer/current`` has no tracer to give.
public enum TestTracerError: Error, CustomStringConvertible {
    case noTestTracer

    public var description: String {
        "no test tracer in this task: add the .traced trait (@Test(.traced)) or wrap the test in withTestTracer"
    }
}
