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
    public func run() async {}
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool { true }
    public func shutdown(timeout: Duration) async {}
}

/// Exports each record as it is emitted, one at a time and in order. Meant for the console and for tests; use
/// ``BatchLogRecordProcessor`` for network exporters. `onEmit` never waits for the export (records wait in a bounded
/// list; more are dropped and counted), the exporter is never called concurrently, and ``forceFlush(timeout:)``
/// waits for every record emitted before it and says whether all were delivered.
public final class SimpleLogRecordProcessor: LogRecordProcessor {
    public let exporter: any LogRecordExporter
    private let queue: SimpleExportQueue<OtterLogRecord>

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

    public func onEmit(_ record: OtterLogRecord) {
        queue.enqueue(record)
    }

    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await queue.forceFlush(timeout: timeout)
    }

    public func shutdown(timeout: Duration) async {
        await queue.shutdown(timeout: timeout)
    }
}

/// Queues records and exports them in batches from one background task (``run()``), exactly as
/// ``BatchSpanProcessor`` does for spans (the same queue and export lane): `onEmit` never blocks, full batches go
/// as they fill and the rest every schedule delay (`OTEL_BLRP_SCHEDULE_DELAY`, 1 s), a full queue drops and counts,
/// exports never overlap, and flush and shutdown wait and tell the truth.
public final class BatchLogRecordProcessor: LogRecordProcessor {
    public let exporter: any LogRecordExporter
    private let queue: BatchExportQueue<OtterLogRecord>

    public init(
        exporter: any LogRecordExporter,
        configuration: BatchExportConfiguration = .logRecordDefaults,
        logger: Logger = Logger(label: "otter.batch-log-record-processor")
    ) {
        self.exporter = exporter
        queue = BatchExportQueue(target: .logRecords(exporter), configuration: configuration, logger: logger)
    }

    public var configuration: BatchExportConfiguration { queue.configuration }

    /// Records dropped so far because the queue was full or the processor was shut down.
    public var droppedLogRecordCount: UInt64 { queue.droppedCount }

    /// Records queued so far.
    public var queuedLogRecordCount: UInt64 { queue.queuedCount }

    /// Records whose export has completed (successfully or not).
    public var processedLogRecordCount: UInt64 { queue.processedCount }

    /// Records whose export failed or timed out.
    public var failedLogRecordCount: UInt64 { queue.failedCount }

    public func onEmit(_ record: OtterLogRecord) {
        queue.enqueue(record)
    }

    public func run() async {
        await queue.run()
    }

    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await queue.forceFlush(timeout: timeout)
    }

    public func shutdown(timeout: Duration) async {
        await queue.shutdown(timeout: timeout)
    }
}

/// Hands each record to several processors in order.
public struct MultiLogRecordProcessor: LogRecordProcessor {
    public let processors: [any LogRecordProcessor]

    public init(_ processors: [any LogRecordProcessor]) {
        self.processors = processors
    }

    public func onEmit(_ record: OtterLogRecord) {
        for processor in processors { processor.onEmit(record) }
    }

    public func run() async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.run() } })
    }

    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await ProcessorFanOut.allSucceed(processors.map { processor in { await processor.forceFlush(timeout: timeout) } })
    }

    public func shutdown(timeout: Duration) async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.shutdown(timeout: timeout) } })
    }
}
