import Foundation
import XCTest

extension XCTestCase {
    /// Runs `body` with a ``TestTracer`` of its own, the XCTest counterpart of `@Test(.traced)`: spans made in
    /// `body` (and in tasks it starts) go to this tracer only, so test cases running in parallel never see each
    /// other's spans. When the test case records a failure inside `body`, or `body` throws, the recorded trace is
    /// printed as a tree (with its viewer URL when `OTTER_TEST_VIEWER` is set).
    ///
    /// ```swift
    /// func testCheckout() async throws {
    ///     try await withTestTracer { tracer in
    ///         try await checkout()
    ///         let trace = await tracer.trace()
    ///         XCTAssertEqual(trace.span("charge card")?.parent?.name, "checkout")
    ///     }
    /// }
    /// ```
    public func withTestTracer<Result>(
        serviceName: String = "test", _ body: (TestTracer) async throws -> Result
    ) async rethrows -> Result {
        let testTracer = TestTracer(testName: name, serviceName: serviceName)
        let failuresBefore = testRun?.totalFailureCount ?? 0
        do {
            let result = try await testTracer.withTracing { try await body(testTracer) }
            if (testRun?.totalFailureCount ?? 0) > failuresBefore { Self.report(testTracer) }
            return result
        } catch {
            if !(error is XCTSkip) { Self.report(testTracer) }
            throw error
        }
    }

    private static func report(_ testTracer: TestTracer) {
        print("\(testTracer.testName): \(testTracer.failureReport)")
    }
}

/// The XCTest counterpart of ``RecordedTrace/expectMatchesGolden(_:options:record:sourceLocation:)``: compares
/// `trace` with `GoldenTraces/NAME.trace` next to the test file and fails with a diff of the trees when they differ.
@discardableResult
public func XCTAssertMatchesGolden(
    _ trace: RecordedTrace, _ name: String, options: GoldenTraceOptions = .init(), record: Bool? = nil,
    file: StaticString = #filePath, line: UInt = #line
) -> GoldenTraceComparison? {
    let directory = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("GoldenTraces")
    let path = directory.appendingPathComponent(name + ".trace").path
    if let owner = GoldenTraceFile.claim(path, by: "\(file):\(line)") {
        XCTFail(
            "The golden trace \(name) is already compared at \(owner) in this run; give each comparison a name of its own", file: file,
            line: line)
        return nil
    }
    do {
        let comparison = try GoldenTraceFile.compare(trace, named: name, in: directory, options: options, record: record)
        if let failure = GoldenTraceFile.failure(comparison) { XCTFail(failure, file: file, line: line) }
        return comparison
    } catch {
        XCTFail("\(error)", file: file, line: line)
        return nil
    }
}
