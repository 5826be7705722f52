import Synchronization
import Testing
import Tracing

@testable import Otter

/// An exporter whose `export` calls wait until the test opens the gate: a stand-in for a slow or dead backend.
final class GatedExporter: SpanExporter {
    private struct State {
        var isOpen = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var exported: [FinishedSpan] = []
        var exportCalls = 0
        var exportStarted: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func export(_ batch: [FinishedSpan]) async throws {
        let started = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.exportCalls += 1
            defer { state.exportStarted.removeAll() }
            return state.exportStarted
        }
        for continuation in started { continuation.resume() }
        await withCheckedContinuation { continuation in
            let open = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiting.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
        state.withLock { $0.exported.append(contentsOf: batch) }
    }

    /// Returns once some export call is in progress.
    func waitForExportToStart() async {
        await withCheckedContinuation { continuation in
            let alreadyStarted = state.withLock { state -> Bool in
                if state.exportCalls > 0 { return true }
                state.exportStarted.append(continuation)
                return false
            }
            if alreadyStarted { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    var exported: [FinishedSpan] { state.withLock { $0.exported } }
    var exportCalls: Int { state.withLock { $0.exportCalls } }
}

@Suite("BatchSpanProcessor")
struct BatchSpanProcessorTests {
    func makeSpan(_ name: String = "span", sampled: Bool = true) -> FinishedSpan {
        let generator = RandomIDGenerator()
        return FinishedSpan(
            operationName: name, kind: .internal,
            spanContext: OtterSpanContext(
                traceID: generator.newTraceID(), spanID: generator.newSpanID(), traceFlags: sampled ? .sampled : []),
            startTimeNanosecondsSinceEpoch: 1, endTimeNanosecondsSinceEpoch: 2)
    }

    @Test func overflowDropsAreCountedAndTheCallerIsNeverBlocked() async throws {
        let exporter = GatedExporter()
        let processor = BatchSpanProcessor(
            exporter: exporter,
            configuration: .init(maximumQueueSize: 100, scheduleDelay: .seconds(3600), maximumExportBatchSize: 10))
        let worker = Task { await processor.run() }

        // The first full batch goes to the exporter, which then hangs.
        for index in 0..<10 { processor.onEnd(makeSpan("first-\(index)")) }
        await exporter.waitForExportToStart()
        // With the exporter stuck, 100 more fill the queue and the rest are dropped; every onEnd returns.
        for index in 0..<1_000 { processor.onEnd(makeSpan("more-\(index)")) }
        #expect(exporter.exported.isEmpty, "the exporter is still blocked")
        #expect(processor.droppedSpanCount == 900)
        #expect(processor.queuedSpanCount == 110)

        exporter.open()
        #expect(await processor.forceFlush(timeout: .seconds(30)))
        #expect(exporter.exported.count == 110)
        #expect(Set(exporter.exported.map(\.spanContext.spanID)).count == 110, "each span exported once")

        // Loss stops once the queue drains: new spans are accepted again.
        processor.onEnd(makeSpan("after"))
        #expect(processor.queuedSpanCount == 111)
        await processor.shutdown(timeout: .seconds(30))
        #expect(exporter.exported.count == 111)
        worker.cancel()
        await worker.value
    }

    @Test func slowExporterDoesNotSlowSpanEnd() async throws {
        let exporter = GatedExporter()
        let processor = BatchSpanProcessor(
            exporter: exporter, configuration: .init(maximumQueueSize: 64, scheduleDelay: .milliseconds(1), maximumExportBatchSize: 8))
        let worker = Task { await processor.run() }
        let tracer = OtterTracer(processor: processor)
        tracer.startSpan("first", context: .topLevel).end()
        await exporter.waitForExportToStart()
        // The exporter never returns while these 10,000 spans end: had span.end() waited on it, this test
        // would hang here instead of reaching the assertions.
        for index in 0..<10_000 {
            let span = tracer.startSpan("span-\(index)", context: .topLevel)
            span.attributes["index"] = index
            span.end()
        }
        #expect(exporter.exported.isEmpty)
        #expect(processor.droppedSpanCount == 10_000 - 64)
        exporter.open()
        await processor.shutdown(timeout: .seconds(30))
        #expect(exporter.exported.count == 65)
        worker.cancel()
        await worker.value
    }

    @Test func shutdownFlushesEverythingQueuedWithTheWorkerRunning() async throws {
        let exporter = InMemorySpanExporter()
        let processor = BatchSpanProcessor(
            exporter: exporter, configuration: .init(maximumQueueSize: 5000, scheduleDelay: .seconds(3600), maximumExportBatchSize: 512))
        let worker = Task { await processor.run() }
        for index in 0..<4321 { processor.onEnd(makeSpan("span-\(index)")) }
        await processor.shutdown(timeout: .seconds(30))
        #expect(exporter.exportedSpans.count == 4321)
        #expect(exporter.isShutdown)
        processor.onEnd(makeSpan("after shutdown"))
        #expect(processor.droppedSpanCount == 1)
        await worker.value
    }

    @Test func shutdownFlushesEverythingQueuedWithoutTheWorker() async throws {
        let exporter = InMemorySpanExporter()
        let processor = BatchSpanProcessor(exporter: exporter, configuration: .init(scheduleDelay: .seconds(3600)))
        for index in 0..<1500 { processor.onEnd(makeSpan("span-\(index)")) }
        await processor.shutdown(timeout: .seconds(30))
        #expect(exporter.exportedSpans.count == 1500)
        #expect(exporter.exportedSpans.map(\.operationName) == (0..<1500).map { "span-\($0)" }, "in order")
    }

    @Test func forceFlushWaitsForTheExport() async throws {
        let exporter = InMemorySpanExporter()
        let processor = BatchSpanProcessor(exporter: exporter, configuration: .init(scheduleDelay: .seconds(3600)))
        let worker = Task { await processor.run() }
        processor.onEnd(makeSpan("one"))
        processor.onEnd(makeSpan("two"))
        #expect(await processor.forceFlush(timeout: .seconds(30)))
        #expect(exporter.exportedSpans.map(\.operationName) == ["one", "two"])
        worker.cancel()
        await worker.value
    }

    @Test func forceFlushGivesUpAtItsTimeoutWhenTheExporterHangs() async throws {
        let exporter = GatedExporter()
        let processor = BatchSpanProcessor(
            exporter: exporter, configuration: .init(scheduleDelay: .seconds(3600), exportTimeout: .seconds(3600)))
        let worker = Task { await processor.run() }
        processor.onEnd(makeSpan())
        #expect(await processor.forceFlush(timeout: .milliseconds(50)) == false)
        exporter.open()
        #expect(await processor.forceFlush(timeout: .seconds(30)))
        worker.cancel()
        await worker.value
    }

    @Test func exportTimeoutCancelsAHangingExport() async throws {
        struct HangingExporter: SpanExporter {
            func export(_ batch: [FinishedSpan]) async throws {
                try await Task.sleep(for: .seconds(3600))
            }
        }
        let processor = BatchSpanProcessor(
            exporter: HangingExporter(), configuration: .init(scheduleDelay: .seconds(3600), exportTimeout: .milliseconds(20)))
        processor.onEnd(makeSpan())
        // The export is cancelled at its timeout and awaited: the flush completes, and says the span was not delivered.
        #expect(await processor.forceFlush(timeout: .seconds(60)) == false)
        #expect(processor.processedSpanCount == 1)
        #expect(processor.failedSpanCount == 1)
    }

    @Test func unsampledSpansAreNotQueued() async {
        let exporter = InMemorySpanExporter()
        let processor = BatchSpanProcessor(exporter: exporter)
        processor.onEnd(makeSpan(sampled: false))
        await processor.shutdown(timeout: .seconds(5))
        #expect(exporter.exportedSpans.isEmpty)
        #expect(processor.droppedSpanCount == 0)
    }

    @Test func fullBatchIsExportedBeforeTheScheduleDelay() async throws {
        let exporter = GatedExporter()
        exporter.open()
        let processor = BatchSpanProcessor(
            exporter: exporter, configuration: .init(scheduleDelay: .seconds(3600), maximumExportBatchSize: 4))
        let worker = Task { await processor.run() }
        for _ in 0..<4 { processor.onEnd(makeSpan()) }
        // With an hour's delay, only the full-batch wake-up can start this export.
        await exporter.waitForExportToStart()
        #expect(exporter.exportCalls >= 1)
        await processor.shutdown(timeout: .seconds(30))
        #expect(exporter.exported.count == 4)
        await worker.value
    }
}
