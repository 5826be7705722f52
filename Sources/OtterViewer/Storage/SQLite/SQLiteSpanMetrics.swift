import Foundation
import GRDB

extension SQLiteTraceStore {
    public func operationMinutes(
        services: [String], kinds: Set<SpanKindName>, minutes: ClosedRange<UInt64>
    ) async throws
        -> [OperationMinute]
    {
        guard !services.isEmpty, !kinds.isEmpty else { return [] }
        let servicePlaceholders = Array(repeating: "?", count: services.count).joined(separator: ",")
        let kindNumbers = kinds.map { String($0.otlpKind.rawValue) }.sorted().joined(separator: ",")
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.service, o.name, o.kind, m.minute, m.calls, m.errors, m.durations
                    FROM operation o JOIN operation_minute m ON m.operationID = o.id
                    WHERE o.service IN (\(servicePlaceholders)) AND o.kind IN (\(kindNumbers)) AND m.minute BETWEEN ? AND ?
                    """,
                arguments: StatementArguments(services + [Int64(clamping: minutes.lowerBound), Int64(clamping: minutes.upperBound)]))
        }
        return OperationMinute.merged(
            rows.compactMap { row in
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
            })
    }
}
