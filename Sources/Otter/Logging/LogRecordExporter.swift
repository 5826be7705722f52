/// Sends log records somewhere: the console, an OTLP endpoint, memory. Implement it to add a destination.
///
/// Processors never call `export` concurrently, and they bound each call by their export timeout (cancelling
/// the task), so an exporter should honour task cancellation.
public protocol LogRecordExporter: Sendable {
    /// Delivers one batch. Throw to report a failed delivery; the processor logs it and moves on.
    func export(_ batch: [OtterLogRecord]) async throws
    /// Delivers anything the exporter itself buffers.
    func forceFlush() async throws
    /// Releases the exporter's resources; later exports may fail.
    func shutdown() async
}

extension LogRecordExporter {
    /// Returns at once: an exporter that buffers nothing leaves `forceFlush` out.
    public func forceFlush() async throws {}
    /// Does nothing: an exporter with nothing to release leaves `shutdown` out.
    public func shutdown() async {}
}

/// Keeps exported log records in memory, for tests and for reading records back in-process.
public final class InMemoryLogRecordExporter: LogRecordExporter {
    private let storage = LockedValue<[OtterLogRecord]>([])

    /// Makes an empty exporter.
    public init() {}

    /// Appends the batch to ``exportedLogRecords``; never throws, and keeps accepting records after a shutdown.
    public func export(_ batch: [OtterLogRecord]) async throws {
        storage.withValue { $0.append(contentsOf: batch) }
    }

    /// Every record exported so far, in export order.
    public var exportedLogRecords: [OtterLogRecord] { storage.withValue { $0 } }

    /// Forgets the records exported so far.
    public func reset() {
        storage.withValue { $0.removeAll() }
    }
}

extension ExportTarget where Item == OtterLogRecord {
    static func logRecords(_ exporter: any LogRecordExporter) -> Self {
        Self(
            export: { try await exporter.export($0) }, forceFlush: { try await exporter.forceFlush() },
            shutdown: { await exporter.shutdown() }, itemName: "Log record", countKey: "otter.log_records")
    }
}
