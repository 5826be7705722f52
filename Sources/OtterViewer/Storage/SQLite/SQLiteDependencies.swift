import Foundation
import GRDB
import Otter

extension SQLiteTraceStore {
    /// Calls between services among spans started in the window (nanoseconds since 1970-01-01 00:00 UTC), sorted by
    /// parent then child. Calls between spans of one write are counted per write, so a write whose spans straddle an
    /// edge of the window counts whole; calls the indexes miss are found by looking up a bounded number of parents.
    public func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency] {
        let start = Int64(clamping: startNanoseconds)
        let end = Int64(clamping: endNanoseconds)
        // Rows are read into values inside the closure: GRDB's asynchronous read (off the cooperative pool) needs a
        // Sendable result, and a synchronous read would block a cooperative thread.
        let indexed = try await database.read { db in
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
        return try await mergingCallsFromUnindexedParents(into: indexed, start: start, end: end)
    }

    /// The most children whose parent is looked up in its trace's blocks per request (see below).
    static let maximumParentLookups = 2_000

    /// Calls the indexes cannot see: a child whose parent arrived in another request but is not a CLIENT or PRODUCER
    /// span (say an INTERNAL span that made the call), so no `remote_parent` row names it. Such parents are looked up in
    /// their trace's blocks (at most ``maximumParentLookups`` children per request), so the graph does not depend on how
    /// the spans were batched.
    private func mergingCallsFromUnindexedParents(
        into indexed: [ServiceDependency], start: Int64, end: Int64
    ) async throws -> [ServiceDependency] {
        let minute = Self.nanosecondsPerMinute
        let unmatched = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.traceID AS traceID, c.parentSpanID AS parentSpanID, o.service AS child FROM remote_child c
                    JOIN operation o ON o.id = c.operationID
                    WHERE c.startTime BETWEEN ? AND ? AND NOT EXISTS (
                        SELECT 1 FROM remote_parent p WHERE p.minute IN (c.startTime / \(minute) - 1, c.startTime / \(minute),
                            c.startTime / \(minute) + 1) AND p.traceID = c.traceID AND p.spanID = c.parentSpanID)
                    LIMIT \(Self.maximumParentLookups)
                    """,
                arguments: [start, end]
            ).compactMap { row -> (TraceID, SpanID, String)? in
                guard let traceID = TraceID(bytes: row["traceID"] as Data) else { return nil }
                return (traceID, SpanID(UInt64(bitPattern: row["parentSpanID"] as Int64)), row["child"])
            }
        }
        guard !unmatched.isEmpty else { return indexed }
        var counts: [ServiceDependency.Edge: Int] = [:]
        for dependency in indexed { counts[.init(parent: dependency.parent, child: dependency.child)] = dependency.callCount }
        let traceIDs = Array(Set(unmatched.map(\.0)))
        for chunkStart in stride(from: 0, to: traceIDs.count, by: 100) {
            let chunk = Array(traceIDs[chunkStart..<min(chunkStart + 100, traceIDs.count)])
            var services: [TraceID: [SpanID: String]] = [:]
            for span in try await traces(chunk).spans {
                services[span.spanContext.traceID, default: [:]][span.spanContext.spanID] = span.resource.serviceNameOrUnknown
            }
            let wanted = Set(chunk)
            for (traceID, parentID, child) in unmatched where wanted.contains(traceID) {
                guard let parent = services[traceID]?[parentID], parent != child else { continue }
                counts[.init(parent: parent, child: child), default: 0] += 1
            }
        }
        return counts.map { ServiceDependency(parent: $0.key.parent, child: $0.key.child, callCount: $0.value) }
            .sorted { ($0.parent, $0.child) < ($1.parent, $1.child) }
    }
}
