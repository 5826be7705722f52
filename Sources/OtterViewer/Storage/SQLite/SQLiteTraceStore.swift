import Foundation
import GRDB
import Synchronization

/// Spans in one SQLite file (GRDB, WAL), stored the way column stores do it rather than a row per span:
///
/// - `span_block`: each write becomes blocks of at most 512 spans that started within the
///   same hour, each block one OTLP `ExportTraceServiceRequest`, deflated. Resources are written once per block.
/// - Small indexes point into the blocks: `trace_block` (trace id → blocks), `term_block` (a hash of
///   service + attribute key + value → blocks, for span and resource attributes), `operation_block` (per
///   block and operation: time range, duration range and error count, which prune searches), `operation`
///   (the service and operation lists), and the call tables that the dependency graph joins.
///
/// Searches pick candidate blocks from the indexes, most recent first, then decode them and check each span
/// against every condition, so index false positives (hash collisions, tags matched by different spans of a
/// block) never reach an answer. Retention deletes whole blocks, so it works at one-hour granularity.
public final class SQLiteTraceStore: TraceStore {
    let database: any DatabaseWriter
    /// The database file, nil for an in-memory store.
    public let path: String?
    /// Recently decoded blocks: a search, the summaries of its results and a trace page read the same blocks.
    let decodedBlocks = Mutex(DecodedBlockCache())
    /// Set when a write failed for lack of space (disk full, or the database at its page limit); retention then
    /// frees space before anything else (``RetentionService``).
    let outOfSpace = Atomic<Bool>(false)
    /// The size bound and the reserve, once a ``RetentionService`` set them (see ``limitSize(to:)``).
    let spaceLimit = Mutex<SpaceLimit?>(nil)
    /// True while a pass of ``makeRoom(for:outOfSpace:)`` runs: one at a time, a second caller does not delete twice.
    let isMakingRoom = Atomic<Bool>(false)
    /// True while such a pass has given the reserve file back: that space is for its deletions, so writes wait.
    let isUsingReserve = Atomic<Bool>(false)
    /// What the largest recent write took on disk (its write-ahead log and the database's growth), fading by a
    /// sixty-fourth per write: the room the next write is assumed to need (``writeMakingRoom(bytes:_:)``).
    let recentWriteDiskBytes = Mutex(0)
    /// Blocks read from the database and scanned so far (cache misses), for tests and diagnostics.
    let scannedBlocks = Atomic<Int>(0)
    var scannedBlockCount: Int { scannedBlocks.load(ordering: .relaxed) }
    /// Writes waiting for the next commit (see ``write(_:)``).
    let pendingWrites = Mutex(PendingWrites())
    /// The spans stored most recently, to recognise an exporter's retry (counted once in the span metrics).
    let recentSpans = Mutex(RecentSpans())

    /// The trace and term indexes are keyed by segment (16 consecutive blocks) first, so that inserts land in
    /// the newest segment's small part of the B-tree instead of random pages of the whole index: ingest stays
    /// fast as the store grows. A lookup seeks once per segment.
    static let blocksPerSegmentShift = 4
    static func segment(ofBlock blockID: Int64) -> Int64 { blockID >> Int64(blocksPerSegmentShift) }
    static var nanosecondsPerMinute: UInt64 { OperationMinute.nanosecondsPerMinute }

    /// A block never holds more spans than this: reading one trace decodes whole blocks.
    package static let maximumSpansPerBlock = 512
    static let blockTimeSpanNanoseconds: UInt64 = 3_600_000_000_000

    /// Opens (creating and migrating if needed) the store at `path`; `":memory:"` keeps it in memory.
    public convenience init(path: String) throws {
        // The database is opened before the store exists: a designated initializer that throws while this class's
        // atomics are set up crashes the Swift 6.3 optimizer (CopyPropagation, "Found ownership error") in release.
        let database = try Self.open(path: path)
        self.init(database: database, path: path == ":memory:" ? nil : path)
        try Self.migrator.migrate(database)
    }

    private init(database: any DatabaseWriter, path: String?) {
        self.database = database
        self.path = path
    }

    /// The database at `path` (in memory for `":memory:"`), with the store's settings.
    private static func open(path: String) throws -> any DatabaseWriter {
        if path == ":memory:" { return try DatabaseQueue() }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 32 MB of page cache per connection: the newest index segments stay in memory while ingesting.
            try db.execute(sql: "PRAGMA cache_size = -32768")
        }
        let database = try DatabasePool(path: path, configuration: configuration)
        // Incremental auto-vacuum lets retention give freed pages back to the file system (`PRAGMA
        // incremental_vacuum`). In WAL mode only a VACUUM turns it on: done here for a new or small database
        // (under 64 MB, a fraction of a second); a larger one made by an older version keeps its mode.
        try database.writeWithoutTransaction { db in
            let mode = try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") ?? 0
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            if mode != 2, pages * pageSize < 64 << 20 {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
            }
        }
        return database
    }
}
