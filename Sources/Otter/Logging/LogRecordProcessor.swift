import Logging

/// Sees every emitted log record. Implement it to enrich, filter or route records.
///
/// `onEmit` runs on the logging code's thread: it must not block.
public protocol LogRecordProcessor: Sendable {
    /// Called once for each record.
    func onEmit(_ record: OtterLogRecord)
    /// Runs the processor's background work, if it has any, until `shutdown` or cancellation.
    func run() async
    /// Returns once every record emitted before the call has been handed to the exporter, or when `timeout`
    /// passes. Returns whether everything was exported in time.
    @discardableResult
    func forceFlush(timeout: Duration) async -> Bool
    /// Flushes, then shuts down the exporter; records emitted afterwards are dropped.
    func shutdown(timeout: Duration) async
}

extension LogRecordProcessor {
    /// Returns at once: a processor without background work leaves `run` out.
    public func run() async {}
    /// Returns true at once: a processor that holds no records leaves `forceFlush` out.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool { true }
    /// Does nothing: a processor with nothing to release leaves `shutdown` out.
    public func shutdown(timeout: Duration) async {}
}

/// Exports each record as it is emitted, one at a time and in order. Meant for the console and for tests; use
/// ``BatchLogRecordProcessor`` for network exporters. `onEmit` never waits for the export (records wait in a bounded
/// list; more are dropped and counted), the exporter is never called concurrently, and ``forceFlush(timeout:)``
/// waits for every record emitted before it and says whether all were delivered.
public final class SimpleLogRecordProcessor: LogRecordProcessor {
    /// Where the records go, one at a time.
    public let exporter: any LogRecordExporter
    private let queue: SimpleExportQueue<OtterLogRecord>

    /// Makes a processor that sends each record to `exporter`. At most `maximumPendingCount` records wait, more are
    /// dropped and counted; an export running longer than `exportTimeout` is cancelled (zero, less or nil: no limit);
    /// `logger` says when an export fails or times out. Needs no `run()`.
    public init(
        exporter: any LogRecordExporter,
        maximumPendingCount: Int = 2048,
        exportTimeout: Duration? = .seconds(30),
        logger: Logger = Logger(label: "otter.simple-log-record-processor")
    ) {
        self.exporter = exporter
        queue = SimpleExportQueue(
            target: .logRecords(exporter), maximumPendingCount: maximumPendingCount, exportTimeout: exportTimeout,
            logger: logger)
    }

    /// Records dropped because too many were waiting or the processor was shut down.
    public var droppedLogRecordCount: UInt64 { queue.droppedCount }

    /// Records whose export failed or timed out.
    public var failedLogRecordCount: UInt64 { queue.failedCount }

    /// Queues the record for export without waiting for it; drops and counts it when too many records are waiting or
    /// the processor is shut down.
    public func onEmit(_ record: OtterLogRecord) {
        queue.enqueue(record)
    }

    /// Waits until every record emitted before the call has been exported (and the exporter has flushed what it
    /// buffers), or `timeout` passes, or the calling task is cancelled. True when all of them were delivered.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await queue.forceFlush(timeout: timeout)
    }

    /// Stops accepting records, exports what is pending, then shuts the exporter down after the last export; waits for
    /// that at most `timeout`, even when the calling task is cancelled.
    public func shutdown(timeout: Duration) async {
        await queue.shutdown(timeout: timeout)
    }
}

/// Queues records and exports them in batches from one background task (``run()``), exactly as
/// ``BatchSpanProcessor`` does for spans (the same queue and export lane): `onEmit` never blocks, full batches go
/// as they fill and the rest every schedule delay (`OTEL_BLRP_SCHEDULE_DELAY`, 1 s), a full queue drops and counts,
/// exports never overlap, and flush and shutdown wait and tell the truth.
public final class BatchLogRecordProcessor: LogRecordProcessor {
    /// Where the batches go; called with one batch at a time.
    public let exporter: any LogRecordExporter
    private let queue: BatchExportQueue<OtterLogRecord>

    /// Makes a processor that sends records to `exporter` in batches, as `configuration` says (the `OTEL_BLRP_*`
    /// defaults); `logger` reports when records start and stop being dropped. Nothing is exported until ``run()`` runs
    /// (or a flush or shutdown).
    public init(
        exporter: any LogRecordExporter,
        configuration: BatchExportConfiguration = .logRecordDefaults,
        logger: Logger = Logger(label: "otter.batch-log-record-processor")
    ) {
        self.exporter = exporter
        queue = BatchExportQueue(target: .logRecords(exporter), configuration: configuration, logger: logger)
    }

    /// The queue and batch settings in effect, after the initializer clamped sizes into range.
    public var configuration: BatchExportConfiguration { queue.configuration }

    /// Records dropped so far because the queue was full or the processor was shut down.
    public var droppedLogRecordCount: UInt64 { queue.droppedCount }

    /// Records queued so far.
    public var queuedLogRecordCount: UInt64 { queue.queuedCount }

    /// Records whose export has completed (successfully or not).
    public var processedLogRecordCount: UInt64 { queue.processedCount }

    /// Records whose export failed or timed out.
    public var failedLogRecordCount: UInt64 { queue.failedCount }

    /// Queues the record without blocking; drops and counts it when the queue is full or the processor is shut down.
    public func onEmit(_ record: OtterLogRecord) {
        queue.enqueue(record)
    }

    /// Exports batches every schedule delay, or as soon as a full batch waits, until shutdown or cancellation.
    public func run() async {
        await queue.run()
    }

    /// Waits until every record queued before the call has been handed to the exporter (and the exporter has flushed
    /// what it buffers), or `timeout` passes, or the calling task is cancelled. True when all of them were delivered.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await queue.forceFlush(timeout: timeout)
    }

    /// Stops accepting records, exports what is queued, then shuts the exporter down after the last export. Waits at
    /// most `timeout`, even when the calling task is cancelled; what still runs then finishes in the background.
    public func shutdown(timeout: Duration) async {
        await queue.shutdown(timeout: timeout)
    }
}

/// Hands each record to several processors in order.
public struct MultiLogRecordProcessor: LogRecordProcessor {
    /// The processors, in the order `onEmit` calls them.
    public let processors: [any LogRecordProcessor]

    /// Makes a processor that hands each record to `processors`, in order.
    public init(_ processors: [any LogRecordProcessor]) {
        self.processors = processors
    }

    /// Calls each processor's `onEmit` in order, with the same record.
    public func onEmit(_ record: OtterLogRecord) {
        for processor in processors { processor.onEmit(record) }
    }

    /// Runs every processor's `run()` concurrently and returns when all of them have returned.
    public func run() async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.run() } })
    }

    /// Flushes every processor concurrently, each with `timeout`; true when all of them flushed everything.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await ProcessorFanOut.allSucceed(processors.map { processor in { await processor.forceFlush(timeout: timeout) } })
    }

    /// Shuts every processor down concurrently, each with `timeout`, and returns when all of them are done.
    public func shutdown(timeout: Duration) async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.shutdown(timeout: timeout) } })
    }
}
