import GRDB
import Otter
import OtterOTLP

extension SQLiteTraceStore {
    // MARK: Search

    /// The traces with a span that meets every condition of `query`, newest first by their latest matching span's start,
    /// at most `query.limit` (at least one). Only a few tags narrow the indexed search; every candidate span is then
    /// checked against all of them.
    public func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID] {
        let matcher = SpanMatcher(query)
        return try await database.read { db -> [TraceID] in
            // Operations that can match: the service, the operation name and a `span.kind` tag.
            var operationConditions: [String] = []
            var operationArguments: [DatabaseValue] = []
            if let service = query.service {
                operationConditions.append("service = ?")
                operationArguments.append(service.databaseValue)
            }
            if let operation = query.operation {
                operationConditions.append("name = ?")
                operationArguments.append(operation.databaseValue)
            }
            if let kind = matcher.kind {
                operationConditions.append("kind = ?")
                operationArguments.append(kind.databaseValue)
            }
            let operations = try Row.fetchAll(
                db,
                sql: "SELECT id, service FROM operation"
                    + (operationConditions.isEmpty ? "" : " WHERE " + operationConditions.joined(separator: " AND ")),
                arguments: StatementArguments(operationArguments))
            guard !operations.isEmpty else { return [] }
            let services = Set(operations.map { $0["service"] as String })

            var conditions = [
                "o.operationID IN (\(operations.map { String($0["id"] as Int64) }.joined(separator: ",")))",
                "o.maxStartTime >= ?", "o.minStartTime <= ?",
            ]
            var arguments: [DatabaseValue] = [
                Int64(clamping: query.startTimeMinimumNanoseconds).databaseValue,
                Int64(clamping: query.startTimeMaximumNanoseconds).databaseValue,
            ]
            if let minimum = query.durationMinimumNanoseconds {
                conditions.append("o.maxDuration >= ?")
                arguments.append(Int64(clamping: minimum).databaseValue)
            }
            if let maximum = query.durationMaximumNanoseconds {
                conditions.append("o.minDuration <= ?")
                arguments.append(Int64(clamping: maximum).databaseValue)
            }
            if matcher.mustBeError == true { conditions.append("o.errorCount > 0") }
            // A few tags narrow the blocks enough (every span is checked against all of them); a thousand EXISTS
            // clauses would exceed SQLite's expression depth.
            for tag in matcher.attributeTags.prefix(Self.maximumIndexTerms) {
                let terms = services.sorted().map { SearchTerm.hash(service: $0, key: tag.key, value: tag.value) }
                conditions.append(
                    """
                    EXISTS (SELECT 1 FROM term_block t WHERE t.segment = o.blockID >> \(Self.blocksPerSegmentShift)
                        AND t.term IN (\(terms.map(String.init).joined(separator: ","))) AND t.blockID = o.blockID)
                    """)
            }
            // Candidate blocks, most recent first. With attribute tags, the term index makes them few: sort them.
            // Without, walk the time index backwards and stop early (a search of a busy service reads a few blocks).
            let sql =
                matcher.attributeTags.isEmpty
                ? """
                SELECT o.blockID AS id, o.maxStartTime AS latest FROM operation_block o INDEXED BY operation_block_by_max_start
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY o.maxStartTime DESC
                """
                : """
                SELECT o.blockID AS id, MAX(o.maxStartTime) AS latest FROM operation_block o
                WHERE \(conditions.joined(separator: " AND ")) GROUP BY o.blockID ORDER BY latest DESC
                """
            let candidates = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))

            // Read candidates until no later block can change the `limit` most recent traces: a block's first row
            // carries the latest start of its matching spans, and rows come latest first.
            let limit = max(1, query.limit)
            var latestMatch: [TraceID: UInt64] = [:]
            var seenBlocks = Set<Int64>()
            var exhausted = false
            while !exhausted {
                // The start a newer block must beat to change the answer, once `limit` traces are found.
                let kthLatest = latestMatch.count >= limit ? latestMatch.values.sorted(by: >)[limit - 1] : nil
                var batch: [Int64] = []
                while batch.count < 4 {
                    guard let row = try candidates.next() else {
                        exhausted = true
                        break
                    }
                    let id: Int64 = row["id"]
                    guard seenBlocks.insert(id).inserted else { continue }
                    if let kthLatest, UInt64(bitPattern: row["latest"]) < kthLatest {
                        exhausted = true
                        break
                    }
                    batch.append(id)
                }
                for (_, block) in try self.blocks(batch, db) {
                    var resourceMatches: [Int: ResourceMatch] = [:]
                    for span in block.spans {
                        let resourceMatch = try resourceMatches[span.resourceIndex] ?? matcher.resourceMatch(block, span.resourceIndex)
                        resourceMatches[span.resourceIndex] = resourceMatch
                        guard resourceMatch.serviceMatches, try matcher.matches(span, in: block, resourceMatch),
                            let traceID = TraceID(bytes: block.scanner.bytes[span.traceID])
                        else { continue }
                        latestMatch[traceID] = max(latestMatch[traceID] ?? 0, span.startTime)
                    }
                }
            }
            return latestMatch.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
                .prefix(limit).map(\.key)
        }
    }

    /// What a resource contributes to a span's match: its service, and which attribute tags it already satisfies.
    struct ResourceMatch {
        var serviceMatches: Bool
        var satisfiedTags: Set<Int>
    }

    /// Jaeger's rule: a single span must satisfy every condition; an attribute tag may be satisfied by one of
    /// the span's attributes, its resource's, or those of one of its events or links (Jaeger's logs and references).
    struct SpanMatcher {
        let query: TraceQuery
        var kind: Int?
        var mustBeError: Bool?
        var attributeTags: [(key: String, value: String)] = []
        var operationName: [UInt8]?
        var attributeKeys: [[UInt8]] = []

        init(_ query: TraceQuery) {
            self.query = query
            operationName = query.operation.map { Array($0.utf8) }
            for tag in query.tags {
                switch tag.key {
                case "error": mustBeError = tag.value == "true"
                case "span.kind": kind = SpanKindName(rawValue: tag.value)?.otlpKind.rawValue ?? -1
                default:
                    attributeTags.append(tag)
                    attributeKeys.append(Array(tag.key.utf8))
                }
            }
        }

        func resourceMatch(_ block: ScannedBlock, _ resourceIndex: Int) throws -> ResourceMatch {
            let service = block.services[resourceIndex]
            var satisfied = Set<Int>()
            if let resource = block.origins[resourceIndex].resource {
                for (index, tag) in attributeTags.enumerated()
                where try block.scanner.attributeText(attributeKeys[index], in: resource, attributeField: 1) == tag.value {
                    satisfied.insert(index)
                }
            }
            return ResourceMatch(serviceMatches: query.service.map { $0 == service } ?? true, satisfiedTags: satisfied)
        }

        func matches(_ span: SpanBlockScanner.ScannedSpan, in block: ScannedBlock, _ resourceMatch: ResourceMatch) throws -> Bool {
            guard span.startTime >= query.startTimeMinimumNanoseconds, span.startTime <= query.startTimeMaximumNanoseconds else {
                return false
            }
            let duration = span.endTime &- min(span.startTime, span.endTime)
            if let minimum = query.durationMinimumNanoseconds, duration < minimum { return false }
            if let maximum = query.durationMaximumNanoseconds, duration > maximum { return false }
            if let operationName, !block.scanner.equals(span.name, operationName) { return false }
            if let kind, span.kind != kind { return false }
            if let mustBeError, (span.statusCode == 2) != mustBeError { return false }
            for (index, tag) in attributeTags.enumerated() where !resourceMatch.satisfiedTags.contains(index) {
                if try block.scanner.attributeText(attributeKeys[index], in: span.range, attributeField: 9) == tag.value { continue }
                guard try block.scanner.hasEventOrLinkAttribute(attributeKeys[index], text: tag.value, inSpan: span.range) else {
                    return false
                }
            }
            return true
        }
    }
}
