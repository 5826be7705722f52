import OtterTesting
import Testing
import Tracing
import XCTest

// The complete example of the article "Test your tracing" (Sources/OtterTesting/OtterTesting.docc), as written there.

struct PaymentDeclined: Error {}

func checkout(cart: [String], cardLimitCents: Int = 10_000) async throws -> Int {
    try withSpan("checkout", ofKind: .server) { span in
        span.attributes["cart.items"] = cart.count
        let total = withSpan("price cart") { _ in cart.count * 1_299 }
        try withSpan("charge card", ofKind: .client) { charge in
            charge.attributes["payment.amount_cents"] = total
            guard total <= cardLimitCents else {
                charge.addEvent("payment.declined")
                throw PaymentDeclined()
            }
            charge.addEvent("payment.authorized")
        }
        return total
    }
}

@Suite(.traced(serviceName: "checkout"))
struct CheckoutTracingTests {
    @Test func chargesTheCardInsideCheckout() async throws {
        _ = try await checkout(cart: ["carrot-1kg", "hay-bale"])
        let trace = try await TestTracer.current.trace()

        #expect(trace.span("charge card")?.parent?.name == "checkout")
        #expect(trace.span("charge card")?.kind == .client)
        #expect(trace.span("charge card")?.attribute("payment.amount_cents") == 2_598)
        #expect(trace.span("charge card")?.eventNames == ["payment.authorized"])
        #expect(trace.errors.isEmpty)
        trace.expectMatchesGolden("checkout")
    }

    @Test func aDeclinedPaymentIsAnError() async throws {
        await #expect(throws: PaymentDeclined.self) {
            try await checkout(cart: Array(repeating: "hay-bale", count: 10))
        }
        let trace = try await TestTracer.current.trace()
        // withSpan marks each span the error leaves as an error, with an `exception` event.
        #expect(trace.errors.map(\.name) == ["checkout", "charge card"])
        #expect(trace.span("charge card")?.eventNames == ["payment.declined", "exception"])
    }
}

final class CheckoutXCTests: XCTestCase {
    func testCheckout() async throws {
        try await withTestTracer { tracer in
            _ = try await checkout(cart: ["carrot-1kg"])
            let trace = await tracer.trace()
            XCTAssertEqual(trace.span("charge card")?.parent?.name, "checkout")
        }
    }
}
