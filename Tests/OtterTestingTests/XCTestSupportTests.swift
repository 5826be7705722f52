import OtterTesting
import Tracing
import XCTest

/// The XCTest side: `withTestTracer` and `XCTAssertMatchesGolden`.
final class XCTestSupportTests: XCTestCase {
    func testWithTestTracerRecordsThisTestsSpans() async throws {
        try await withTestTracer(serviceName: "inventory") { tracer in
            try await withSpan("reserve stock") { span in
                span.attributes["sku"] = "carrot-1kg"
                try await withSpan("UPDATE stock", ofKind: .client) { _ in try await Task.sleep(for: .milliseconds(1)) }
            }
            let trace = await tracer.trace()
            XCTAssertEqual(trace.map(\.name), ["reserve stock", "UPDATE stock"])
            XCTAssertEqual(trace.span("UPDATE stock")?.parent?.name, "reserve stock")
            XCTAssertEqual(trace.span("reserve stock")?.serviceName, "inventory")
            XCTAssertIdentical(try TestTracer.current, tracer)
            XCTAssertMatchesGolden(trace, "xctest-reserve-stock")
        }
        XCTAssertThrowsError(try TestTracer.current)
    }

    func testEachTestCaseHasItsOwnTracer() async throws {
        await withTestTracer { tracer in
            withSpan("only this one") { _ in }
            let trace = await tracer.trace()
            XCTAssertEqual(trace.map(\.name), ["only this one"])
        }
    }
}
