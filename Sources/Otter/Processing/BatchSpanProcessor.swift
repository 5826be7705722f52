import Logging
import Synchronization

/// Queues sampled spans and exports them in batches from one background task (``run()``).
///
/// `onEnd` never blocks and never allocates: it takes a lock, stores a reference to the span in a preallocated
/// ring buffer, and wakes the exporting task only when a full batch is waiting. The exporting task sends full
/// batches as they fill, and whatever is queued when the schedule delay passes (as the OpenTelemetry
/// specification says), so a busy application sends few, full requests. When the queue is full, spans are
/// dropped and counted (``droppedSpanCount``); one log line says when loss starts and one when it stops.
///
/// The exporter is called one batch at a time, ever: an export that outlives ``Configuration/exportTimeout`` is
/// cancelled and awaited before the next one starts, so a stuck exporter backs the queue up (and spans are dropped
/// and counted) rather than piling up calls. ``forceFlush(timeout:)`` waits until every span queued before the call
/// has been handed to the exporter and says whether all of them were delivered; ``shutdown(timeout:)`` delivers
/// what is queued, then shuts the exporter down after the last export, even when its task is cancelled. Both work
/// whether or not ``run()`` is running.
public final class BatchSpanProcessor: SpanProcessor {
    /// Queue and batch settings, with the OpenTelemetry defaults (`OTEL_BSP_*`).
    public struct Configuration: Sendable, Hashable {
        /// Most spans waiting for export; more are dropped (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048; at least 1).
        public var maximumQueueSize: Int
        /// Longest wait between two exports (`OTEL_BSP_SCHEDULE_DELAY`, 5 s). Zero or less: each span is handed to
        /// the exporting task as soon as it is queued (batches form only while an export is in flight).
        public var scheduleDelay: Duration
        /// Most spans in one export (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, 512; at least 1, at most the queue size).
        public var maximumExportBatchSize: Int
        /// Longest one export may run before it is cancelled (`OTEL_BSP_EXPORT_TIMEOUT`, 30 s). Zero or less: no
        /// limit (as opentelemetry-go reads it), the exporter's own timeouts apply.
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

    public let configuration: Configuration
    private let state: Mutex<State>
    private let lane: SpanExportLane
    private let logger: Logger
    /// Queued spans that wake the exporting task: a full batch, or any span when there is no schedule delay.
    private let wakeCount: Int

    public var exporter: any SpanExporter { lane.exporter }

    public init(
        exporter: any SpanExporter,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "otter.batch-span-processor")
    ) {
        self.configuration = configuration
        self.logger = logger
        lane = SpanExportLane(
            exporter: exporter, exportTimeout: configuration.exportTimeout > .zero ? configuration.exportTimeout : nil,
            logger: logger)
        wakeCount = configuration.scheduleDelay > .zero ? configuration.maximumExportBatchSize : 1
        state = Mutex(State(queue: SpanRingBuffer(capacity: configuration.maximumQueueSize)))
    }

    /// Spans dropped so far because the queue was full or the processor was shut down.
    public var droppedSpanCount: UInt64 { state.withLock { $0.droppedCount } }

    /// Spans queued so far (sampled spans that were not dropped).
    public var queuedSpanCount: UInt64 { state.withLock { $0.enqueuedCount } }

    /// True while the exporting task waits for a full batch, a flush or the schedule delay.
    var isWaitingForWork: Bool { state.withLock { $0.workerContinuation != nil } }

    /// Spans whose export has completed (successfully or not).
    public var processedSpanCount: UInt64 { lane.progress.processed }

    /// Spans whose export failed or timed out.
    public var failedSpanCount: UInt64 { lane.progress.failed }

    public func onEnd(_ span: ReadOnlySpan) {
        guard span.isSampled else { return }
        enqueue(span)
    }

    private func enqueue(_ span: ReadOnlySpan) {
        let wakeCount = self.wakeCount
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
            guard state.queue.count >= wakeCount, let worker = state.workerContinuation else { return nil }
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
    /// An export in flight when the task is cancelled runs to its end (or its timeout); ``shutdown(timeout:)``
    /// delivers the rest.
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
            // Without a schedule delay every wake-up exports what is queued; otherwise full batches, or everything
            // when the delay passed or a flush asked.
            let exportsEverything = configuration.scheduleDelay <= .zero
            let (drain, isShutdown) = state.withLock { state in
                defer { state.isDrainRequested = false }
                return (state.isDrainRequested || exportsEverything, state.isShutdown)
            }
            // After shutdown, the turn that shutdown started exports what is left.
            if isShutdown { break }
            // Cancelled, this task stops waiting (an export in flight still runs to its end or its timeout).
            _ = await lane.exportBatches { self.nextBatch(drain: drain) }.wait(timeout: nil, honoringCancellation: true)
        }
    }

    /// Waits until every span queued before the call has been handed to the exporter (and the exporter has
    /// flushed what it buffers), or `timeout` passes, or the calling task is cancelled. True when all of those
    /// spans were delivered; false when an export of any of them failed or timed out, or the wait ended first.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        // A turn of its own exports what is queued (in turn with the exporting task, if it runs), then asks the
        // exporter to flush what it buffers.
        await lane.forceFlush(through: state.withLock { $0.enqueuedCount }, timeout: timeout) { self.nextBatch(drain: true) }
    }

    /// Stops accepting spans, exports what is queued, then shuts the exporter down after the last export. Waits
    /// for all of that at most `timeout`, even when the calling task is cancelled (a `ServiceGroup` that is
    /// shutting down because another service failed still gets the spans that explain the failure); what is
    /// still running then finishes in the background, and the exporter is never shut down under an export. A
    /// second call waits for the first one's work, with its own timeout.
    public func shutdown(timeout: Duration) async {
        state.withLock { $0.isShutdown = true }
        requestDrain()
        if await !lane.shutDown(timeout: timeout, { self.nextBatch(drain: true) }) {
            logger.warning(
                "Shutdown timed out before every span was exported",
                metadata: ["otter.spans.pending": "\(queuedSpanCount - processedSpanCount)"])
        }
    }

    /// The next batch to export: a full one, or with `drain` whatever is queued (up to a batch).
    private func nextBatch(drain: Bool) -> [ReadOnlySpan] {
        let batchSize = configuration.maximumExportBatchSize
        return state.withLock { state in
            guard drain || state.queue.count >= batchSize else { return [] }
            return state.queue.removeFirst(upTo: batchSize)
        }
    }

    /// Asks the exporting task for everything queued, and wakes it if it waits.
    private func requestDrain() {
        state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isDrainRequested = true
            defer { state.workerContinuation = nil }
            return state.workerContinuation
        }?.resume()
    }

    /// Suspends until a full batch waits (any span, without a schedule delay), a flush or shutdown asks, the
    /// schedule delay passes, or the task is cancelled.
    private func waitForWork() async {
        let delay = configuration.scheduleDelay
        let wakeCount = self.wakeCount
        await withTaskGroup(of: Void.self) { group in
            if delay > .zero {
                group.addTask {
                    do {
                        try await Task.sleep(for: delay)
                        self.requestDrain()
                    } catch {}
                }
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.isDrainRequested || state.isShutdown || state.queue.count >= wakeCount {
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
}
