import CompressNIO
import Foundation
import GRDB
import NIOCore
import Otter

extension SQLiteTraceStore: SpanMetricsReader {
    package func operationMinutes(
        services: [String], kinds: Set<SpanKindName>, minutes: ClosedRange<UInt64>
    ) async throws
        -> [OperationMinute]
    {
        guard !services.isEmpty, !kinds.isEmpty else { return [] }
        let servicePlaceholders = Array(repeating: "?", count: services.count).joined(separator: ",")
        let kindNumbers = kinds.map { String($0.otlpKind.rawValue) }.sorted().joined(separator: ",")
        // Rows become values inside the closure: the asynchronous read needs a Sendable result (see dependencies).
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.service, o.name, o.kind, m.minute, m.calls, m.errors, m.durations
                    FROM operation o JOIN operation_minute m ON m.operationID = o.id
                    WHERE o.service IN (\(servicePlaceholders)) AND o.kind IN (\(kindNumbers)) AND m.minute BETWEEN ? AND ?
                    """,
                arguments: StatementArguments(services + [Int64(clamping: minutes.lowerBound), Int64(clamping: minutes.upperBound)])
            ).compactMap { row -> OperationMinute? in
                let kindNumber: Int = row["kind"]
                let blob: Data = row["durations"]
                // A row this version did not write (or a damaged one) is left out rather than trusted.
                guard let kind = SpanKindName(.init(rawValue: kindNumber) ?? .unspecified),
                    let durations = DurationHistogram(encoded: blob),
                    let minute = UInt64(exactly: row["minute"] as Int64), let calls = UInt64(exactly: row["calls"] as Int64),
                    let errors = UInt64(exactly: row["errors"] as Int64)
                else { return nil }
                return OperationMinute(
                    service: row["service"], operation: row["name"], kind: kind, minute: minute, calls: calls, errors: errors,
                    durations: durations)
            }
        }
        return OperationMinute.merged(rows)
    }
}

extension SQLiteTraceStore {
    /// Fills `operation_minute` from the blocks stored before it existed (migration v6): each block is inflated and
    /// scanned once, a thousand at a time. A block that cannot be read is left out of the metrics, as it is of
    /// searches.
    static func backfillOperationMinutes(_ db: Database) throws {
        var lastID: Int64 = 0
        while true {
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, decodedSize, deflated FROM span_block WHERE id > ? ORDER BY id LIMIT 1000", arguments: [lastID])
            guard let last = rows.last else { return }
            lastID = last["id"]
            for row in rows {
                let decodedSize: Int = row["decodedSize"]
                var buffer = ByteBuffer(bytes: row["deflated"] as Data)
                guard let inflated = try? buffer.decompress(with: .deflate(), maxSize: decodedSize + 1) else { continue }
                let scanner = SpanBlockScanner(bytes: Array(inflated.readableBytesView))
                guard let (spans, origins) = try? scanner.scan(), let services = try? origins.map(scanner.serviceName) else { continue }
                var minutes: [SpanBlockIndex.Operation: [UInt64: SpanBlockIndex.MinuteCounts]] = [:]
                for span in spans {
                    let operation = SpanBlockIndex.Operation(
                        service: services[span.resourceIndex], name: scanner.string(span.name), kind: span.kind)
                    let minute = span.startTime / OperationMinute.nanosecondsPerMinute
                    var counts = minutes[operation, default: [:]][minute] ?? SpanBlockIndex.MinuteCounts()
                    counts.calls += 1
                    // OTLP's STATUS_CODE_ERROR.
                    if span.statusCode == 2 { counts.errors += 1 }
                    counts.durations.record(span.endTime - min(span.startTime, span.endTime))
                    minutes[operation, default: [:]][minute] = counts
                }
                for (operation, byMinute) in minutes {
                    guard
                        let operationID = try Int64.fetchOne(
                            db, sql: "SELECT id FROM operation WHERE service = ? AND name = ? AND kind = ?",
                            arguments: [operation.service, operation.name, operation.kind])
                    else { continue }
                    for (minute, counts) in byMinute { try addToOperationMinute(counts, minute: minute, operationID: operationID, db) }
                }
            }
        }
    }

    /// Adds a block's counts of one operation and minute to the row the store keeps for them (one row per operation and
    /// minute, whichever blocks the spans are in, so a query reads minutes, not blocks).
    static func addToOperationMinute(_ counts: SpanBlockIndex.MinuteCounts, minute: UInt64, operationID: Int64, _ db: Database) throws {
        var total = counts
        let key: StatementArguments = [Int64(clamping: minute), operationID]
        let existing = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT calls, errors, durations FROM operation_minute WHERE minute = ? AND operationID = ?"),
            arguments: key)
        if let existing {
            total.calls &+= UInt64(clamping: existing["calls"] as Int64)
            total.errors &+= UInt64(clamping: existing["errors"] as Int64)
            // A row this version could not have written is replaced rather than trusted.
            if let stored = DurationHistogram(encoded: existing["durations"] as Data) { total.durations.merge(stored) }
        }
        try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO operation_minute (minute, operationID, calls, errors, durations) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: key + [Int64(clamping: total.calls), Int64(clamping: total.errors), Data(total.durations.encoded)])
    }
}
