import Logging
import Synchronization

/// Queue and batch settings of a batch processor, with the OpenTelemetry defaults (`OTEL_BSP_*` for spans,
/// `OTEL_BLRP_*` for log records, whose schedule delay is 1 s).
public struct BatchExportConfiguration: Sendable, Hashable {
    /// Most items waiting for export; more are dropped (2048; at least 1).
    public var maximumQueueSize: Int
    /// Longest wait between two exports (5 s for spans, 1 s for log records). Zero or less: each item is handed to
    /// the exporting task as soon as it is queued (batches form only while an export is in flight).
    public var scheduleDelay: Duration
    /// Most items in one export (512; at least 1, at most the queue size).
    public var maximumExportBatchSize: Int
    /// Longest one export may run before it is cancelled (30 s). Zero or less: no limit (as opentelemetry-go reads
    /// it), the exporter's own timeouts apply.
    public var exportTimeout: Duration

    /// Makes settings; sizes below 1 become 1, and a batch size above the queue size becomes the queue size. The
    /// defaults are the span ones; use ``logRecordDefaults`` for log records.
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

    /// The log record defaults (`OTEL_BLRP_*`): as for spans, but a 1 s schedule delay.
    public static var logRecordDefaults: Self { Self(scheduleDelay: .milliseconds(1000)) }
}

/// The batch processors' queue, for spans and log records alike: a bounded ring buffer that `enqueue` fills
/// without blocking, and one exporting task (``run()``) that sends full batches as they fill and whatever is queued
/// when the schedule delay passes (as the OpenTelemetry specification says), through an ``ExportLane``. When the
/// queue is full, items are dropped and counted; one log line says when loss starts and one when it stops.
final class BatchExportQueue<Item: Sendable>: Sendable {
    private struct State {
        var queue: RingBuffer<Item>
        var enqueuedCount: UInt64 = 0
        var droppedCount: UInt64 = 0
        var droppedCountWhenLossStarted: UInt64 = 0
        var isLosing = false
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

    let configuration: BatchExportConfiguration
    private let state: Mutex<State>
    private let lane: ExportLane<Item>
    private let logger: Logger
    /// Queued items that wake the exporting task: a full batch, or any item when there is no schedule delay.
    private let wakeCount: Int
    /// "Span queue", "Log record queue": for the log lines that say when loss starts and stops.
    private let queueName: String

    init(target: ExportTarget<Item>, configuration: BatchExportConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        queueName = "\(target.itemName) queue"
        lane = ExportLane(
            target: target, exportTimeout: configuration.exportTimeout > .zero ? configuration.exportTimeout : nil,
            logger: logger)
        wakeCount = configuration.scheduleDelay > .zero ? configuration.maximumExportBatchSize : 1
        state = Mutex(State(queue: RingBuffer<Item>(capacity: configuration.maximumQueueSize)))
    }

    /// Items dropped so far because the queue was full or the queue was shut down.
    var droppedCount: UInt64 { state.withLock { $0.droppedCount } }

    /// Items queued so far (not dropped).
    var queuedCount: UInt64 { state.withLock { $0.enqueuedCount } }

    /// True while the exporting task waits for a full batch, a flush or the schedule delay.
    var isWaitingForWork: Bool { state.withLock { $0.workerContinuation != nil } }

    /// Items whose export has completed (successfully or not).
    var processedCount: UInt64 { lane.progress.processed }

    /// Items whose export failed or timed out.
    var failedCount: UInt64 { lane.progress.failed }

    /// Queues `item` without blocking and without allocating; drops and counts it when the queue is full.
    func enqueue(_ item: Item) {
        let wakeCount = self.wakeCount
        var transition = LossTransition.none
        let worker: CheckedContinuation<Void, Never>? = state.withLock { state in
            // After shutdown (an application logging as it exits) items are counted, not warned about: the warning
            // would come with every clean stop.
            guard !state.isShutdown else {
                state.droppedCount += 1
                return nil
            }
            guard state.queue.append(item) else {
                state.droppedCount += 1
                if !state.isLosing {
                    state.isLosing = true
                    state.droppedCountWhenLossStarted = state.droppedCount - 1
                    transition = .started
                }
                return nil
            }
            state.enqueuedCount += 1
            if state.isLosing {
                state.isLosing = false
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
                "\(queueName) is full: dropping",
                metadata: ["otter.queue.capacity": "\(configuration.maximumQueueSize)"])
        case .stopped(let lost):
            logger.warning("\(queueName) accepts again", metadata: ["otter.dropped": "\(lost)"])
        }
    }

    /// Exports batches every schedule delay, or as soon as a full batch waits, until shutdown or cancellation.
    /// An export in flight when the task is cancelled runs to its end (or its timeout); ``shutdown(timeout:)``
    /// delivers the rest.
    func run() async {
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

    /// Waits until every item queued before the call has been handed to the exporter (and the exporter has
    /// flushed what it buffers), or `timeout` passes, or the calling task is cancelled. True when all of those
    /// items were delivered; false when an export of any of them failed or timed out, or the wait ended first.
    func forceFlush(timeout: Duration) async -> Bool {
        // A turn of its own exports what is queued (in turn with the exporting task, if it runs), then asks the
        // exporter to flush what it buffers.
        await lane.forceFlush(through: state.withLock { $0.enqueuedCount }, timeout: timeout) { self.nextBatch(drain: true) }
    }

    /// Stops accepting items, exports what is queued, then shuts the exporter down after the last export. Waits
    /// for all of that at most `timeout`, even when the calling task is cancelled (a `ServiceGroup` that is
    /// shutting down because another service failed still gets what explains the failure); what is
    /// still running then finishes in the background, and the exporter is never shut down under an export. A
    /// second call waits for the first one's work, with its own timeout.
    func shutdown(timeout: Duration) async {
        state.withLock { $0.isShutdown = true }
        requestDrain()
        if await !lane.shutDown(timeout: timeout, { self.nextBatch(drain: true) }) {
            logger.warning(
                "Shutdown timed out before everything queued was exported",
                metadata: ["otter.pending": "\(queuedCount - processedCount)"])
        }
    }

    /// The next batch to export: a full one, or with `drain` whatever is queued (up to a batch).
    private func nextBatch(drain: Bool) -> [Item] {
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

    /// Suspends until a full batch waits (any item, without a schedule delay), a flush or shutdown asks, the
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
