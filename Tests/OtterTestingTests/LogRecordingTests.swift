import Logging
import Otter
import OtterTesting
import Synchronization
import Testing
import Tracing

/// The test tracer records the test's logs beside its spans, as a user's test reads them: through a `Logger` handed to
/// the code under test, or through swift-log's global system after `TestTracer.bootstrapLogging()`.
@Suite("OtterTesting: logs")
struct LogRecordingTests {
    /// The code under test: it logs through the logger it is given, inside its spans.
    struct Checkout {
        let logger: Logger

        func placeOrder(id: String, cardValid: Bool) {
            withSpan("place order") { span in
                span.attributes["order.id"] = id
                logger.info("order received", metadata: ["order.id": .string(id)])
                withSpan("charge card", ofKind: .client) { charge in
                    if cardValid {
                        logger.debug("card charged")
                    } else {
                        logger.error("payment declined", metadata: ["reason": "expired"])
                        charge.setStatus(.init(code: .error, message: "declined"))
                    }
                }
            }
            logger.notice("checkout finished")
        }
    }

    @Test(.traced(serviceName: "checkout"))
    func spansCarryTheLogsWrittenInsideThem() async throws {
        let testTracer = try TestTracer.current
        Checkout(logger: testTracer.makeLogger(label: "checkout")).placeOrder(id: "A-1", cardValid: false)
        let trace = await testTracer.trace()

        #expect(trace.span("place order")?.logs.messages == ["order received"])
        let charge = try #require(trace.span("charge card"))
        #expect(charge.logs.messages == ["payment declined"])
        #expect(charge.logs.first?.attributes["reason"] == "expired")
        #expect(charge.logs.first?.spanContext?.spanID == charge.spanID)
        #expect(trace.logs.messages == ["order received", "payment declined", "checkout finished"])
        #expect(trace.logs.atLeast(.error).messages == ["payment declined"])
        #expect(trace.logs.containing("finished").first?.spanContext == nil, "written outside any span")
        #expect(trace.logs.first?.resource.serviceName == "checkout")
        #expect(trace.tree.contains("    charge card [CLIENT]"))
        #expect(trace.tree.contains("\n      - ERROR payment declined +"), "\(trace.tree)")
        #expect(trace.tree.contains("reason=expired"))
        #expect(trace.tree.contains("logs outside the recorded spans:\n  - INFO2 checkout finished"))
    }

    /// A failing traced test's report shows the logs under their spans.
    @Test func aFailureReportShowsTheLogsUnderTheirSpans() async throws {
        let test = try #require(Test.current)
        let seen = Mutex<[String]>([])
        let capture: IssueHandlingTrait = .compactMapIssues { issue in
            seen.withLock { $0.append(issue.comments.map(\.rawValue).joined(separator: "\n")) }
            return nil
        }
        try await capture.provideScope(for: test, testCase: Test.Case.current) {
            try await TracedTrait.traced.provideScope(for: test, testCase: Test.Case.current) {
                Checkout(logger: try TestTracer.current.makeLogger(label: "checkout")).placeOrder(id: "A-2", cardValid: false)
                #expect(Bool(false), "the deliberate failure")
            }
        }
        let report = try #require(seen.withLock { $0.first })
        #expect(report.contains("\n    charge card [CLIENT]"), "\(report)")
        #expect(report.contains("\n      - ERROR payment declined"), "\(report)")
        #expect(report.contains("\n    - INFO order received"), "\(report)")
    }

    /// Code that makes its own `Logger(label:)`: after `bootstrapLogging()`, each traced test records its own
    /// records, even when tests run at once.
    @Test(.traced, arguments: 0..<4)
    func globalLoggersRecordIntoTheirOwnTest(index: Int) async throws {
        TestTracer.bootstrapLogging()
        var logger = Logger(label: "global")
        logger.logLevel = .debug
        withSpan("work \(index)") { _ in logger.debug("step of test \(index)") }
        let trace = try await TestTracer.current.trace()
        #expect(trace.logs.messages == ["step of test \(index)"])
        #expect(trace.span("work \(index)")?.logs.count == 1)
    }

    /// Golden traces include each span's records by severity and message.
    @Test(.traced)
    func goldenTextListsTheLogs() async throws {
        Checkout(logger: try TestTracer.current.makeLogger(label: "checkout")).placeOrder(id: "A-3", cardValid: true)
        let text = try GoldenTraceFile.text(of: try await TestTracer.current.trace())
        #expect(text.contains("  log INFO \"order received\""), "\(text)")
        #expect(text.contains("  log DEBUG \"card charged\""), "\(text)")
    }
}
