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
            withSpan("checkout", ofKind: .server) { _ in
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
        // A golden name that leaves its folder is refused (self-contained: deliberate).
        let escaping = "../escape"  // self-contained: deliberate
        #expect(throws: GoldenTraceError.self) { try GoldenTraceFile.compare(trace, named: escaping, in: URL(fileURLWithPath: "/tmp")) }
        #expect(throws: (any Error).self) {
            try GoldenTraceFile.text(of: trace, options: GoldenTraceOptions(replacements: [.matches(of: "(", with: "")]))
        }
    }

    /// Golden files are for shapes a person reviews: a huge or very deep trace is refused with a reason, quickly.
    @Test func hugeAndDeepTracesAreRefused() throws {
        let ids = RandomIDGenerator()
        let traceID = ids.newTraceID()
        func chain(_ count: Int, nested: Bool) -> RecordedTrace {
            var spans: [FinishedSpan] = []
            var parent: OtterSpanContext?
            for index in 0..<count {
                let context = OtterSpanContext(traceID: traceID, spanID: ids.newSpanID(), traceFlags: .sampled)
                spans.append(
                    FinishedSpan(
                        operationName: "span \(index)", kind: .internal, spanContext: context, parentSpanContext: parent,
                        startTimeNanosecondsSinceEpoch: 1_000 + UInt64(index), endTimeNanosecondsSinceEpoch: 100_000))
                if nested || parent == nil { parent = context }
            }
            return RecordedTrace(spans)
        }
        #expect(throws: GoldenTraceError.tooLarge(spans: 10_001)) { try GoldenTraceFile.text(of: chain(10_001, nested: false)) }
        #expect(throws: GoldenTraceError.tooDeep(depth: 101)) { try GoldenTraceFile.text(of: chain(102, nested: true)) }
        #expect(
            try GoldenTraceFile.text(of: chain(101, nested: true)).hasSuffix(String(repeating: "  ", count: 100) + "span 100 [internal]\n"))
        #expect(try GoldenTraceFile.text(of: chain(10_000, nested: false)).split(separator: "\n").count == 10_000)
    }

    /// Ids from outside the recording (a remote parent, a link) become placeholders too, so the file is stable.
    @Test func idsFromOutsideTheRecordingAreStable() throws {
        func trace() -> RecordedTrace {
            let ids = RandomIDGenerator()
            let remote = OtterSpanContext(traceID: ids.newTraceID(), spanID: ids.newSpanID(), traceFlags: .sampled, isRemote: true)
            let linked = OtterSpanContext(traceID: ids.newTraceID(), spanID: ids.newSpanID(), traceFlags: .sampled)
            let span = FinishedSpan(
                operationName: "handle", kind: .server,
                spanContext: OtterSpanContext(traceID: remote.traceID, spanID: ids.newSpanID(), traceFlags: .sampled),
                parentSpanContext: remote, startTimeNanosecondsSinceEpoch: 1_000, endTimeNanosecondsSinceEpoch: 2_000,
                attributes: ["traceparent": .string("00-\(remote.traceID.hexString)-\(remote.spanID.hexString)-01")],
                links: [FinishedSpan.Link(spanContext: linked)])
            return RecordedTrace([span])
        }
        let one = try GoldenTraceFile.text(of: trace())
        #expect(one == (try GoldenTraceFile.text(of: trace())))
        #expect(one.contains("traceparent = \"00-<trace id of handle>-<span id outside the recording>-01\""))
        #expect(one.contains("-> link to <span id outside the recording>"))
    }

    /// Line endings changed by an editor or git, or a missing last newline, are not a difference.
    @Test func lineEndingsAreNotADifference() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = try await Self.record(Shape())
        _ = try GoldenTraceFile.compare(trace, named: "checkout", in: directory)
        let file = directory.appendingPathComponent("checkout.trace")
        let text = try String(contentsOf: file, encoding: .utf8)
        try Data(String(text.dropLast()).replacingOccurrences(of: "\n", with: "\r\n").utf8).write(to: file)
        #expect(try GoldenTraceFile.compare(try await Self.record(Shape()), named: "checkout", in: directory) == .matched)
    }

    /// Names print on one line and stay distinct: a line break and a backslash-n are not the same name.
    @Test func namesWithControlCharactersStayOnOneLine() throws {
        func span(_ name: String) -> FinishedSpan {
            let ids = RandomIDGenerator()
            return FinishedSpan(
                operationName: name, kind: .internal,
                spanContext: OtterSpanContext(traceID: ids.newTraceID(), spanID: ids.newSpanID(), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: 1_000, endTimeNanosecondsSinceEpoch: 2_000)
        }
        let text = try GoldenTraceFile.text(of: RecordedTrace([span("a\nb"), span("a\\nb"), span("red\u{1B}[31m")]))
        #expect(text.contains("a\\nb [internal]\n"))
        #expect(text.contains("a\\\\nb [internal]\n"))
        #expect(text.contains("red\\u{1B}[31m [internal]\n"))
        #expect(!text.contains("\u{1B}"))
    }

    /// Values JSON leaves raw but editors and terminals act on (line separators, DEL, C1, bidi controls) are escaped.
    @Test func invisibleCharactersInValuesAreEscaped() throws {
        let ids = RandomIDGenerator()
        let span = FinishedSpan(
            operationName: "values", kind: .internal,
            spanContext: OtterSpanContext(traceID: ids.newTraceID(), spanID: ids.newSpanID(), traceFlags: .sampled),
            startTimeNanosecondsSinceEpoch: 1_000, endTimeNanosecondsSinceEpoch: 2_000,
            attributes: ["separator": "a\u{2028}b", "controls": "x\u{7F}\u{85}\u{202E}y"],
            status: SpanStatus(code: .error, message: "bad\u{2029}thing"))
        let text = try GoldenTraceFile.text(of: RecordedTrace([span]))
        #expect(text.split(whereSeparator: \.isNewline).count == 4)
        #expect(text.contains("separator = \"a\\u{2028}b\""))
        #expect(text.contains("controls = \"x\\u{7F}\\u{85}\\u{202E}y\""))
        #expect(text.contains("status: error \"bad\\u{2029}thing\""))
    }

    /// Two comparisons sharing one golden file would overwrite each other's recording: the second is refused.
    @Test(.traced) func aGoldenFileServesOneComparison() async throws {
        withSpan("shared") { _ in }
        let trace = try await TestTracer.current.trace()
        #expect(trace.expectMatchesGolden("one-comparison") == .matched)
        withKnownIssue {
            #expect(trace.expectMatchesGolden("one-comparison") == nil)
        } matching: { issue in
            "\(issue)".contains("already compared at OtterTestingTests/GoldenTraceTests.swift:")
        }
    }

    /// The recorder keeps a bounded number of spans; the trace says how many it dropped.
    @Test func droppedSpansAreReported() async {
        let recorder = SpanRecorder(maximumSpans: 2)
        let tracer = OtterTracer(processor: recorder)
        withTracer(tracer) {
            for index in 0..<5 { withSpan("span \(index)") { _ in } }
        }
        let trace = RecordedTrace(recorder.finishedSpans, droppedCount: recorder.droppedCount)
        #expect(trace.count == 2)
        #expect(trace.droppedCount == 3)
        #expect(trace.tree.hasSuffix("3 more spans ended after the recorder's bound and were dropped\n"))
    }
}
