import Foundation
import GRDB

extension SQLiteTraceStore {
    package func deleteSpans(startedBefore cutoffNanoseconds: UInt64) async throws -> Int {
        try await deleteBlocks(
            where: "maxStartTime < ?", arguments: [Int64(clamping: cutoffNanoseconds)])
    }

    /// Deletes the `count` blocks whose spans are oldest (by latest start time, then by arrival), whatever their
    /// times: the size bound makes progress even when every span carries the same start time.
    package func deleteOldestBlocks(_ count: Int) async throws -> Int {
        try await deleteBlocks(
            where: "id IN (SELECT id FROM span_block ORDER BY maxStartTime, id LIMIT ?)", arguments: [max(count, 0)])
    }

    /// Deletes the log records whose blocks end before the cutoff; returns how many were deleted.
    package func deleteLogs(before cutoffNanoseconds: UInt64) async throws -> Int {
        try await deleteLogBlocks(where: "maxTime < ?", arguments: [Int64(clamping: cutoffNanoseconds)])
    }

    /// Deletes the `count` blocks of log records that are oldest (by their newest record, then by arrival).
    package func deleteOldestLogBlocks(_ count: Int) async throws -> Int {
        try await deleteLogBlocks(
            where: "id IN (SELECT id FROM log_block ORDER BY maxTime, id LIMIT ?)", arguments: [max(count, 0)])
    }

    /// The number of stored blocks of log records.
    package func storedLogBlockCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log_block") ?? 0 }
    }

    func deleteLogBlocks(where condition: String, arguments: StatementArguments) async throws -> Int {
        try await database.write { db -> Int in
            let doomed = try Row.fetchAll(db, sql: "SELECT id, recordCount FROM log_block WHERE \(condition)", arguments: arguments)
            guard !doomed.isEmpty else { return 0 }
            try Self.countUnforwarded(.logs, doomed: doomed.map { ($0["id"] as Int64, $0["recordCount"] as Int) }, db)
            for chunkStart in stride(from: 0, to: doomed.count, by: 1000) {
                let blockIDs = doomed[chunkStart..<min(chunkStart + 1000, doomed.count)].map { $0["id"] as Int64 }
                let idList = blockIDs.map(String.init).joined(separator: ",")
                let segments = Set(blockIDs.map(Self.segment(ofBlock:))).sorted().map(String.init).joined(separator: ",")
                try db.execute(
                    sql: """
                        DELETE FROM log_block WHERE id IN (\(idList));
                        DELETE FROM log_trace_block WHERE segment IN (\(segments)) AND blockID IN (\(idList));
                        DELETE FROM log_term_block WHERE segment IN (\(segments)) AND blockID IN (\(idList));
                        """)
            }
            // A service stays listed while a stored block has its records.
            let segments = try Self.logSegments(db)
            try db.execute(
                sql: """
                    DELETE FROM log_service WHERE NOT EXISTS
                        (SELECT 1 FROM log_term_block t WHERE t.segment IN (\(segments)) AND t.term = log_service.term)
                    """)
            return doomed.reduce(0) { $0 + ($1["recordCount"] as Int) }
        }
    }

    /// The number of stored blocks.
    package func storedBlockCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM span_block") ?? 0 }
    }

    func deleteBlocks(where condition: String, arguments: StatementArguments) async throws -> Int {
        let deleted = try await database.write { db -> Int in
            let doomed = try Row.fetchAll(
                db, sql: "SELECT id, minStartTime, maxStartTime, spanCount FROM span_block WHERE \(condition)", arguments: arguments)
            guard !doomed.isEmpty else { return 0 }
            try Self.countUnforwarded(.spans, doomed: doomed.map { ($0["id"] as Int64, $0["spanCount"] as Int) }, db)
            for chunkStart in stride(from: 0, to: doomed.count, by: 1000) {
                let chunk = Array(doomed[chunkStart..<min(chunkStart + 1000, doomed.count)])
                try db.execute(
                    sql: "DELETE FROM span_block WHERE id IN (\(chunk.map { String($0["id"] as Int64) }.joined(separator: ",")))")
                // Index rows are found through their segment or time keys, never by scanning whole tables.
                try Self.deleteIndexRows(of: chunk, db)
            }
            try db.execute(sql: "DELETE FROM operation WHERE id NOT IN (SELECT DISTINCT operationID FROM operation_block)")
            // Span metrics go with the minutes no stored span starts in any more (a minute partly deleted keeps its row).
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(minStartTime) FROM span_block")
            try db.execute(
                sql: "DELETE FROM operation_minute WHERE minute < ? OR operationID NOT IN (SELECT id FROM operation)",
                arguments: [oldest.map { $0 / Int64(OperationMinute.nanosecondsPerMinute) } ?? Int64.max])
            return doomed.reduce(0) { $0 + ($1["spanCount"] as Int) }
        }
        if deleted > 0 { decodedBlocks.withLock { $0.removeAll() } }
        return deleted
    }

    static func deleteIndexRows(of doomed: [Row], _ db: Database) throws {
        let blockIDs = doomed.map { $0["id"] as Int64 }
        let idList = blockIDs.map(String.init).joined(separator: ",")
        let segments = Set(blockIDs.map(Self.segment(ofBlock:))).sorted().map(String.init).joined(separator: ",")
        let earliest = doomed.map { $0["minStartTime"] as Int64 }.min() ?? 0
        let latest = doomed.map { $0["maxStartTime"] as Int64 }.max() ?? 0
        let minutes = (UInt64(max(earliest, 0)) / Self.nanosecondsPerMinute)...(UInt64(max(latest, 0)) / Self.nanosecondsPerMinute)
        try db.execute(
            sql: """
                DELETE FROM trace_block WHERE segment IN (\(segments)) AND blockID IN (\(idList));
                DELETE FROM term_block WHERE segment IN (\(segments)) AND blockID IN (\(idList));
                DELETE FROM operation_block WHERE blockID IN (\(idList));
                DELETE FROM service_call WHERE blockID IN (\(idList));
                DELETE FROM remote_child WHERE startTime BETWEEN \(earliest) AND \(latest) AND blockID IN (\(idList));
                DELETE FROM remote_parent WHERE minute BETWEEN \(minutes.lowerBound) AND \(minutes.upperBound) AND blockID IN (\(idList));
                """)
    }

    /// The bytes the store holds: pages in use times page size, plus the write-ahead log not yet checkpointed.
    package func sizeInBytes() async throws -> Int {
        let pagesInUse = try await database.read { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            return max(pages - free, 0) * pageSize
        }
        return pagesInUse + walBytes()
    }

    func walBytes() -> Int {
        guard let path else { return 0 }
        return ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
    }

    /// Whether a write failed for lack of space since the last call; clears the flag.
    package func takeOutOfSpace() -> Bool {
        outOfSpace.exchange(false, ordering: .relaxed)
    }

    static func isOutOfSpace(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_FULL || error.extendedResultCode == .SQLITE_IOERR_WRITE
            || error.resultCode == .SQLITE_IOERR
    }

    /// The largest reserve file: see ``makeReserve(bytes:)``.
    package static let reserveBytes = 4 << 20

    var reservePath: String? { path.map { $0 + ".reserve" } }

    /// Makes a reserve file of `bytes` next to the database if it is missing and
    /// there is room; false when it could not be made. It is deleted when the disk is full so that deleting spans
    /// (which needs room in the write-ahead log) can run, then made again.
    @discardableResult
    package func makeReserve(bytes: Int = reserveBytes) -> Bool {
        guard let reservePath, bytes > 0 else { return false }
        if FileManager.default.fileExists(atPath: reservePath) { return true }
        guard FileManager.default.createFile(atPath: reservePath, contents: nil), let handle = FileHandle(forWritingAtPath: reservePath)
        else {
            return false
        }
        defer { try? handle.close() }
        do {
            var remaining = bytes
            while remaining > 0 {
                try handle.write(contentsOf: Data(count: min(remaining, 1 << 20)))
                remaining -= min(remaining, 1 << 20)
            }
            try handle.synchronize()
            return true
        } catch {
            try? FileManager.default.removeItem(atPath: reservePath)
            return false
        }
    }

    /// Deletes the reserve file, giving its space to the database.
    package func releaseReserve() {
        if let reservePath { try? FileManager.default.removeItem(atPath: reservePath) }
    }

    /// Gives free pages back to the file system (where the database was made with incremental auto-vacuum), copies
    /// the write-ahead log into the database and truncates it: the files shrink to what the spans need.
    package func checkpoint() async throws {
        try await database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA incremental_vacuum") }
        guard let pool = database as? DatabasePool else { return }
        try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }
}
