import GRDB

extension SQLiteTraceStore {
    public func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency] {
        let start = Int64(clamping: startNanoseconds)
        let end = Int64(clamping: endNanoseconds)
        // Rows are read into values inside the closure: GRDB's asynchronous read (off the cooperative pool) needs a
        // Sendable result, and a synchronous read would block a cooperative thread.
        return try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT parent, child, SUM(calls) AS calls FROM (
                        SELECT parentService AS parent, childService AS child, callCount AS calls FROM service_call
                        WHERE maxStartTime >= ? AND minStartTime <= ?
                        UNION ALL
                        SELECT parentOperation.service AS parent, childOperation.service AS child, 1 AS calls
                        FROM remote_child c
                        JOIN remote_parent p ON p.minute IN (c.startTime / \(Self.nanosecondsPerMinute) - 1, c.startTime / \(Self.nanosecondsPerMinute),
                                c.startTime / \(Self.nanosecondsPerMinute) + 1)
                            AND p.traceID = c.traceID AND p.spanID = c.parentSpanID
                        JOIN operation childOperation ON childOperation.id = c.operationID
                        JOIN operation parentOperation ON parentOperation.id = p.operationID
                        WHERE c.startTime BETWEEN ? AND ? AND parentOperation.service != childOperation.service
                    ) GROUP BY parent, child ORDER BY parent, child
                    """,
                arguments: [start, end, start, end]
            ).map { ServiceDependency(parent: $0["parent"], child: $0["child"], callCount: $0["calls"]) }
        }
    }
}
