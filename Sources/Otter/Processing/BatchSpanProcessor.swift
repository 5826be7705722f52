import Logging
import Synchronization

/// Queues sampled spans and exports them in batches from one background task (``run()``).
///
/// `onEnd` never blocks and never allocates: it takes a lock, stores a reference to the span in a preallocated
/// ring buffer, and wakes the exporting task only when a full batch is waiting. The exporting task sends full
/// batches as they fill, and whatever is queued when the schedule delay passes (as the OpenTelemetry
/// specification says), so a busy application sends few, full requests. When the queue is full, spans are
/// dropped and counted (``droppedSpanCount``); one log line says when loss starts and one when it stops.
/// ``forceFlush(timeout:)`` and ``shutdown(timeout:)`` wait until every span queued before the call has been
/// exported (or the timeout passes), whether or not ``run()`` is running.
public final class BatchSpanProcessor: SpanProcessor {
    /// Queue and batch settings, with the OpenTelemetry defaults (`OTEL_BSP_*`).
    public struct Configuration: Sendable, Hashable {
        /// Most spans waiting for export; more are dropped (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048).
        public var maximumQueueSize: Int
        /// Longest wait between two exports (`OTEL_BSP_SCHEDULE_DELAY`, 5 s).
        public var scheduleDelay: Duration
        /// Most spans in one export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, 512; at most the queue size).
        public var maximumExportBatchSize: Int
        /// Longest one export may run before it is cancelled (`OTEL_BSP_EXPORT_TIMEOUT`, 30 s).
        public var exportTimeout: Duration

        public init(
            maximumQueueSize: Int = 2048,
            scheduleDelay: Duration = .milliseconds(5000),
            maximumExportBatchSize: Int = 512,
            exportTimeout: Duration = .milliseconds(30000)
        ) {
            self.maximumQueueSize = max(1, maximumQueueSize)
            self.scheduleDelay = scheduleDelay
            self.maximumExportBatchSize = max(1, min(maximumExportBatchSize, self.maximumQueueSize))
            self.exportTimeout = exportTimeout
        }
    }

    private struct State {
        var queue: SpanRingBuffer
        var enqueuedCount: UInt64 = 0
        var droppedCount: UInt64 = 0
        var droppedCountWhenLossStarted: UInt64 = 0
        var isLosingSpans = false
        var isShutdown = false
        var isWorkerRunning = false
        var workerContinuation: CheckedContinuation<Void, Never>?
        /// A flush or the schedule delay asks for everything queued, not only full batches.
        var isDrainRequested = false
    }

    private enum LossTransition {
        case none
        case started
        case stopped(lost: UInt64)
    }

    public let exporter: any SpanExporter
    public let configuration: Configuration
    private let state: Mutex<State>
    private let progress = ProgressTracker()
    private let exportAccess = AsyncExclusiveAccess()
    private let logger: Logger

    public init(
        exporter: any SpanExporter,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "otter.batch-span-processor")
    ) {
        self.exporter = exporter
        self.configuration = configuration
        self.logger = logger
        state = Mutex(State(queue: SpanRingBuffer(capacity: configuration.maximumQueueSize)))
    }

    /// Spans dropped so far because the queue was full or the processor was shut down.
    public var droppedSpanCount: UInt64 { state.withLock { $0.droppedCount } }

    /// Spans queued so far (sampled spans that were not dropped).
    public var queuedSpanCount: UInt64 { state.withLock { $0.enqueuedCount } }

    /// True while the exporting task waits for a full batch, a flush or the schedule delay.
    var isWaitingForWork: Bool { state.withLock { $0.workerContinuation != nil } }

    /// Spans whose export has completed (successfully or not).
    public var processedSpanCount: UInt64 { progress.processed }

    public func onEnd(_ span: ReadOnlySpan) {
        guard span.isSampled else { return }
        enqueue(span)
    }

    private func enqueue(_ span: ReadOnlySpan) {
        let batchSize = configuration.maximumExportBatchSize
        var transition = LossTransition.none
        let worker: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.isShutdown, state.queue.append(span) else {
                state.droppedCount += 1
                if !state.isLosingSpans {
                    state.isLosingSpans = true
                    state.droppedCountWhenLossStarted = state.droppedCount - 1
                    transition = .started
                }
                return nil
            }
            state.enqueuedCount += 1
            if state.isLosingSpans {
                state.isLosingSpans = false
                transition = .stopped(lost: state.droppedCount - state.droppedCountWhenLossStarted)
            }
            guard state.queue.count >= batchSize, let worker = state.workerContinuation else { return nil }
            state.workerContinuation = nil
            return worker
        }
        worker?.resume()
        switch transition {
        case .none:
            break
        case .started:
            logger.warning(
                "Span queue is full or shut down: dropping spans",
                metadata: ["otter.queue.capacity": "\(configuration.maximumQueueSize)"])
        case .stopped(let lost):
            logger.warning("Span queue accepts spans again", metadata: ["otter.spans.dropped": "\(lost)"])
        }
    }

    /// Exports batches every schedule delay, or as soon as a full batch waits, until shutdown or cancellation.
    public func run() async {
        let started = state.withLock { state -> Bool in
            guard !state.isWorkerRunning, !state.isShutdown else { return false }
            state.isWorkerRunning = true
            return true
        }
        guard started else { return }
        defer { state.withLock { $0.isWorkerRunning = false } }

        while !Task.isCancelled {
            await waitForWork()
            await exportQueuedSpans(drain: state.withLock { $0.isDrainRequested || $0.isShutdown })
            if state.withLock({ $0.isShutdown && $0.queue.isEmpty }) { break }
        }
    }

    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        let (target, workerIsRunning) = state.withLock { state in
            (state.enqueuedCount, state.isWorkerRunning)
        }
        requestDrain()
        if !workerIsRunning {
            _ = try? await withTimeout(timeout) { await self.exportQueuedSpans(drain: true) }
        }
        return await progress.wait(until: target, timeout: timeout)
    }

    public func shutdown(timeout: Duration) async {
        let alreadyShutdown = state.withLock { state -> Bool in
            defer { state.isShutdown = true }
            return state.isShutdown
        }
        guard !alreadyShutdown else { return }
        let flushed = await forceFlush(timeout: timeout)
        if !flushed {
            logger.warning(
                "Shutdown timed out before every span was exported",
                metadata: ["otter.spans.pending": "\(queuedSpanCount - processedSpanCount)"])
        }
        await exporter.shutdown()
    }

    /// Asks the exporting task for everything queued, and wakes it if it waits.
    private func requestDrain() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isDrainRequested = true
            defer { state.workerContinuation = nil }
            return state.workerContinuation
        }?.resume()
    }

    /// Suspends until a full batch waits, a flush or shutdown asks, the schedule delay passes, or the task is
    /// cancelled.
    private func waitForWork() async {
        let delay = configuration.scheduleDelay
        let batchSize = configuration.maximumExportBatchSize
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await Task.sleep(for: delay)
                    self.requestDrain()
                } catch {}
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.isDrainRequested || state.isShutdown || state.queue.count >= batchSize {
                            return true
                        }
                        state.workerContinuation = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.requestDrain()
            }
            group.cancelAll()
        }
    }

    /// Exports full batches, or with `drain` everything queued, one batch at a time; callers take turns so the
    /// exporter never runs twice at once.
    private func exportQueuedSpans(drain: Bool) async {
        let batchSize = configuration.maximumExportBatchSize
        await exportAccess.withExclusiveAccess {
            if drain { state.withLock { $0.isDrainRequested = false } }
            while true {
                let ended = state.withLock { state -> [ReadOnlySpan] in
                    guard drain || state.queue.count >= batchSize else { return [] }
                    return state.queue.removeFirst(upTo: batchSize)
                }
                if ended.isEmpty { return }
                let batch = ended.map(\.finishedSpan)
                await export(batch)
                progress.advance(by: batch.count)
            }
        }
    }

    private func export(_ batch: [FinishedSpan]) async {
        let exporter = self.exporter
        do {
            let completed = try await withTimeout(configuration.exportTimeout) {
                try await exporter.export(batch)
                return true
            }
            if completed == nil {
                logger.warning(
                    "Span export timed out",
                    metadata: ["otter.spans": "\(batch.count)", "otter.timeout": "\(configuration.exportTimeout)"])
            }
        } catch {
            logger.warning(
                "Span export failed", metadata: ["otter.spans": "\(batch.count)", "error": "\(error)"])
        }
    }
}
