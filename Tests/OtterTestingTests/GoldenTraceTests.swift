import Foundation
import Otter
import OtterTesting
import Testing
import Tracing

@Suite("golden traces")
struct GoldenTraceTests {
    /// The trace the tests change one thing in at a time.
    struct Shape {
        var chargeParent = "checkout"
        var withEmail = true
        var amountKey = "payment.amount_cents"
    }

    static func record(_ shape: Shape) async throws -> RecordedTrace {
        let tracer = TestTracer(testName: "golden")
        return try await tracer.withTracing {
            await withSpan("checkout", ofKind: .server) { _ in
                withSpan("load cart") { cart in
                    cart.attributes["cart.items"] = 3
                    if shape.chargeParent == "load cart" { Self.charge(shape) }
                }
                if shape.chargeParent == "checkout" { Self.charge(shape) }
                if shape.withEmail {
                    withSpan("send email", ofKind: .producer) { span in
                        span.addEvent(SpanEvent(name: "email.queued", attributes: ["email.to": "customer@example.com"]))
                    }
                }
            }
            return try await TestTracer.current.trace()
        }
    }

    static func charge(_ shape: Shape) {
        withSpan("charge card", ofKind: .client) { span in
            span.attributes[shape.amountKey] = 2796
            let seen: String = "trace " + (span.context.otterSpanContext?.traceID.hexString ?? "")
            span.attributes["trace.seen"] = seen
        }
    }

    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-golden-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func aRecordedGoldenFileMatchesTheNextRun() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try GoldenTraceFile.compare(try await Self.record(Shape()), named: "checkout", in: directory)
        #expect(first == .recorded(path: directory.appendingPathComponent("checkout.trace").path, wasMissing: true))
        // Another run: new ids, new times, same trace.
        #expect(try GoldenTraceFile.compare(try await Self.record(Shape()), named: "checkout", in: directory) == .matched)
        let text = try String(contentsOf: directory.appendingPathComponent("checkout.trace"), encoding: .utf8)
        #expect(text.contains("charge card [client]\n"))
        #expect(text.contains("trace.seen = \"trace <trace id of checkout>\""))
        #expect(text.firstMatch(of: /[0-9](ms|µs|ns|s)\b/) == nil)
    }

    @Test func aChangedParentIsADifference() async throws {
        let diff = try await difference(from: Shape(), to: Shape(chargeParent: "load cart"))
        #expect(diff.contains("-  charge card [client]"))
        #expect(diff.contains("+    charge card [client]"))
    }

    @Test func aMissingSpanIsADifference() async throws {
        let diff = try await difference(from: Shape(), to: Shape(withEmail: false))
        #expect(diff.contains("-  send email [producer]"))
        #expect(diff.contains("-    * email.queued"))
        #expect(!diff.contains("\n+ "))
    }

    @Test func aRenamedAttributeIsADifference() async throws {
        let diff = try await difference(from: Shape(), to: Shape(amountKey: "payment.amount"))
        #expect(diff.contains("-    payment.amount_cents = 2796"))
        #expect(diff.contains("+    payment.amount = 2796"))
    }

    func difference(from golden: Shape, to changed: Shape) async throws -> String {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try GoldenTraceFile.compare(try await Self.record(golden), named: "checkout", in: directory)
        let comparison = try GoldenTraceFile.compare(try await Self.record(changed), named: "checkout", in: directory)
        guard case .different(let path, let diff) = comparison else {
            Issue.record("expected a difference, got \(comparison)")
            return ""
        }
        #expect(path.hasSuffix("checkout.trace"))
        #expect(diff.hasPrefix("--- golden\n+++ recorded\n"))
        return diff
    }

    @Test func recordModeRewritesTheFile() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try GoldenTraceFile.compare(try await Self.record(Shape()), named: "checkout", in: directory)
        let rewritten = try GoldenTraceFile.compare(
            try await Self.record(Shape(withEmail: false)), named: "checkout", in: directory, record: true)
        #expect(rewritten == .recorded(path: directory.appendingPathComponent("checkout.trace").path, wasMissing: false))
        #expect(try GoldenTraceFile.compare(try await Self.record(Shape(withEmail: false)), named: "checkout", in: directory) == .matched)
    }

    /// Concurrent siblings end in any order and start in any order: the golden form sorts them by their own text.
    @Test func siblingsComeOutInOneOrder() throws {
        let ids = RandomIDGenerator()
        func trace(reversed: Bool) -> RecordedTrace {
            let traceID = ids.newTraceID()
            let root = OtterSpanContext(traceID: traceID, spanID: ids.newSpanID(), traceFlags: .sampled)
            var names = ["fetch b", "fetch a", "fetch c"]
            if reversed { names.reverse() }
            let children = names.enumerated().map { offset, name in
                FinishedSpan(
                    operationName: name, kind: .client,
                    spanContext: OtterSpanContext(traceID: traceID, spanID: ids.newSpanID(), traceFlags: .sampled),
                    parentSpanContext: root, startTimeNanosecondsSinceEpoch: 1_000 + UInt64(offset),
                    endTimeNanosecondsSinceEpoch: 5_000)
            }
            let parent = FinishedSpan(
                operationName: "fan out", kind: .internal, spanContext: root, startTimeNanosecondsSinceEpoch: 1_000,
                endTimeNanosecondsSinceEpoch: 9_000)
            return RecordedTrace(children + [parent])
        }
        let one = try GoldenTraceFile.text(of: trace(reversed: false))
        let other = try GoldenTraceFile.text(of: trace(reversed: true))
        #expect(one == other)
        #expect(one == "fan out [internal]\n  fetch a [client]\n  fetch b [client]\n  fetch c [client]\n")
    }

    @Test(.traced) func optionsRedactReplaceAndBucket() async throws {
        withSpan("GET /orders/order-1a2b3c4d", ofKind: .server) { span in
            span.attributes["server.port"] = 54321
            span.attributes["db.namespace"] = "/tmp/x/orders.sqlite"
            span.attributes["url.full"] = "http://127.0.0.1:54321/orders/order-1a2b3c4d"
        }
        let trace = try await TestTracer.current.trace()
        let options = GoldenTraceOptions(
            durations: .bucketed, redactedAttributes: ["server.port"], ignoredAttributes: ["db.namespace"],
            replacements: [.text("127.0.0.1:54321", with: "<server>"), .matches(of: "order-[0-9a-f]{8}", with: "<order>")])
        let text = try GoldenTraceFile.text(of: trace, options: options)
        #expect(text.hasPrefix("GET /orders/<order> [server] ("))
        #expect(text.contains("  server.port = <redacted>\n"))
        #expect(!text.contains("db.namespace"))
        #expect(text.contains("  url.full = \"http://<server>/orders/<order>\"\n"))
        #expect(throws: GoldenTraceError.self) { try GoldenTraceFile.compare(trace, named: "../escape", in: URL(fileURLWithPath: "/tmp")) }
        #expect(throws: (any Error).self) {
            try GoldenTraceFile.text(of: trace, options: GoldenTraceOptions(replacements: [.matches(of: "(", with: "")]))
        }
    }
}
