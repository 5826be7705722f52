import Synchronization
import Testing
import Tracing

@testable import Otter

/// An exporter that lets one export call through at a time, and records the size of every batch.
final class SteppingExporter: SpanExporter {
    private struct State {
        var batchSizes: [Int] = []
        var permits = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func export(_ batch: [FinishedSpan]) async throws {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state -> Bool in
                state.batchSizes.append(batch.count)
                guard state.permits > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.permits -= 1
                return true
            }
            if proceed { continuation.resume() }
        }
    }

    /// Lets one waiting (or the next) export call finish.
    func allowOne() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.permits += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        continuation?.resume()
    }

    func allowAll() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.permits = .max / 2
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    var batchSizes: [Int] { state.withLock { $0.batchSizes } }
}

/// Records what span processors receive when a span ends.
final class RecordingProcessor: SpanProcessor {
    private let ended = Mutex<[ReadOnlySpan]>([])

    func onEnd(_ span: ReadOnlySpan) {
        ended.withLock { $0.append(span) }
    }

    var spans: [ReadOnlySpan] { ended.withLock { $0 } }
}

@Suite("Span pipeline")
struct SpanPipelineTests {
    func makeSpan(_ index: Int) -> FinishedSpan {
        FinishedSpan(
            operationName: "span-\(index)", kind: .internal,
            spanContext: OtterSpanContext(
                traceID: TraceID(high: 1, low: UInt64(index + 1)), spanID: SpanID(UInt64(index + 1)),
                traceFlags: .sampled),
            startTimeNanosecondsSinceEpoch: 1, endTimeNanosecondsSinceEpoch: 2)
    }

    /// Spans that arrive while an export runs wait for a full batch (or the schedule delay, or a flush): a busy
    /// application sends few, full requests, not one per handful of spans.
    @Test(.timeLimit(.minutes(1))) func spansArrivingDuringAnExportWaitForAFullBatch() async throws {
        let exporter = SteppingExporter()
        let processor = BatchSpanProcessor(
            exporter: exporter,
            configuration: .init(maximumQueueSize: 1000, scheduleDelay: .seconds(3600), maximumExportBatchSize: 100))
        let worker = Task { await processor.run() }

        for index in 0..<100 { processor.onEnd(makeSpan(index)) }
        // The first full batch is being exported; 150 more arrive meanwhile.
        while exporter.batchSizes.isEmpty { await Task.yield() }
        for index in 100..<250 { processor.onEnd(makeSpan(index)) }
        exporter.allowOne()
        exporter.allowOne()
        // The exporting task goes back to waiting with 50 spans queued: half a batch is not sent.
        while !(processor.isWaitingForWork && processor.processedSpanCount == 200) { await Task.yield() }
        #expect(exporter.batchSizes == [100, 100])

        // A flush sends what is left.
        exporter.allowAll()
        #expect(await processor.forceFlush(timeout: .seconds(30)))
        #expect(exporter.batchSizes == [100, 100, 50])
        await processor.shutdown(timeout: .seconds(30))
        await worker.value
    }

    /// Every processor of a MultiSpanProcessor sees the same ended span, read in place; the exporters' value is
    /// made only when asked for, and says what the span recorded.
    @Test func everyProcessorReadsTheSameEndedSpan() async throws {
        let first = RecordingProcessor()
        let second = RecordingProcessor()
        let tracer = OtterTracer(
            resource: Resource(attributes: ["service.name": "pipeline-test"]), sampler: AlwaysOnSampler(),
            processor: MultiSpanProcessor([first, second]))
        tracer.withSpan("checkout", ofKind: .server) { span in
            span.attributes["order.id"] = "A-17"
            span.setStatus(SpanStatus(code: .error, message: "card declined"))
        }
        let seenByFirst = try #require(first.spans.first)
        let seenBySecond = try #require(second.spans.first)
        #expect(first.spans.count == 1 && second.spans.count == 1)
        guard case .recorded(let firstStorage) = seenByFirst.source, case .recorded(let secondStorage) = seenBySecond.source
        else {
            Issue.record("a span the tracer ended reaches processors as its own storage")
            return
        }
        #expect(firstStorage === secondStorage)
        #expect(seenByFirst.operationName == "checkout")
        #expect(seenByFirst.kind == .server)
        #expect(seenByFirst.isSampled)
        #expect(seenByFirst.status?.code == .error)
        #expect(seenByFirst.attributes.get("order.id") == .string("A-17"))

        let finished = seenBySecond.finishedSpan
        #expect(finished.spanContext == seenByFirst.spanContext)
        #expect(finished.operationName == "checkout")
        #expect(finished.status?.message == "card declined")
        #expect(finished.attributes.get("order.id") == .string("A-17"))
        #expect(finished.resource.serviceName == "pipeline-test")
        #expect(finished.endTimeNanosecondsSinceEpoch >= finished.startTimeNanosecondsSinceEpoch)
    }

    /// The global API's unsampled spans are bare contexts: nothing recorded, yet the trace id and the unsampled
    /// decision propagate to child spans.
    @Test func unsampledSpansFromTheAnySpanEntryPointStillPropagate() throws {
        let processor = RecordingProcessor()
        let tracer = OtterTracer(sampler: AlwaysOffSampler(), processor: processor)
        let root = tracer.startAnySpan("root", context: .topLevel)
        #expect(!root.isRecording)
        root.attributes["ignored"] = "yes"
        #expect(root.attributes.get("ignored") == nil)
        let rootContext = try #require(root.context.otterSpanContext)
        #expect(rootContext.isValid && !rootContext.isSampled)
        let child = tracer.startAnySpan("child", context: root.context)
        #expect(child.context.otterSpanContext?.traceID == rootContext.traceID)
        child.end()
        root.end()
        #expect(processor.spans.isEmpty)
    }

    /// Attribute writes from many tasks at once land, in place, each exactly once; reading the span's attributes
    /// on the right-hand side of a write to them is fine (the read finishes before the write begins).
    @Test(.timeLimit(.minutes(1))) func concurrentAndNestedAttributeWritesAreSafe() async throws {
        let processor = RecordingProcessor()
        let tracer = OtterTracer(
            sampler: AlwaysOnSampler(), processor: processor, limits: SpanLimits(attributeCountLimit: 1000))
        let span = tracer.startSpan("shared", context: .topLevel)
        span.attributes["seed"] = 1
        span.attributes["copy"] = span.attributes["seed"]
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in 0..<100 { span.attributes["w\(writer).\(index)"] = index }
                }
            }
        }
        #expect(span.attributes.count == 802)
        span.end()
        let ended = try #require(processor.spans.first)
        #expect(ended.attributes.get("copy") == .int64(1))
        #expect(ended.attributes.get("w7.99") == .int64(99))
        #expect(ended.finishedSpan.attributes.count == 802)
    }

    /// A value whose conversion to an attribute reads the span it is being written to, and ends it.
    struct SpanReadingValue: SpanAttributeConvertible {
        let span: OtterSpan
        func toSpanAttribute() -> SpanAttribute {
            let count = span.attributes.count
            span.end()
            return .int64(Int64(count))
        }
    }

    /// Coming back to a span from inside a write to its attributes (on the same thread) goes on, it does not wait
    /// for itself: the read sees the attributes so far, the span ends, and the write that was under way is dropped
    /// with the rest of what comes after the end.
    @Test(.timeLimit(.minutes(1))) func reenteringASpanDuringAnAttributeWriteDoesNotHang() throws {
        let processor = RecordingProcessor()
        let tracer = OtterTracer(sampler: AlwaysOnSampler(), processor: processor)
        let span = tracer.startSpan("reentered", context: .topLevel)
        span.attributes["first"] = 1
        span.attributes["count"] = SpanReadingValue(span: span)
        let ended = try #require(processor.spans.first)
        #expect(ended.attributes.get("first") == .int64(1))
        #expect(ended.attributes.get("count") == nil)
        #expect(ended.durationNanoseconds == ended.endTimeNanosecondsSinceEpoch - ended.startTimeNanosecondsSinceEpoch)
    }

    /// An unsampled child of a parent that records without sampling gets a context of its own, so the current
    /// span of the child's context is not the parent.
    @Test func unsampledChildOfARecordingParentDoesNotShareItsContext() {
        struct RecordRootsOnly: Sampler {
            func shouldSample(_ parameters: SamplingParameters) -> SamplingResult {
                SamplingResult(decision: parameters.parentSpanContext == nil ? .recordOnly : .drop)
            }
            var description: String { "RecordRootsOnly" }
        }
        let tracer = OtterTracer(sampler: RecordRootsOnly(), processor: RecordingProcessor())
        let parent = tracer.startSpan("parent", context: .topLevel)
        #expect(parent.isRecording && !parent.spanContext.isSampled)
        let child = tracer.startSpan("child", context: parent.context)
        #expect(!child.isRecording)
        #expect(tracer.activeSpan(identifiedBy: child.context) == nil)
        #expect(child.spanContext.spanID != parent.spanContext.spanID)
        #expect(child.spanContext.traceID == parent.spanContext.traceID)
    }
}
