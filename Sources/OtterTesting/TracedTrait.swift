import Otter
import Testing
import Tracing

/// `@Test(.traced)`: the test runs with a ``TestTracer`` of its own (each case of a parameterized test too), so
/// tests in parallel never see each other's spans. Any issue the test records (a failed `#expect`, a thrown error)
/// carries the recorded trace as a tree, and with `OTTER_TEST_VIEWER` set, the trace's viewer URL.
///
/// On a suite, every test in it is traced.
public struct TracedTrait: TestTrait, SuiteTrait, TestScoping {
    /// The `service.name` of the test's spans.
    public var serviceName: String

    /// True: on a suite, the trait applies to every test in it and in its nested suites.
    public var isRecursive: Bool { true }

    /// Scopes each test case, so every case gets a tracer of its own; no scope around a suite or a whole function.
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> TracedTrait? {
        // One tracer per test case (a test function is one case, or one per argument): not around the suite, nor
        // around the function as a whole.
        testCase == nil ? nil : self
    }

    /// Runs the test case with a fresh ``TestTracer`` as the task's tracer and adds its trace (and viewer URL, when
    /// `OTTER_TEST_VIEWER` is set) to every issue the case records. An error the test throws is recorded as an issue
    /// inside the scope, so it carries the trace too.
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let testTracer = TestTracer(testName: Self.name(of: test), serviceName: serviceName)
        let annotatingIssues: IssueHandlingTrait = .compactMapIssues { issue in
            // With `.traced` on both a suite and its test, the inner tracer (the test's) has annotated it already.
            guard !issue.comments.contains(where: { $0.rawValue.hasPrefix(TestTracer.reportHeading) }) else { return issue }
            var annotated = issue
            annotated.comments.append(Comment(rawValue: testTracer.failureReport))
            return annotated
        }
        try await testTracer.withTracing {
            try await annotatingIssues.provideScope(for: test, testCase: testCase) {
                do {
                    try await function()
                } catch let error where Self.isTestFailure(error) {
                    // Recorded here, inside the scope, so the issue carries the trace; Swift Testing would record it
                    // only after the scope has ended.
                    _ = Issue.record(error, sourceLocation: test.sourceLocation)
                }
            }
        }
    }

    /// An error the test threw, as opposed to Swift Testing's own (a failed `#require`, already recorded; a skip or
    /// cancellation) or the task's cancellation, which pass through untouched.
    static func isTestFailure(_ error: any Error) -> Bool {
        !(error is CancellationError && Task.isCancelled) && !String(reflecting: type(of: error)).hasPrefix("Testing.")
    }

    /// `Suite/test()`, as a viewer search can find it.
    static func name(of test: Test) -> String {
        let suites = test.id.nameComponents.dropLast()
        return (suites + [test.name]).joined(separator: "/")
    }
}

extension Trait where Self == TracedTrait {
    /// Gives the test a tracer of its own; see ``TracedTrait``.
    public static var traced: TracedTrait { TracedTrait(serviceName: "test") }

    /// Gives the test a tracer of its own whose spans carry `service.name` = `serviceName`.
    public static func traced(serviceName: String) -> TracedTrait { TracedTrait(serviceName: serviceName) }
}
