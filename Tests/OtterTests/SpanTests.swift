import Testing
import Tracing

@testable import Otter

struct CheckoutError: Error, CustomStringConvertible {
    var description: String { "card declined" }
}

@Suite("Spans")
struct SpanTests {
    let exporter = InMemorySpanExporter()

    func makeTracer(limits: SpanLimits = SpanLimits()) -> OtterTracer {
        OtterTracer(
            resource: Resource(attributes: ["service.name": "span-tests"]),
            processor: SimpleSpanProcessor(exporter: exporter), limits: limits)
    }

    func finishedSpans(_ tracer: OtterTracer) async throws -> [FinishedSpan] {
        #expect(await tracer.forceFlush(timeout: .seconds(60)))
        return exporter.exportedSpans
    }

    @Test func carriesEveryAttributeKind() async throws {
        let tracer = makeTracer()
        let span = tracer.startSpan("attributes", context: .topLevel)
        span.attributes["string"] = "text"
        span.attributes["int"] = 42
        span.attributes["int32"] = SpanAttribute.int32(7)
        span.attributes["double"] = 1.5
        span.attributes["bool"] = true
        span.attributes["strings"] = SpanAttribute.stringArray(["a", "b"])
        span.attributes["ints"] = SpanAttribute.int64Array([1, 2])
        span.attributes["int32s"] = SpanAttribute.int32Array([3])
        span.attributes["doubles"] = SpanAttribute.doubleArray([0.5])
        span.attributes["bools"] = SpanAttribute.boolArray([true, false])
        span.end()
        let finished = try #require(try await finishedSpans(tracer).first)
        #expect(finished.attributes.count == 10)
        #expect(finished.attributes.get("string") == .string("text"))
        #expect(finished.attributes.get("int") == .int64(42))
        #expect(finished.attributes.get("strings") == .stringArray(["a", "b"]))
        #expect(finished.attributes.get("bools") == .boolArray([true, false]))
        #expect(finished.resource.serviceName == "span-tests")
    }

    @Test func endIsIdempotentAndFreezesTheSpan() async throws {
        let tracer = makeTracer()
        let span = tracer.startSpan("once", context: .topLevel)
        span.attributes["before"] = 1
        span.end()
        #expect(!span.isRecording)
        span.attributes["after"] = 2
        span.addEvent("late")
        span.setStatus(.init(code: .error))
        span.operationName = "renamed"
        span.end()
        let spans = try await finishedSpans(tracer)
        #expect(spans.count == 1, "a second end exports nothing")
        let finished = try #require(spans.first)
        #expect(finished.operationName == "once")
        #expect(finished.attributes.get("after") == nil)
        #expect(finished.events.isEmpty)
        #expect(finished.status == nil)
    }

    @Test func recordErrorAddsAnExceptionEvent() async throws {
        let tracer = makeTracer()
        do {
            try tracer.withSpan("checkout") { _ in throw CheckoutError() }
        } catch {}
        let finished = try #require(try await finishedSpans(tracer).first)
        #expect(finished.status?.code == .error)
        let event = try #require(finished.events.first)
        #expect(event.name == "exception")
        #expect(event.attributes.get("exception.type") == .string("OtterTests.CheckoutError"))
        #expect(event.attributes.get("exception.message") == .string("card declined"))
    }

    @Test func okStatusIsFinal() async throws {
        let tracer = makeTracer()
        let span = tracer.startSpan("status", context: .topLevel)
        span.setStatus(.init(code: .error, message: "first"))
        span.setStatus(.init(code: .ok))
        span.setStatus(.init(code: .error, message: "ignored"))
        span.end()
        #expect(try await finishedSpans(tracer).first?.status == SpanStatus(code: .ok))
    }

    @Test func limitsDropAndCount() async throws {
        let limits = SpanLimits(
            attributeCountLimit: 2, attributeValueLengthLimit: 4, eventCountLimit: 1, linkCountLimit: 1,
            eventAttributeCountLimit: 1, linkAttributeCountLimit: 1)
        let tracer = makeTracer(limits: limits)
        let linked = tracer.startSpan("linked", context: .topLevel)
        let span = tracer.startSpan(
            "limited", context: .topLevel, links: [SpanLink(context: linked.context, attributes: ["a": 1, "b": 2])])
        span.attributes = ["a": "long value", "b": "x", "c": "y"]
        span.addEvent(SpanEvent(name: "first", attributes: ["x": 1, "y": 2]))
        span.addEvent("second")
        span.addLink(SpanLink(context: linked.context, attributes: [:]))
        span.end()
        linked.end()
        let finished = try #require(try await finishedSpans(tracer).first { $0.operationName == "limited" })
        #expect(finished.attributes.count == 2)
        #expect(finished.droppedAttributesCount == 1)
        #expect(finished.attributes.get("a") == .string("long"), "values are cut to the length limit")
        #expect(finished.events.count == 1)
        #expect(finished.events.first?.attributes.count == 1)
        #expect(finished.droppedEventsCount == 1)
        #expect(finished.links.count == 1)
        #expect(finished.links.first?.droppedAttributesCount == 1)
        #expect(finished.droppedLinksCount == 1)
        #expect(finished.links.first?.spanContext == linked.spanContext)
    }

    /// `span.attributes[key] = value`: the count limit drops the attribute that does not fit, the value-length limit
    /// applies once, when the span ends, and an ended span does not change.
    @Test func subscriptAssignmentKeepsLimitsAndEndedSpansFrozen() async throws {
        let limits = SpanLimits(
            attributeCountLimit: 2, attributeValueLengthLimit: 4, eventCountLimit: 1, linkCountLimit: 1,
            eventAttributeCountLimit: 1, linkAttributeCountLimit: 1)
        let tracer = makeTracer(limits: limits)
        let span = tracer.startSpan("limited", context: .topLevel)
        span.attributes["a"] = "long value"
        span.attributes["b"] = 2
        span.attributes["c"] = 3
        #expect(span.attributes.count == 2)
        #expect(span.attributes.get("c") == nil)
        span.end()
        #expect(span.attributes.get("a") == .string("long"))
        span.attributes["late"] = "ignored"
        span.attributes["a"] = "also ignored"
        let finished = try #require(try await finishedSpans(tracer).first)
        #expect(finished.attributes.count == 2)
        #expect(finished.attributes.get("a") == .string("long"))
        #expect(finished.attributes.get("late") == nil)
        #expect(finished.droppedAttributesCount == 1)
    }

    @Test func childSpansNestThroughTaskLocalContext() async throws {
        let tracer = makeTracer()
        try await tracer.withSpan("outer", context: .topLevel) { outer in
            try await tracer.withSpan("inner") { inner in
                #expect(inner.spanContext.traceID == outer.spanContext.traceID)
                #expect(tracer.activeSpan(identifiedBy: inner.context)?.spanContext == inner.spanContext)
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        let spans = try await finishedSpans(tracer)
        let outer = try #require(spans.first { $0.operationName == "outer" })
        let inner = try #require(spans.first { $0.operationName == "inner" })
        #expect(inner.parentSpanContext?.spanID == outer.spanContext.spanID)
        #expect(inner.parentSpanContext?.isRemote == false)
        #expect(inner.localParentOperationName == "outer")
        #expect(outer.parentSpanContext == nil)
        #expect(inner.startTimeNanosecondsSinceEpoch >= outer.startTimeNanosecondsSinceEpoch)
        #expect(inner.endTimeNanosecondsSinceEpoch <= outer.endTimeNanosecondsSinceEpoch)
    }

    @Test func explicitTimestampsAreKept() async throws {
        let tracer = makeTracer()
        let start = DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: 1_000_000_000)
        let span = tracer.startSpan("timed", context: .topLevel, at: start)
        span.end(at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: 3_000_000_000))
        let finished = try #require(try await finishedSpans(tracer).first)
        #expect(finished.startTimeNanosecondsSinceEpoch == 1_000_000_000)
        #expect(finished.durationNanoseconds == 2_000_000_000)
    }

    @Test func idsAreValidAndDistinct() {
        let generator = RandomIDGenerator()
        var seen = Set<SpanID>()
        for _ in 0..<10_000 {
            let id = generator.newSpanID()
            #expect(id.isValid)
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        let traceID = generator.newTraceID()
        #expect(TraceID(hexString: traceID.hexString) == traceID)
        #expect(TraceID(bytes: traceID.bytes) == traceID)
        #expect(SpanID(bytes: SpanID(0x0102_0304_0506_0708).bytes)?.hexString == "0102030405060708")
    }
}
