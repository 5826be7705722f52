import Testing
import Tracing

@testable import Otter

@Suite("Samplers")
struct SamplerTests {
    func parameters(traceID: TraceID, parent: OtterSpanContext? = nil) -> SamplingParameters {
        SamplingParameters(
            context: .topLevel, parentSpanContext: parent, traceID: traceID, operationName: "op", kind: .internal)
    }

    @Test func ratioSamplerIsConsistentForATraceID() {
        let sampler = TraceIDRatioBasedSampler(ratio: 0.3)
        let generator = RandomIDGenerator(seed: 42)
        for _ in 0..<1000 {
            let traceID = generator.newTraceID()
            let first = sampler.shouldSample(parameters(traceID: traceID)).decision
            for _ in 0..<3 { #expect(sampler.shouldSample(parameters(traceID: traceID)).decision == first) }
            // A second sampler with the same ratio (another service) agrees.
            #expect(TraceIDRatioBasedSampler(ratio: 0.3).shouldSample(parameters(traceID: traceID)).decision == first)
        }
    }

    @Test(arguments: [0.01, 0.1, 0.25, 0.5, 0.9])
    func ratioSamplerSamplesTheRatioOver100kIDs(ratio: Double) {
        let sampler = TraceIDRatioBasedSampler(ratio: ratio)
        let generator = RandomIDGenerator(seed: 7)
        let total = 100_000
        var sampled = 0
        for _ in 0..<total where sampler.samples(generator.newTraceID()) { sampled += 1 }
        let observed = Double(sampled) / Double(total)
        // Five standard deviations of a binomial proportion: fails only if the sampler is biased.
        let tolerance = 5 * (ratio * (1 - ratio) / Double(total)).squareRoot()
        #expect(abs(observed - ratio) <= tolerance, "ratio \(ratio): observed \(observed)")
    }

    @Test func ratioSamplerEdges() {
        let generator = RandomIDGenerator(seed: 1)
        let ids = (0..<1000).map { _ in generator.newTraceID() }
        #expect(ids.allSatisfy { TraceIDRatioBasedSampler(ratio: 1).samples($0) })
        #expect(ids.allSatisfy { !TraceIDRatioBasedSampler(ratio: 0).samples($0) })
        #expect(TraceIDRatioBasedSampler(ratio: 1).samples(TraceID(high: .max, low: .max)))
        #expect(TraceIDRatioBasedSampler(ratio: 0.5).description == "TraceIdRatioBased{0.5}")
    }

    @Test func parentBasedHonoursEachParentSlot() {
        let sampler = ParentBasedSampler(root: AlwaysOffSampler())
        let traceID = TraceID(high: 1, low: 2)
        func parent(remote: Bool, sampled: Bool) -> OtterSpanContext {
            OtterSpanContext(traceID: traceID, spanID: SpanID(3), traceFlags: sampled ? .sampled : [], isRemote: remote)
        }
        #expect(sampler.shouldSample(parameters(traceID: traceID)).decision == .drop, "root delegates")
        #expect(
            sampler.shouldSample(parameters(traceID: traceID, parent: parent(remote: true, sampled: true))).decision == .recordAndSample)
        #expect(sampler.shouldSample(parameters(traceID: traceID, parent: parent(remote: true, sampled: false))).decision == .drop)
        #expect(
            sampler.shouldSample(parameters(traceID: traceID, parent: parent(remote: false, sampled: true))).decision == .recordAndSample)
        #expect(sampler.shouldSample(parameters(traceID: traceID, parent: parent(remote: false, sampled: false))).decision == .drop)

        let inverted = ParentBasedSampler(
            root: AlwaysOnSampler(),
            remoteParentSampled: AlwaysOffSampler(), remoteParentNotSampled: AlwaysOnSampler(),
            localParentSampled: AlwaysOffSampler(), localParentNotSampled: AlwaysOnSampler())
        #expect(inverted.shouldSample(parameters(traceID: traceID)).decision == .recordAndSample)
        #expect(inverted.shouldSample(parameters(traceID: traceID, parent: parent(remote: true, sampled: true))).decision == .drop)
        #expect(
            inverted.shouldSample(parameters(traceID: traceID, parent: parent(remote: true, sampled: false))).decision == .recordAndSample)
        #expect(inverted.shouldSample(parameters(traceID: traceID, parent: parent(remote: false, sampled: true))).decision == .drop)
        #expect(
            inverted.shouldSample(parameters(traceID: traceID, parent: parent(remote: false, sampled: false))).decision == .recordAndSample)
    }

    @Test func unsampledParentMakesUnsampledChildrenThatStillPropagate() async throws {
        let exporter = InMemorySpanExporter()
        let tracer = OtterTracer(sampler: ParentBasedSampler(root: AlwaysOffSampler()), processor: SimpleSpanProcessor(exporter: exporter))
        let root = tracer.startSpan("root", context: .topLevel)
        let child = tracer.startSpan("child", context: root.context)
        #expect(!root.isRecording)
        #expect(!child.isRecording)
        #expect(child.spanContext.traceID == root.spanContext.traceID)
        #expect(!child.spanContext.isSampled)
        // An unsampled child of an unsampled parent has a span id of its own (the specification), the same trace
        // id, and the unsampled decision reaches downstream services (with the random-trace-id flag).
        #expect(child.spanContext.spanID != root.spanContext.spanID)
        var headers = HeaderCarrier()
        tracer.inject(child.context, into: &headers, using: HeaderInjector())
        let traceparent = try #require(headers["traceparent"])
        #expect(traceparent == "00-\(root.spanContext.traceID)-\(child.spanContext.spanID)-02")
        child.end()
        root.end()
        #expect(await tracer.forceFlush(timeout: .seconds(60)))
        #expect(exporter.exportedSpans.isEmpty)
    }

    @Test func recordOnlySpansReachProcessorsButNotExporters() async {
        struct RecordOnlySampler: Sampler {
            func shouldSample(_ parameters: SamplingParameters) -> SamplingResult { SamplingResult(decision: .recordOnly) }
            var description: String { "RecordOnly" }
        }
        let exporter = InMemorySpanExporter()
        let tracer = OtterTracer(sampler: RecordOnlySampler(), processor: BatchSpanProcessor(exporter: exporter))
        let span = tracer.startSpan("recorded", context: .topLevel)
        #expect(span.isRecording)
        #expect(!span.spanContext.isSampled)
        span.attributes["key"] = "value"
        #expect(span.attributes.get("key") == .string("value"))
        span.end()
        #expect(await tracer.forceFlush(timeout: .seconds(60)))
        #expect(exporter.exportedSpans.isEmpty)
    }

    /// The tracer decides built-in samplers from the parent and trace id alone; a custom sampler anywhere in a
    /// ParentBased tree still receives the span's attributes.
    @Test func customSamplersInsideParentBasedStillSeeAttributes() async {
        struct KeepFlagSampler: Sampler {
            func shouldSample(_ parameters: SamplingParameters) -> SamplingResult {
                parameters.attributes.get("keep") == .bool(true) ? .recordAndSample : .drop
            }
            var description: String { "KeepFlag" }
        }
        let exporter = InMemorySpanExporter()
        let tracer = OtterTracer(sampler: ParentBasedSampler(root: KeepFlagSampler()), processor: SimpleSpanProcessor(exporter: exporter))
        let kept = tracer.startSpan("kept", context: .topLevel, attributes: ["keep": true])
        let dropped = tracer.startSpan("dropped", context: .topLevel, attributes: ["keep": false])
        let child = tracer.startSpan("child of kept", context: kept.context)
        let childOfDropped = tracer.startSpan("child of dropped", context: dropped.context)
        #expect(kept.spanContext.isSampled)
        #expect(!dropped.spanContext.isSampled)
        #expect(child.spanContext.isSampled, "a sampled local parent: localParentSampled (always on)")
        #expect(!childOfDropped.spanContext.isSampled, "an unsampled local parent: localParentNotSampled (always off)")
        for span in [childOfDropped, child, dropped, kept] { span.end() }
        #expect(await tracer.forceFlush(timeout: .seconds(60)))
        #expect(exporter.exportedSpans.map(\.operationName).sorted() == ["child of kept", "kept"])
    }
}
