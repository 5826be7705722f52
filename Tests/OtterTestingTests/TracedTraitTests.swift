import Otter
import OtterTesting
import Synchronization
import Testing
import Tracing

/// The trait gives every test (every case of a parameterized test) a tracer of its own.
@Suite("the .traced trait")
struct TracedTraitTests {
    /// 100 cases run in parallel; each makes spans named after itself, some in child tasks, and must see exactly
    /// its own.
    @Test(.traced, arguments: 0..<100)
    func parallelTestsSeeOnlyTheirOwnSpans(index: Int) async throws {
        try await withSpan("test-\(index)") { span in
            span.attributes["test.index"] = index
            try await withThrowingTaskGroup(of: Void.self) { group in
                for child in 0..<3 {
                    group.addTask {
                        await withSpan("test-\(index)-child-\(child)") { _ in await Task.yield() }
                    }
                }
                try await group.waitForAll()
            }
        }
        let trace = try await TestTracer.current.trace()
        #expect(trace.count == 4)
        #expect(trace.traceIDs.count == 1)
        #expect(trace.allSatisfy { $0.name.hasPrefix("test-\(index)") && !$0.name.hasPrefix("test-\(index)0") })
        let root = try #require(trace.span("test-\(index)"))
        #expect(root.attribute("test.index") == .int64(Int64(index)))
        #expect(root.children.map(\.name).sorted() == (0..<3).map { "test-\(index)-child-\($0)" })
        #expect(root.children.allSatisfy { $0.parent == root })
    }

    @Test func withoutTheTraitThereIsNoTestTracer() {
        #expect(throws: TestTracerError.self) { try TestTracer.current }
    }

    @Test(.traced(serviceName: "checkout"))
    func theServiceNameGoesOnTheResource() async throws {
        withSpan("place order") { _ in }
        let trace = try await TestTracer.current.trace()
        #expect(trace.span("place order")?.serviceName == "checkout")
        #expect(trace.span("place order")?.finishedSpan.resource.attributes.get("test.name") != nil)
    }

    /// A failed expectation inside a traced scope carries the recorded trace as a tree.
    @Test func failuresCarryTheTraceAsATree() async throws {
        let issues = try await issues {
            withSpan("checkout") { span in
                span.attributes["cart.items"] = 3
                withSpan("charge card", ofKind: .client) { span in span.setStatus(.init(code: .error, message: "declined")) }
            }
            #expect(Bool(false), "the deliberate failure")
        }
        #expect(issues.count == 1)
        let report = try #require(issues.first)
        #expect(report.contains("the deliberate failure"))
        #expect(report.contains("Recorded trace:\ntrace "))
        #expect(report.contains("\n  checkout [INTERNAL]"))
        #expect(report.contains("\n    charge card [CLIENT]"))
        #expect(report.contains("ERROR: declined"))
    }

    /// Issues recorded inside `.traced` (through an outer handler that keeps their comments and drops them).
    func issues(in body: @escaping @Sendable () async throws -> Void) async throws -> [String] {
        let test = try #require(Test.current)
        let seen = Mutex<[String]>([])
        let capture: IssueHandlingTrait = .compactMapIssues { issue in
            seen.withLock { $0.append("\(issue.kind)\n" + issue.comments.map(\.rawValue).joined(separator: "\n")) }
            return nil
        }
        try await capture.provideScope(for: test, testCase: Test.Case.current) {
            try await TracedTrait.traced.provideScope(for: test, testCase: Test.Case.current, performing: body)
        }
        return seen.withLock { $0 }
    }

    struct Declined: Error {}

    /// A test that throws fails once, and its failure carries the trace (Swift Testing would record the error only
    /// after the trait's scope has ended).
    @Test func aThrownErrorCarriesTheTrace() async throws {
        let issues = try await issues {
            try withSpan("checkout") { _ in throw Declined() }
        }
        #expect(issues.count == 1)
        #expect(issues.first?.contains("Declined") == true)
        #expect(issues.first?.contains("\n  checkout [INTERNAL]") == true)
    }

    /// A `CancellationError` thrown while the task is not cancelled is the test's own failure, with the trace.
    @Test func aThrownCancellationErrorIsAFailureWithTheTrace() async throws {
        let issues = try await issues {
            withSpan("poll") { _ in }
            throw CancellationError()
        }
        #expect(issues.count == 1)
        #expect(issues.first?.contains("poll [INTERNAL]") == true)
    }

    /// A failed `#require` is one issue, not two: its error is Swift Testing's own and passes through.
    @Test func aFailedRequireIsOneIssue() async throws {
        let issues = try await issues {
            withSpan("lookup") { _ in }
            _ = try #require(nil as Int?)
        }
        #expect(issues.count == 1)
        #expect(issues.first?.contains("lookup [INTERNAL]") == true)
    }

    /// `.traced` on a suite and on its test: one report, the test's.
    @Test func nestedTracedScopesReportOnce() async throws {
        let test = try #require(Test.current)
        let issues = try await issues {
            try await TracedTrait.traced(serviceName: "inner").provideScope(for: test, testCase: Test.Case.current) {
                withSpan("inner work") { _ in }
                #expect(Bool(false), "the deliberate failure")
            }
        }
        let report = try #require(issues.first)
        #expect(report.components(separatedBy: "Recorded trace:").count == 2)
        #expect(report.contains("(inner)"))
        #expect(report.contains("inner work [INTERNAL]"))
    }

    /// A failure report shows at most 200 lines of a huge trace, quickly.
    @Test func aHugeTraceIsReportedInPart() async throws {
        let tracer = TestTracer(testName: "huge")
        await tracer.withTracing {
            withSpan("root") { _ in
                for index in 0..<20_000 { withSpan("child \(index)") { _ in } }
            }
        }
        let report = tracer.failureReport
        #expect(report.split(separator: "\n").count == 202)
        #expect(report.hasSuffix("… 19802 more lines"))
        #expect(tracer.recordedTrace.testDescription == "RecordedTrace(20001 spans: root, child 0, child 1, …)")
    }

    /// `trace()` waits for spans still open (a server span ends after its client has the answer) instead of
    /// reading too early.
    @Test(.traced) func traceWaitsForOpenSpansToEnd() async throws {
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let worker = Task {
            await withSpan("slow work") { _ in
                startedContinuation.yield()
                for await _ in release { break }
            }
        }
        for await _ in started { break }
        let tracer = try TestTracer.current
        #expect(tracer.recordedTrace.openSpanNames == ["slow work"])
        #expect(tracer.recordedTrace.isEmpty)
        let reading = Task { await tracer.trace(waitingUpTo: .seconds(60)) }
        releaseContinuation.yield()
        let trace = await reading.value
        await worker.value
        #expect(trace.map(\.name) == ["slow work"])
        #expect(trace.openSpanNames.isEmpty)
    }

    @Test(.traced) func aSpanThatNeverEndsIsReportedAfterTheTimeout() async throws {
        let tracer = try TestTracer.current
        let span = tracer.tracer.startSpan("never ends")
        let trace = await tracer.trace(waitingUpTo: .milliseconds(1))
        #expect(trace.isEmpty)
        #expect(trace.openSpanNames == ["never ends"])
        #expect(trace.tree.contains("still open: never ends"))
        span.end()
    }
}
