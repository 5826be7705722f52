import CompressNIO
import Foundation
import GRDB
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf

extension SQLiteTraceStore: LogReader {
    /// A matching record with its resource and scope (messages share their storage: no block is kept for them).
    private struct FoundRecord {
        var time: UInt64
        var record: OTLPLogRecord
        var resource: Opentelemetry_Proto_Resource_V1_Resource
        var resourceSchemaURL: String
        var scope: Opentelemetry_Proto_Common_V1_InstrumentationScope
        var scopeSchemaURL: String
    }

    /// The records matching every condition of `query`, newest first, at most `query.limit`; none when the limit is zero
    /// or less or the time window is empty. Each comes with its resource and scope, as received.
    public func logs(_ query: LogQuery) async throws -> OTLPLogs {
        let limit = max(0, query.limit)
        guard limit > 0, query.startNanoseconds <= query.endNanoseconds else { return OTLPLogs() }
        let matcher = LogMatcher(query)
        return try await database.read { db in
            var conditions = ["maxTime >= ?", "minTime <= ?"]
            var arguments: [any DatabaseValueConvertible] = [
                Int64(clamping: query.startNanoseconds), Int64(clamping: query.endNanoseconds),
            ]
            if query.minimumSeverity.number > 0 {
                conditions.append("maxSeverity >= ?")
                arguments.append(query.minimumSeverity.number)
            }
            if let storedAfter = query.storedAfter {
                conditions.append("id > ?")
                arguments.append(Int64(clamping: storedAfter))
            }
            let segments = try Self.logSegments(db)
            if let traceID = query.traceID {
                conditions.append(
                    "id IN (SELECT blockID FROM log_trace_block WHERE segment IN (\(segments)) AND traceID = ?)")
                arguments.append(Data(traceID.bytes))
            }
            // A few terms narrow the blocks enough; every condition is checked on each record anyway.
            for term in matcher.terms.prefix(Self.maximumIndexTerms) {
                let indexed = "id IN (SELECT blockID FROM log_term_block WHERE segment IN (\(segments)) AND term = \(term.hash))"
                // A block whose words were too many to index is read by every word search.
                conditions.append(term.isWord ? "(wordsIndexed = 0 OR \(indexed))" : indexed)
            }
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, maxTime, decodedSize, deflated FROM log_block WHERE \(conditions.joined(separator: " AND "))
                    ORDER BY maxTime DESC, id DESC
                    """,
                arguments: StatementArguments(arguments))
            var found: [FoundRecord] = []
            while let row = try rows.next() {
                let maxTime = UInt64(clamping: row["maxTime"] as Int64)
                // Blocks come newest first by their newest record: once `limit` records are newer than everything this
                // block holds, no later block can add one.
                if found.count >= limit {
                    found.sort { $0.time > $1.time }
                    found.removeLast(found.count - limit)
                    if found[limit - 1].time > maxTime { break }
                }
                let request = try Self.decodeLogBlock(id: row["id"], decodedSize: row["decodedSize"], deflated: row["deflated"])
                for resourceLogs in request.resourceLogs {
                    let resourceMatches = matcher.matches(resource: resourceLogs.resource)
                    guard resourceMatches.service else { continue }
                    for scopeLogs in resourceLogs.scopeLogs {
                        for record in scopeLogs.logRecords where matcher.matches(record, resourceTags: resourceMatches.tags) {
                            found.append(
                                FoundRecord(
                                    time: record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano, record: record,
                                    resource: resourceLogs.resource, resourceSchemaURL: resourceLogs.schemaURL, scope: scopeLogs.scope,
                                    scopeSchemaURL: scopeLogs.schemaURL))
                        }
                    }
                }
            }
            found.sort { $0.time > $1.time }
            return Self.answer(Array(found.prefix(limit)))
        }
    }

    /// The newest log block's id: blocks are numbered in the order they are committed.
    public func logCursor() async throws -> UInt64 {
        try await database.read { db in UInt64(max(0, try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM log_block") ?? 0)) }
    }

    /// The service names of the stored log records, sorted; a service goes once retention has deleted all its records.
    public func logServices() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT name FROM log_service ORDER BY name") }
    }

    /// The live segments of `log_block`, as an SQL list.
    static func logSegments(_ db: Database) throws -> String {
        guard let range = try Row.fetchOne(db, sql: "SELECT MIN(id) AS first, MAX(id) AS last FROM log_block"),
            let first = range["first"] as Int64?, let last = range["last"] as Int64?
        else { return "NULL" }
        return (segment(ofBlock: first)...segment(ofBlock: last)).map(String.init).joined(separator: ",")
    }

    static func decodeLogBlock(id: Int64, decodedSize: Int, deflated: Data) throws -> OTLPExportLogsServiceRequest {
        var buffer = ByteBuffer(bytes: deflated)
        guard decodedSize >= 0, let inflated = try? buffer.decompress(with: .deflate(), maxSize: decodedSize + 1),
            inflated.readableBytes == decodedSize
        else { throw CorruptBlock(blockID: id) }
        guard
            let request = try? inflated.withUnsafeReadableBytes({
                try OTLPRequestLimits.default.decode(OTLPExportLogsServiceRequest.self, checkedProtobuf: $0)
            })
        else {
            throw CorruptBlock(blockID: id)
        }
        return request
    }

    /// The most index terms a search looks up (the rest are checked on the spans or records only).
    static let maximumIndexTerms = 8

    /// The records in their order, each run of one resource and scope in one `ResourceLogs`.
    private static func answer(_ records: [FoundRecord]) -> OTLPLogs {
        var request = OTLPExportLogsServiceRequest()
        for found in records {
            var newScope = Opentelemetry_Proto_Logs_V1_ScopeLogs()
            newScope.scope = found.scope
            newScope.schemaURL = found.scopeSchemaURL
            newScope.logRecords = [found.record]
            guard let last = request.resourceLogs.indices.last, request.resourceLogs[last].resource == found.resource,
                request.resourceLogs[last].schemaURL == found.resourceSchemaURL
            else {
                var newResource = Opentelemetry_Proto_Logs_V1_ResourceLogs()
                newResource.resource = found.resource
                newResource.schemaURL = found.resourceSchemaURL
                newResource.scopeLogs = [newScope]
                request.resourceLogs.append(newResource)
                continue
            }
            let lastScope = request.resourceLogs[last].scopeLogs.count - 1
            if request.resourceLogs[last].scopeLogs[lastScope].scope == found.scope
                && request.resourceLogs[last].scopeLogs[lastScope].schemaURL == found.scopeSchemaURL
            {
                request.resourceLogs[last].scopeLogs[lastScope].logRecords.append(found.record)
            } else {
                request.resourceLogs[last].scopeLogs.append(newScope)
            }
        }
        return OTLPLogs(request)
    }
}

/// A ``LogQuery``'s conditions on one record: the index terms that narrow the blocks, and the exact check of each
/// record (index terms are hashes, and a block's terms may come from different records).
struct LogMatcher {
    let query: LogQuery
    let words: Set<String>
    /// The index terms, words first (the most selective).
    let terms: [(hash: Int64, isWord: Bool)]

    init(_ query: LogQuery) {
        self.query = query
        words = Set(query.words.flatMap(LogWords.words(in:)))
        var terms = words.sorted().map { (hash: LogTerm.word($0), isWord: true) }
        if let service = query.service { terms.append((LogTerm.service(service), false)) }
        terms += query.tags.map { (LogTerm.tag($0.key, $0.value), false) }
        self.terms = terms
    }

    /// Whether the resource is the query's service, and which of the query's tags it has.
    func matches(resource: Opentelemetry_Proto_Resource_V1_Resource) -> (service: Bool, tags: Set<Int>) {
        if let service = query.service, SQLiteTraceStore.serviceName(of: resource.attributes) != service { return (false, []) }
        var tags = Set<Int>()
        for (index, tag) in query.tags.enumerated()
        where resource.attributes.contains(where: { $0.key == tag.key && OTLPLogsMapping.logValue($0.value).text == tag.value }) {
            tags.insert(index)
        }
        return (true, tags)
    }

    func matches(_ record: OTLPLogRecord, resourceTags: Set<Int>) -> Bool {
        if let traceID = query.traceID, record.traceID != Data(traceID.bytes) { return false }
        if let spanID = query.spanID, record.spanID != Data(spanID.bytes) { return false }
        // Any severity passes a minimum of 0, a number outside OTLP's range (negative, say) included.
        if query.minimumSeverity.number > 0, record.severityNumber.rawValue < query.minimumSeverity.number { return false }
        let time = record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano
        if time < query.startNanoseconds || time > query.endNanoseconds { return false }
        for (index, tag) in query.tags.enumerated() where !resourceTags.contains(index) {
            guard record.attributes.contains(where: { $0.key == tag.key && OTLPLogsMapping.logValue($0.value).text == tag.value })
            else { return false }
        }
        guard !words.isEmpty else { return true }
        var missing = words
        LogWords.forEachWord(in: OTLPLogsMapping.bodyText(record.body)) { missing.remove(String(decoding: $0, as: UTF8.self)) }
        for attribute in record.attributes where !missing.isEmpty {
            LogWords.forEachWord(in: OTLPLogsMapping.logValue(attribute.value).text) { missing.remove(String(decoding: $0, as: UTF8.self)) }
        }
        return missing.isEmpty
    }
}
