import Logging
import Otter
import ServiceLifecycle
import Tracing

/// Keeps the store bounded. It sets the store's size bound (``SQLiteTraceStore/limitSize(to:)``), which every write
/// then checks, making room before it writes; every `interval` it also checks, cheaply, whether the store is over
/// `maximumBytes` (pages in use plus the write-ahead log) or a write failed for lack of space, and then deletes the oldest
/// tenth of the blocks until it fits (of the span blocks and of the log record blocks alike); every `retentionInterval`
/// it deletes spans and log records older than `retention`. When the disk itself is full, the store first gives its
/// reserve file back and truncates the write-ahead log so that the deletion can run, so ingest recovers by itself.
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
        store.limitSize(to: maximumBytes)
    }

    package func run() async throws {
        do {
            try await store.applySpaceLimit()
        } catch {
            logger.warning("setting the store's write-ahead log bound failed", metadata: ["error": "\(error)"])
        }
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

    /// One pruning pass; returns the number of spans and log records deleted.
    @discardableResult
    package func pruneOnce(nowNanoseconds: UInt64, byAge: Bool = true) async throws -> Int {
        // Room first: when the disk is full, deleting by age needs the room that the reserve and the log give back.
        var deleted = try await store.makeRoom(outOfSpace: store.takeOutOfSpace())
        if byAge, let retention {
            let retentionNanoseconds = UInt64(clamping: max(retention.clampedNanoseconds, 1))
            let cutoff = nowNanoseconds - min(nowNanoseconds, retentionNanoseconds)
            let old = try await store.deleteSpans(startedBefore: cutoff) + store.deleteLogs(before: cutoff)
            if old > 0 { try? await store.checkpoint() }
            deleted += old
        }
        if deleted > 0 { logger.info("pruned the store", metadata: ["spans and log records": "\(deleted)"]) }
        return deleted
    }
}

extension SQLiteTraceStore: SelfBoundingStore {
    /// A ``RetentionService``: it sets the size bound that every write checks from now on.
    package func boundingService(retention: Duration?, maximumBytes: Int?, logger: Logger) -> any Service {
        RetentionService(store: self, retention: retention, maximumBytes: maximumBytes ?? .max, logger: logger)
    }
}
