import CompressNIO
import Foundation
import GRDB
import NIOCore

/// The store is forwarding's queue: blocks are written once and never changed, in ascending id order, and
/// `forward_state` keeps per signal the last block upstream acknowledged. A restart (or `kill -9`) resumes after
/// it; a block is sent again only if the viewer stopped between upstream's answer and the commit of the new mark.
extension SQLiteTraceStore: ForwardingQueue {
    static let forwardStateTable = """
        CREATE TABLE IF NOT EXISTS forward_state (
            signal TEXT PRIMARY KEY,
            acknowledged INTEGER NOT NULL,
            lostItems INTEGER NOT NULL
        ) WITHOUT ROWID
        """

    /// Starts (or resumes) forwarding `signal`: the first time for this store, from what arrives next (what is stored
    /// already is not sent); later, from the last acknowledged block.
    package func startForwarding(_ signal: ForwardedSignal) async throws -> ForwardProgress {
        try await database.write { db in
            try db.execute(
                sql:
                    "INSERT OR IGNORE INTO forward_state (signal, acknowledged, lostItems) SELECT ?, COALESCE(MAX(id), 0), 0 FROM \(signal.table)",
                arguments: [signal.rawValue])
        }
        return try await forwardProgress(signal)
    }

    package func forwardProgress(_ signal: ForwardedSignal) async throws -> ForwardProgress {
        try await database.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT acknowledged, lostItems FROM forward_state WHERE signal = ?", arguments: [signal.rawValue])
            let acknowledged = row?["acknowledged"] as Int64? ?? 0
            let pending =
                try Int64.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(\(signal.countColumn)), 0) FROM \(signal.table) WHERE id > ?", arguments: [acknowledged])
                ?? 0
            return ForwardProgress(acknowledgedBlockID: acknowledged, lostItems: row?["lostItems"] as Int64? ?? 0, pendingItems: pending)
        }
    }

    /// The id of the newest stored block of `signal` (0 when none).
    package func newestBlockID(_ signal: ForwardedSignal) async throws -> Int64 {
        try await database.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM \(signal.table)") ?? 0 }
    }

    /// The blocks after `blockID`, oldest first, up to `maximumBytes` of requests (at least one block); nil when none.
    package func forwardBatch(_ signal: ForwardedSignal, after blockID: Int64, maximumBytes: Int) async throws -> ForwardBatch? {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, \(signal.countColumn) AS items, decodedSize, deflated FROM \(signal.table) WHERE id > ? ORDER BY id LIMIT 64",
                arguments: [blockID]
            ).map { (id: $0["id"] as Int64, items: $0["items"] as Int, size: $0["decodedSize"] as Int, deflated: $0["deflated"] as Data) }
        }
        guard !rows.isEmpty else { return nil }
        var batch = ForwardBatch(blocks: [])
        var bytes = 0
        for row in rows {
            if !batch.blocks.isEmpty, bytes + row.size > maximumBytes { break }
            var buffer = ByteBuffer(bytes: row.deflated)
            if let inflated = try? buffer.decompress(with: .deflate(), maxSize: row.size + 1), inflated.readableBytes == row.size {
                batch.blocks.append(.init(id: row.id, request: Array(inflated.readableBytesView), itemCount: row.items))
            } else {
                batch.blocks.append(.init(id: row.id, request: [], itemCount: row.items))
            }
            bytes += row.size
        }
        return batch
    }

    /// Records that upstream acknowledged (or refused for good) every block up to `blockID`.
    package func acknowledgeForwarded(_ signal: ForwardedSignal, through blockID: Int64) async throws {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE forward_state SET acknowledged = MAX(acknowledged, ?) WHERE signal = ?", arguments: [blockID, signal.rawValue])
        }
    }

    /// Counts, before blocks are deleted, what in them was never forwarded (a no-op when the signal is not forwarded).
    static func countUnforwarded(_ signal: ForwardedSignal, doomed: [(id: Int64, items: Int)], _ db: Database) throws {
        guard
            let acknowledged = try Int64.fetchOne(
                db, sql: "SELECT acknowledged FROM forward_state WHERE signal = ?", arguments: [signal.rawValue])
        else { return }
        let lost = doomed.filter { $0.id > acknowledged }.reduce(0) { $0 + $1.items }
        guard lost > 0 else { return }
        try db.execute(sql: "UPDATE forward_state SET lostItems = lostItems + ? WHERE signal = ?", arguments: [lost, signal.rawValue])
    }

    /// The id of the next block of `signal`: above every stored block and above the forwarding mark, so a new block
    /// never takes the id of a deleted one that was already forwarded.
    static func nextBlockIDExpression(_ signal: ForwardedSignal) -> String {
        "(SELECT MAX(COALESCE((SELECT MAX(id) FROM \(signal.table)), 0), "
            + "COALESCE((SELECT acknowledged FROM forward_state WHERE signal = '\(signal.rawValue)'), 0)) + 1)"
    }
}

extension ForwardedSignal {
    /// The table holding the signal's blocks.
    var table: String { self == .spans ? "span_block" : "log_block" }
    /// The column counting a block's items.
    var countColumn: String { self == .spans ? "spanCount" : "recordCount" }
}
