import Logging
import Otter
import ServiceLifecycle
import Tracing

/// Keeps the store bounded. Every `interval` it checks, cheaply, whether the store is over `maximumBytes` (pages in
/// use plus the write-ahead log) or a write failed for lack of space, and then deletes the oldest tenth of the blocks
/// until it fits (of the span blocks and of the log record blocks alike); every `retentionInterval` it also deletes spans
/// and log records older than `retention`. When the disk itself is
/// full, it first gives the store's reserve file back so that the deletion can run, so ingest recovers by itself.
package struct RetentionService: Service {
    package let store: SQLiteTraceStore
    /// Nil keeps spans of every age.
    package let retention: Duration?
    package let maximumBytes: Int
    package let interval: Duration
    package let retentionInterval: Duration
    let logger: Logger

    package init(
        store: SQLiteTraceStore, retention: Duration?, maximumBytes: Int, interval: Duration = .seconds(2),
        retentionInterval: Duration = .seconds(60), logger: Logger
    ) {
        self.store = store
        self.retention = retention
        self.maximumBytes = maximumBytes
        self.interval = interval
        self.retentionInterval = retentionInterval
        self.logger = logger
    }

    /// The reserve file kept for a full disk: 4 MB, or an eighth of the size bound if that is smaller; it counts
    /// against the bound.
    var reserveBytes: Int { store.path == nil ? 0 : min(SQLiteTraceStore.reserveBytes, maximumBytes / 8) }

    package func run() async throws {
        store.makeReserve(bytes: reserveBytes)
        let clock = ContinuousClock()
        var nextRetentionPass = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let byAge = clock.now >= nextRetentionPass
            if byAge { nextRetentionPass = clock.now.advanced(by: retentionInterval) }
            do {
                try await pruneOnce(nowNanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch, byAge: byAge)
            } catch {
                logger.warning("pruning the store failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Deletes the oldest tenth of the span blocks and of the log blocks (at least one of each); returns the number of
    /// spans and log records deleted.
    private func deleteOldestTenth() async throws -> Int {
        let spans = try await store.deleteOldestBlocks(max(try await store.storedBlockCount() / 10, 1))
        let logRecords = try await store.deleteOldestLogBlocks(max(try await store.storedLogBlockCount() / 10, 1))
        return spans + logRecords
    }

    /// One pruning pass; returns the number of spans and log records deleted.
    @discardableResult
    package func pruneOnce(nowNanoseconds: UInt64, byAge: Bool = true) async throws -> Int {
        let outOfSpace = store.takeOutOfSpace()
        if outOfSpace {
            // Deleting needs room in the write-ahead log: give back the reserve first.
            store.releaseReserve()
        }
        var deleted = 0
        if byAge, let retention {
            let retentionNanoseconds = UInt64(clamping: max(retention.clampedNanoseconds, 1))
            let cutoff = nowNanoseconds - min(nowNanoseconds, retentionNanoseconds)
            deleted += try await store.deleteSpans(startedBefore: cutoff)
            deleted += try await store.deleteLogs(before: cutoff)
        }
        if outOfSpace && deleted == 0 {
            deleted += try await deleteOldestTenth()
        }
        while try await store.sizeInBytes() + reserveBytes > maximumBytes {
            let removed = try await deleteOldestTenth()
            try await store.checkpoint()
            deleted += removed
            if removed == 0 { break }
        }
        if deleted > 0 || outOfSpace { try? await store.checkpoint() }
        if outOfSpace { store.makeReserve(bytes: reserveBytes) }
        if deleted > 0 { logger.info("pruned the store", metadata: ["spans and log records": "\(deleted)"]) }
        return deleted
    }
}
