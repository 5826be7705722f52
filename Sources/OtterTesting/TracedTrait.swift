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

    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> TracedTrait? {
        // One tracer per test case (a test function is one case, or one per argument): not around the suite, nor
        // around the function as a whole.
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let testTracer = TestTracer(testName: Self.name(of: test), serviceName: serviceName)
        let annotatingIssues: IssueHandlingTrait = .compactMapIssues { issue in
            var annotated = issue
            annotated.comments.append(Comment(rawValue: testTracer.failureReport))
            return annotated
        }
        try await testTracer.withTracing {
            try await annotatingIssues.provideScope(for: test, testCase: testCase, performing: function)
        }
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
