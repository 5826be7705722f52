import Foundation
import GRDB

/// A write the store refused because the disk has no room for it, even after the oldest data was deleted. The
/// receivers answer 503 with `Retry-After` (UNAVAILABLE over gRPC), which OTLP exporters retry: nothing is
/// acknowledged that was not stored.
package struct StoreFullError: Error, CustomStringConvertible {
    package var description: String
}

extension SQLiteTraceStore {
    /// The store's size bound: the database and its write-ahead log stay within `maximumBytes`, `reserveBytes` of
    /// which are a reserve file given back when the disk is full; the write-ahead log is copied back into the database
    /// whenever it reaches `walPages` pages, and truncated to that size afterwards.
    struct SpaceLimit: Sendable {
        var maximumBytes: Int
        var reserveBytes: Int
        var walPages: Int
    }

    /// Room kept free on the disk beyond what a write needs, so that deleting (which writes to the write-ahead log
    /// too) can always run: 1 MB, twice the write-ahead log's checkpoint size (the log grows to it before it is copied
    /// back, and copying it back can grow the database by as much), or two fifths of the database file, whichever is
    /// most: deleting the oldest tenth rewrote 38 % of a 12 MB store's pages into the log (index rows of old blocks lie
    /// all over the file), and a disk that cannot take that log can neither delete nor write again.
    var diskHeadroomBytes: Int {
        let databaseBytes = path.map { Self.fileSize($0) } ?? 0
        return max(1 << 20, 2 * (spaceLimit.withLock { $0?.walPages } ?? 1000) * 4096, databaseBytes / 5 * 2)
    }

    /// Bounds the store at `maximumBytes` (`Int.max`: no bound; a full disk is recovered all the same): the reserve
    /// is 4 MB or an eighth of the bound, whichever is smaller, and the write-ahead log is checkpointed at a
    /// sixteenth of the bound (between 16 pages and SQLite's default 1,000), so the log cannot double the store.
    /// ``applySpaceLimit()`` puts the log settings into effect; writes check the bound from now on.
    /// A bound larger than the store's file system is the file system's size: the reserve and the log's checkpoint
    /// size must fit the disk (a 1 GB bound on an 8 MB disk asked for 12 MB of room and deleted everything).
    package func limitSize(to maximumBytes: Int) {
        let bound = min(max(maximumBytes, 0), fileSystemBytes() ?? .max)
        let reserve = path == nil ? 0 : min(Self.reserveBytes, bound / 8)
        let walPages = min(max(bound / 16 / 4096, 16), 1000)
        spaceLimit.withLock { $0 = SpaceLimit(maximumBytes: bound, reserveBytes: reserve, walPages: walPages) }
    }

    /// Applies the size bound's write-ahead log settings to the writing connection and makes the reserve file.
    package func applySpaceLimit() async throws {
        guard let limit = spaceLimit.withLock({ $0 }) else { return }
        try await database.writeWithoutTransaction { db in
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(limit.walPages)")
            try db.execute(sql: "PRAGMA journal_size_limit = \(limit.walPages * pageSize)")
        }
        makeReserve(bytes: limit.reserveBytes)
    }

    /// The database and write-ahead log files' sizes (two `stat` calls: cheap enough to ask before every write).
    func fileBytes() -> Int {
        guard let path else { return 0 }
        return Self.fileSize(path) + Self.fileSize(path + "-wal")
    }

    /// The size of the store's file system, nil for an in-memory store or when the system does not say.
    func fileSystemBytes() -> Int? {
        guard let path else { return nil }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory)
        return (attributes?[.systemSize] as? NSNumber).map { Int(clamping: $0.int64Value) }
    }

    /// Free bytes on the store's file system, nil for an in-memory store or when the system does not say.
    func freeDiskBytes() -> Int? {
        guard let path else { return nil }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory)
        return (attributes?[.systemFreeSize] as? NSNumber).map { Int(clamping: $0.int64Value) }
    }

    /// Writes in one transaction what `insert` writes, about `bytes` of it, after making room when the files would
    /// pass the size bound or the disk has less room than the write needs (the oldest data goes first, as retention
    /// deletes it). When the disk fills up all the same (another program wrote to it), frees space once and tries
    /// again. Throws ``StoreFullError`` when the disk has no room even then.
    func writeMakingRoom(bytes: Int, _ insert: @escaping @Sendable (Database) throws -> Void) async throws {
        // What a write takes on disk: its blocks, the index rows beside them and their pages in the write-ahead log,
        // which can be many times the blocks' deflated bytes (a commit of 4,096 spans wrote 4 MB of log for 150 KB of
        // blocks): at least what the largest recent write took.
        let needed = max(min(bytes, Int.max / 4) * 3, recentWriteDiskBytes.withLock { $0 })
        // While room is being made with the reserve given back, that space is for the deletions, not for new data.
        if isUsingReserve.load(ordering: .acquiring) {
            throw StoreFullError(description: "the store is making room for new data: retry shortly")
        }
        let limit = spaceLimit.withLock { $0 }
        let overBound = limit.map { fileBytes() + needed + $0.reserveBytes > $0.maximumBytes } ?? false
        if overBound || diskShort(of: needed) {
            _ = try await makeRoom(for: needed, outOfSpace: false)
            if let free = freeDiskBytes(), free < needed {
                outOfSpace.store(true, ordering: .relaxed)
                throw StoreFullError(description: "the disk has \(free) bytes free, the write needs about \(needed): retry later")
            }
        }
        do {
            try await writeMeasuringDisk(insert)
        } catch  where Self.isOutOfSpace(error) {
            _ = try? await makeRoom(for: needed, outOfSpace: true)
            do {
                try await writeMeasuringDisk(insert)
            } catch {
                if Self.isOutOfSpace(error) { outOfSpace.store(true, ordering: .relaxed) }
                throw error
            }
        }
    }

    /// Writes `insert` and remembers what it took on disk: the write-ahead log right after the commit (it is truncated
    /// only when the next write begins, so its size is this write's log, or more) and the database's growth.
    private func writeMeasuringDisk(_ insert: @escaping @Sendable (Database) throws -> Void) async throws {
        guard let path else { return try await database.write(insert) }
        let databaseBefore = Self.fileSize(path)
        try await database.write(insert)
        let taken = Self.fileSize(path + "-wal") + max(0, Self.fileSize(path) - databaseBefore)
        recentWriteDiskBytes.withLock { recent in recent = max(taken, recent - recent / 64) }
    }

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber ?? 0).intValue
    }

    /// Deletes the oldest blocks, a tenth of the span blocks and of the log record blocks at a time, until the store
    /// plus `incomingBytes` fits the size bound (reserve included) and the disk has room for `incomingBytes`. When
    /// the disk is full or short of that room (or `outOfSpace`: a write failed for lack of space), it first gives the
    /// reserve file back and truncates the write-ahead log, so that the deletions have room to run, and makes the
    /// reserve again after (the disk must then have room for it too). One pass at a time: a caller that finds one
    /// running returns 0 and checks again. Returns the spans and log records deleted.
    package func makeRoom(for incomingBytes: Int = 0, outOfSpace: Bool) async throws -> Int {
        guard !isMakingRoom.exchange(true, ordering: .acquiring) else { return 0 }
        defer { isMakingRoom.store(false, ordering: .releasing) }
        let limit = spaceLimit.withLock { $0 }
        let reserve = limit?.reserveBytes ?? Self.reserveBytes
        var reserveReleased = false
        func releaseReserveAndLog() async {
            guard !reserveReleased else { return }
            reserveReleased = true
            isUsingReserve.store(true, ordering: .releasing)
            releaseReserve()
            try? await checkpoint()
        }
        if outOfSpace || diskShort(of: incomingBytes) { await releaseReserveAndLog() }
        defer {
            if reserveReleased {
                makeReserve(bytes: reserve)
                isUsingReserve.store(false, ordering: .releasing)
            }
        }
        var deleted = 0
        while try await needsRoom(for: incomingBytes, limit: limit, reserveToRemake: reserveReleased ? reserve : 0) {
            let removed: Int
            do {
                removed = try await deleteOldestTenth()
            } catch  where Self.isOutOfSpace(error) && !reserveReleased {
                // The disk filled up under us: the deletion needs the reserve's room after all.
                await releaseReserveAndLog()
                continue
            }
            try await checkpoint()
            deleted += removed
            if removed == 0 { break }
        }
        return deleted
    }

    private func diskShort(of incomingBytes: Int) -> Bool {
        (freeDiskBytes() ?? .max) < incomingBytes + diskHeadroomBytes
    }

    private func needsRoom(for incomingBytes: Int, limit: SpaceLimit?, reserveToRemake: Int) async throws -> Bool {
        if let limit, try await sizeInBytes() + limit.reserveBytes + incomingBytes > limit.maximumBytes { return true }
        return diskShort(of: incomingBytes + reserveToRemake)
    }

    /// Deletes the oldest tenth of the span blocks and of the log blocks (at least one of each); returns the number
    /// of spans and log records deleted.
    private func deleteOldestTenth() async throws -> Int {
        let spans = try await deleteOldestBlocks(max(try await storedBlockCount() / 10, 1))
        let logRecords = try await deleteOldestLogBlocks(max(try await storedLogBlockCount() / 10, 1))
        return spans + logRecords
    }
}
