import Foundation
import Logging
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
    /// The test's tracer: its spans carry the test's resource and end up in ``recorder`` (and, with `OTTER_TEST_VIEWER`
    /// set, in the viewer).
    public let tracer: OtterTracer
    /// Keeps the test's ended spans; ``trace(waitingUpTo:)`` reads it.
    public let recorder: SpanRecorder
    /// The test's log records (see ``makeLogger(label:)`` and ``bootstrapLogging(otherwise:)``).
    public let logRecorder: LogRecordRecorder
    /// Emits log records with the tracer's resource into ``logRecorder``, each with the span active where it was written.
    public let logEmitter: OtterLogEmitter
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
        let resource = Resource(attributes: ["service.name": .string(serviceName), "test.name": .string(testName)])
        tracer = OtterTracer(resource: resource, processor: processor)
        logRecorder = LogRecordRecorder()
        logEmitter = OtterLogEmitter(resource: resource, processor: logRecorder)
    }

    /// A swift-log `Logger` whose records this test records, inside the span active where each is written: pass it to
    /// the code under test (a Hummingbird `Application(logger:)`, a service's initializer).
    public func makeLogger(label: String) -> Logger {
        var logger = Logger(label: label) { logEmitter.makeLogHandler(label: $0, metadataProvider: nil) }
        logger.logLevel = .trace
        return logger
    }

    /// Makes swift-log's global handler record into the test tracer of the task that logs (``current``), so code that
    /// makes its own `Logger(label:)` is recorded too; outside a traced test, records go to `otherwise` (standard error
    /// by default). Call it once per test process, before any other `LoggingSystem.bootstrap` (swift-log allows one);
    /// later calls do nothing.
    public static func bootstrapLogging(otherwise: @escaping @Sendable (String) -> any LogHandler = StreamLogHandler.standardError) {
        loggingBootstrap.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in TaskLocalLogHandler(label: label, otherwise: otherwise(label)) }
        }
    }

    private static let loggingBootstrap = Mutex(false)

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
        RecordedTrace(
            recorder.finishedSpans, logs: logRecorder.records, openSpanNames: recorder.openSpanNames, droppedCount: recorder.droppedCount)
    }

    /// The last report and the number of ended spans and records it shows: failures in a loop over a big trace reuse it.
    private let lastReport = Mutex<(endedSpans: Int, report: String)?>(nil)

    /// What a failure report adds: the trace as a tree (its first 200 lines), and where the viewer shows it.
    public var failureReport: String {
        let ended = recorder.endedCount + logRecorder.records.count
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

    /// Says that no test tracer is set for this task, and how to set one.
    public var description: String {
        "no test tracer in this task: add the .traced trait (@Test(.traced)) or wrap the test in withTestTracer"
    }
}
