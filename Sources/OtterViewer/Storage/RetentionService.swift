import Logging
import ServiceLifecycle
import Tracing

/// Keeps the store bounded: every `interval`, deletes spans older than `retention`, then, while the database is
/// larger than `maximumBytes`, deletes the oldest tenth of the remaining time range. Never unbounded growth.
public struct RetentionService: Service {
    public let store: SQLiteTraceStore
    public let retention: Duration
    public let maximumBytes: Int
    public let interval: Duration
    let logger: Logger

    public init(store: SQLiteTraceStore, retention: Duration, maximumBytes: Int, interval: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.retention = retention
        self.maximumBytes = maximumBytes
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await pruneOnce(nowNanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch)
            } catch {
                logger.warning("pruning the store failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One pruning pass; returns the number of spans deleted.
    @discardableResult
    public func pruneOnce(nowNanoseconds: UInt64) async throws -> Int {
        let (seconds, attoseconds) = retention.components
        let retentionNanoseconds = UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        var deleted = try await store.deleteSpans(startedBefore: nowNanoseconds - min(nowNanoseconds, retentionNanoseconds))
        while try await store.sizeInBytes() > maximumBytes, let oldest = try await store.oldestStartTime() {
            // The oldest tenth of the time range, but at least the oldest block: deletion works block by block.
            let cutoff = max(
                oldest + max(1, (nowNanoseconds - min(nowNanoseconds, oldest)) / 10),
                try await store.earliestEffectiveDeletionCutoff() ?? 0)
            let removed = try await store.deleteSpans(startedBefore: cutoff)
            deleted += removed
            if removed == 0 { break }
        }
        return deleted
    }
}
