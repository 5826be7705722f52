import Otter
import OtterTesting
import Testing
import Tracing

@Suite("reading a recorded trace")
struct RecordedTraceTests {
    /// checkout → (load cart, charge card [client, error] → (bank call [client]), send email [producer])
    static func recordCheckout() async throws -> RecordedTrace {
        withSpan("checkout", ofKind: .server) { checkout in
            checkout.attributes["http.request.method"] = "POST"
            withSpan("load cart") { cart in
                cart.attributes["cart.items"] = 3
                cart.addEvent("cart.loaded")
            }
            withSpan("charge card", ofKind: .client) { charge in
                charge.attributes["payment.amount_cents"] = 2796
                withSpan("bank call", ofKind: .client) { _ in }
                charge.setStatus(SpanStatus(code: .error, message: "card declined"))
                charge.addEvent(SpanEvent(name: "exception", attributes: ["exception.message": "card declined"]))
            }
            withSpan("send email", ofKind: .producer) { _ in }
        }
        return try await TestTracer.current.trace()
    }

    @Test(.traced) func spansByNameKindAndAttribute() async throws {
        let trace = try await Self.recordCheckout()
        #expect(trace.count == 5)
        #expect(trace.map(\.name) == ["checkout", "load cart", "charge card", "bank call", "send email"])
        #expect(trace.spans(ofKind: .client).map(\.name) == ["charge card", "bank call"])
        #expect(trace.spans(withAttribute: "cart.items").map(\.name) == ["load cart"])
        #expect(trace.spans(withAttribute: "payment.amount_cents", equalTo: 2796).count == 1)
        #expect(trace.spans(withAttribute: "payment.amount_cents", equalTo: 1).isEmpty)
        #expect(trace.span("nothing") == nil)
        #expect(trace.spans(named: "bank call").count == 1)
    }

    @Test(.traced) func parentsChildrenAndTheTree() async throws {
        let trace = try await Self.recordCheckout()
        #expect(trace.roots.map(\.name) == ["checkout"])
        #expect(trace.span("bank call")?.parent?.name == "charge card")
        #expect(trace.span("bank call")?.ancestors.map(\.name) == ["checkout", "charge card"])
        #expect(trace.span("checkout")?.children.map(\.name) == ["load cart", "charge card", "send email"])
        #expect(trace.span("checkout")?.descendants.count == 4)
        #expect(trace.span("checkout")?.descendant("bank call")?.kind == .client)
        #expect(trace.span("charge card")?.child("bank call") != nil)
        #expect(trace.span("checkout")?.parent == nil)
        let tree = trace.tree
        #expect(tree.contains("\n  checkout [SERVER]"))
        #expect(tree.contains("\n      bank call [CLIENT]"))
        #expect(tree.contains("ERROR: card declined"))
        #expect("\(trace)" == tree)
    }

    @Test(.traced) func eventsAndStatus() async throws {
        let trace = try await Self.recordCheckout()
        #expect(trace.errors.map(\.name) == ["charge card"])
        let charge = try #require(trace.span("charge card"))
        #expect(charge.isError)
        #expect(charge.status?.message == "card declined")
        #expect(charge.event("exception")?.attributes.get("exception.message") == "card declined")
        #expect(trace.span("load cart")?.eventNames == ["cart.loaded"])
        #expect(trace.span("load cart")?.status == nil)
    }

    @Test func anEmptyTraceSaysSo() {
        let trace = RecordedTrace([])
        #expect(trace.isEmpty)
        #expect(trace.tree == "no spans recorded\n")
        #expect(trace.roots.isEmpty)
    }
}
