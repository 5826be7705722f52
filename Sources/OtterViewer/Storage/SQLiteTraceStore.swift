import CompressNIO
import Foundation
import GRDB
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf
import Synchronization
import Tracing

/// Spans in one SQLite file (GRDB, WAL), stored the way column stores do it rather than a row per span:
///
/// - `span_block`: each write becomes blocks of at most ``maximumSpansPerBlock`` spans that started within the
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
    private let database: any DatabaseWriter
    /// The database file, nil for an in-memory store.
    public let path: String?
    /// Recently decoded blocks: a search, the summaries of its results and a trace page read the same blocks.
    private let decodedBlocks = Mutex(DecodedBlockCache())
    /// Set when a write failed for lack of space (disk full, or the database at its page limit); retention then
    /// frees space before anything else (``RetentionService``).
    private let outOfSpace = Atomic<Bool>(false)
    /// Blocks read from the database and scanned so far (cache misses), for tests and diagnostics.
    private let scannedBlocks = Atomic<Int>(0)
    var scannedBlockCount: Int { scannedBlocks.load(ordering: .relaxed) }
    /// Writes waiting for the next commit (see ``write(_:)``).
    private let pendingWrites = Mutex(PendingWrites())

    /// The trace and term indexes are keyed by segment (16 consecutive blocks) first, so that inserts land in
    /// the newest segment's small part of the B-tree instead of random pages of the whole index: ingest stays
    /// fast as the store grows. A lookup seeks once per segment.
    static let blocksPerSegmentShift = 4
    static func segment(ofBlock blockID: Int64) -> Int64 { blockID >> Int64(blocksPerSegmentShift) }
    static let nanosecondsPerMinute: UInt64 = 60_000_000_000

    /// A block never holds more spans than this: reading one trace decodes whole blocks.
    public static let maximumSpansPerBlock = 512
    static let blockTimeSpanNanoseconds: UInt64 = 3_600_000_000_000

    /// Opens (creating and migrating if needed) the store at `path`; `":memory:"` keeps it in memory.
    public init(path: String) throws {
        if path == ":memory:" {
            self.path = nil
            database = try DatabaseQueue()
        } else {
            self.path = path
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // 32 MB of page cache per connection: the newest index segments stay in memory while ingesting.
                try db.execute(sql: "PRAGMA cache_size = -32768")
            }
            database = try DatabasePool(path: path, configuration: configuration)
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
        }
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        LegacySpanRows.registerMigrations(in: &migrator)
        migrator.registerMigration("v5: span blocks") { db in
            try db.execute(sql: """
                CREATE TABLE span_block (
                    id INTEGER PRIMARY KEY,
                    minStartTime INTEGER NOT NULL,
                    maxStartTime INTEGER NOT NULL,
                    spanCount INTEGER NOT NULL,
                    decodedSize INTEGER NOT NULL,
                    deflated BLOB NOT NULL
                );
                CREATE INDEX span_block_by_max_start ON span_block(maxStartTime);
                CREATE TABLE trace_block (
                    segment INTEGER NOT NULL,
                    traceID BLOB NOT NULL,
                    blockID INTEGER NOT NULL,
                    PRIMARY KEY (segment, traceID, blockID)
                ) WITHOUT ROWID;
                CREATE TABLE term_block (
                    segment INTEGER NOT NULL,
                    term INTEGER NOT NULL,
                    blockID INTEGER NOT NULL,
                    PRIMARY KEY (segment, term, blockID)
                ) WITHOUT ROWID;
                CREATE TABLE operation (
                    id INTEGER PRIMARY KEY,
                    service TEXT NOT NULL,
                    name TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    UNIQUE (service, name, kind)
                );
                CREATE TABLE operation_block (
                    operationID INTEGER NOT NULL,
                    blockID INTEGER NOT NULL,
                    minStartTime INTEGER NOT NULL,
                    maxStartTime INTEGER NOT NULL,
                    minDuration INTEGER NOT NULL,
                    maxDuration INTEGER NOT NULL,
                    errorCount INTEGER NOT NULL,
                    PRIMARY KEY (operationID, blockID)
                ) WITHOUT ROWID;
                CREATE INDEX operation_block_by_max_start ON operation_block(maxStartTime);
                CREATE TABLE service_call (
                    blockID INTEGER NOT NULL,
                    parentService TEXT NOT NULL,
                    childService TEXT NOT NULL,
                    callCount INTEGER NOT NULL,
                    minStartTime INTEGER NOT NULL,
                    maxStartTime INTEGER NOT NULL,
                    PRIMARY KEY (blockID, parentService, childService)
                ) WITHOUT ROWID;
                CREATE TABLE remote_child (
                    startTime INTEGER NOT NULL,
                    traceID BLOB NOT NULL,
                    parentSpanID INTEGER NOT NULL,
                    operationID INTEGER NOT NULL,
                    blockID INTEGER NOT NULL,
                    PRIMARY KEY (startTime, traceID, parentSpanID, operationID)
                ) WITHOUT ROWID;
                CREATE TABLE remote_parent (
                    minute INTEGER NOT NULL,
                    traceID BLOB NOT NULL,
                    spanID INTEGER NOT NULL,
                    operationID INTEGER NOT NULL,
                    blockID INTEGER NOT NULL,
                    PRIMARY KEY (minute, traceID, spanID)
                ) WITHOUT ROWID;
                """)
            try LegacySpanRows.convert(db) { spans in try Self.insert(spans, into: db) }
        }
        return migrator
    }

    // MARK: Writing

    /// Stores the spans. Writes that arrive while another is being committed are merged into the next
    /// transaction (group commit): many small requests become one block and one commit, and each caller
    /// returns once its spans are on disk, or with the error that lost them.
    public func write(_ spans: [FinishedSpan]) async throws {
        try await commit(spans.map { IngestSpan(span: $0, source: nil) })
    }

    /// Stores the valid spans of a request in the form they were received (every value type, unspecified kinds and
    /// flags kept), and returns why the others were refused.
    public func write(_ request: OTLPExportTraceServiceRequest) async throws -> [String] {
        var spans: [IngestSpan] = []
        var rejections: [String] = []
        OTLPMapping.forEachSpan(in: request) { otlp, resourceSpans, scopeSpans, result in
            switch result {
            case .success(let span):
                spans.append(IngestSpan(
                    span: span,
                    source: .init(span: otlp, resource: resourceSpans.resource, schemaURL: resourceSpans.schemaURL, scope: scopeSpans.scope)))
            case .failure(let invalid):
                rejections.append(invalid.description)
            }
        }
        try await commit(spans)
        return rejections
    }

    /// A span to store: its model for the indexes, and the OTLP it arrived as (nil: encoded from the model).
    struct IngestSpan {
        struct Source {
            var span: Opentelemetry_Proto_Trace_V1_Span
            var resource: Opentelemetry_Proto_Resource_V1_Resource
            var schemaURL: String
            var scope: Opentelemetry_Proto_Common_V1_InstrumentationScope
        }

        var span: FinishedSpan
        var source: Source?
    }

    private func commit(_ spans: [IngestSpan]) async throws {
        guard !spans.isEmpty else { return }
        let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
            let becomesCommitter = pendingWrites.withLock { pending -> Bool in
                pending.writes.append((spans, continuation))
                guard !pending.isCommitting else { return false }
                pending.isCommitting = true
                return true
            }
            if becomesCommitter {
                Task { await self.commitPendingWrites() }
            }
        }
        try result.get()
    }

    struct PendingWrites {
        var writes: [(spans: [IngestSpan], continuation: CheckedContinuation<Result<Void, any Error>, Never>)] = []
        var isCommitting = false
    }

    /// Spans merged into one transaction at most (a few blocks).
    static let maximumSpansPerCommit = 8 * maximumSpansPerBlock

    /// Commits pending writes, merged up to ``maximumSpansPerCommit`` spans per transaction, until none is left.
    private func commitPendingWrites() async {
        while true {
            let group = pendingWrites.withLock { pending -> [(spans: [IngestSpan], continuation: CheckedContinuation<Result<Void, any Error>, Never>)] in
                var taken = 0
                var count = 0
                for write in pending.writes {
                    if count > 0, taken + write.spans.count > Self.maximumSpansPerCommit { break }
                    taken += write.spans.count
                    count += 1
                }
                let group = Array(pending.writes.prefix(count))
                pending.writes.removeFirst(count)
                if group.isEmpty { pending.isCommitting = false }
                return group
            }
            guard !group.isEmpty else { return }
            let spans = group.count == 1 ? group[0].spans : group.flatMap(\.spans)
            let result: Result<Void, any Error>
            do {
                let blocks = Self.encodeBlocks(spans)
                try await database.write { db in
                    for block in blocks { try Self.insert(block, into: db) }
                }
                result = .success(())
            } catch {
                if Self.isOutOfSpace(error) { outOfSpace.store(true, ordering: .relaxed) }
                result = .failure(error)
            }
            for write in group { write.continuation.resume(returning: result) }
        }
    }

    /// A block ready to insert: its spans, in start order, and their deflated OTLP encoding.
    struct EncodedBlock {
        var spans: [FinishedSpan]
        var decodedSize: Int
        var deflated: [UInt8]
    }

    /// Sorts spans by start time and cuts them into blocks (same hour, at most `maximumSpansPerBlock`). A block is
    /// one `ExportTraceServiceRequest`: spans that arrived over OTLP as they arrived, others encoded from the model.
    static func encodeBlocks(_ spans: [IngestSpan]) -> [EncodedBlock] {
        let sorted = spans.sorted { $0.span.startTimeNanosecondsSinceEpoch < $1.span.startTimeNanosecondsSinceEpoch }
        var blocks: [EncodedBlock] = []
        var start = 0
        while start < sorted.count {
            let hour = sorted[start].span.startTimeNanosecondsSinceEpoch / blockTimeSpanNanoseconds
            var end = start + 1
            while end < sorted.count, end - start < maximumSpansPerBlock,
                sorted[end].span.startTimeNanosecondsSinceEpoch / blockTimeSpanNanoseconds == hour
            {
                end += 1
            }
            let blockSpans = sorted[start..<end]
            let bytes: [UInt8]
            if blockSpans.allSatisfy({ $0.source == nil }) {
                bytes = OTLPProtobufEncoder.encode(blockSpans.map(\.span))
            } else {
                bytes = (try? request(for: blockSpans).serializedBytes()) ?? []
            }
            var encoded = ByteBuffer(bytes: bytes)
            let decodedSize = encoded.readableBytes
            let deflated = (try? encoded.compress(with: .deflate(configuration: .init(compressionLevel: 1))))
                .map { Array($0.readableBytesView) } ?? []
            blocks.append(EncodedBlock(spans: blockSpans.map(\.span), decodedSize: decodedSize, deflated: deflated))
            start = end
        }
        return blocks
    }

    /// The spans as one request, grouped by resource and scope in first-seen order.
    private static func request(for spans: ArraySlice<IngestSpan>) -> OTLPExportTraceServiceRequest {
        struct ResourceKey: Hashable {
            var resource: Opentelemetry_Proto_Resource_V1_Resource
            var schemaURL: String
        }
        var builder = OTLPRequestBuilder<ResourceKey, Opentelemetry_Proto_Common_V1_InstrumentationScope>()
        for ingest in spans {
            let source = ingest.source ?? IngestSpan.Source(
                span: OTLPMapping.span(for: ingest.span),
                resource: OTLPMapping.resource(for: ingest.span.resource),
                schemaURL: ingest.span.resource.schemaURL ?? "",
                scope: OTLPMapping.scope(for: ingest.span.instrumentationScope))
            builder.append(
                source.span, resourceKey: ResourceKey(resource: source.resource, schemaURL: source.schemaURL),
                resource: { (source.resource, source.schemaURL) }, scopeKey: source.scope, scope: { source.scope })
        }
        return builder.request
    }

    static func insert(_ spans: [FinishedSpan], into db: Database) throws {
        for block in encodeBlocks(spans.map { IngestSpan(span: $0, source: nil) }) { try insert(block, into: db) }
    }

    static func insert(_ block: EncodedBlock, into db: Database) throws {
        let spans = block.spans
        try db.execute(
            sql: "INSERT INTO span_block (minStartTime, maxStartTime, spanCount, decodedSize, deflated) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                Int64(clamping: spans.first!.startTimeNanosecondsSinceEpoch), Int64(clamping: spans.last!.startTimeNanosecondsSinceEpoch),
                spans.count, block.decodedSize, Data(block.deflated),
            ])
        let blockID = db.lastInsertedRowID

        var traceIDs = Set<TraceID>()
        var terms = Set<Int64>()
        var resourcesSeen = Set<Resource>()
        struct OperationKey: Hashable {
            var service: String
            var name: String
            var kind: Int
        }
        struct OperationStatistics {
            var minStart: UInt64 = .max, maxStart: UInt64 = 0, minDuration: UInt64 = .max, maxDuration: UInt64 = 0, errors = 0
        }
        var operations: [OperationKey: OperationStatistics] = [:]
        var spansByID: [SpanID: Int] = [:]
        for (index, span) in spans.enumerated() { spansByID[span.spanContext.spanID] = index }

        for span in spans {
            let service = span.resource.serviceName ?? ServiceName.unknown
            traceIDs.insert(span.spanContext.traceID)
            if resourcesSeen.insert(span.resource).inserted {
                span.resource.attributes.forEach { key, value in terms.insert(SearchTerm.hash(service: service, key: key, value: SearchTerm.text(value))) }
            }
            span.attributes.forEach { key, value in terms.insert(SearchTerm.hash(service: service, key: key, value: SearchTerm.text(value))) }
            let key = OperationKey(service: service, name: span.operationName, kind: OTLPMapping.kind(span.kind).rawValue)
            let duration = span.durationNanoseconds
            var statistics = operations[key] ?? OperationStatistics()
            statistics.minStart = min(statistics.minStart, span.startTimeNanosecondsSinceEpoch)
            statistics.maxStart = max(statistics.maxStart, span.startTimeNanosecondsSinceEpoch)
            statistics.minDuration = min(statistics.minDuration, duration)
            statistics.maxDuration = max(statistics.maxDuration, duration)
            if span.status?.code == .error { statistics.errors += 1 }
            operations[key] = statistics
        }

        let segment = Self.segment(ofBlock: blockID)
        try insertRows(
            "INSERT OR IGNORE INTO trace_block (segment, traceID, blockID) VALUES ", columns: 3,
            values: traceIDs.flatMap { [segment.databaseValue, Data($0.bytes).databaseValue, blockID.databaseValue] }, db)
        try insertRows(
            "INSERT OR IGNORE INTO term_block (segment, term, blockID) VALUES ", columns: 3,
            values: terms.sorted().flatMap { [segment.databaseValue, $0.databaseValue, blockID.databaseValue] }, db)

        var operationIDs: [OperationKey: Int64] = [:]
        let findOperation = try db.cachedStatement(sql: "SELECT id FROM operation WHERE service = ? AND name = ? AND kind = ?")
        let insertOperationBlock = try db.cachedStatement(sql: """
            INSERT INTO operation_block (operationID, blockID, minStartTime, maxStartTime, minDuration, maxDuration, errorCount)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for (key, statistics) in operations {
            let operationID: Int64
            if let existing = try Int64.fetchOne(findOperation, arguments: [key.service, key.name, key.kind]) {
                operationID = existing
            } else {
                try db.execute(sql: "INSERT INTO operation (service, name, kind) VALUES (?, ?, ?)", arguments: [key.service, key.name, key.kind])
                operationID = db.lastInsertedRowID
            }
            operationIDs[key] = operationID
            try insertOperationBlock.execute(arguments: [
                operationID, blockID, Int64(clamping: statistics.minStart), Int64(clamping: statistics.maxStart),
                Int64(clamping: statistics.minDuration), Int64(clamping: statistics.maxDuration), statistics.errors,
            ])
        }

        // Calls between services: resolved here when both spans are in the block, otherwise kept for the join.
        struct Call: Hashable {
            var parent: String
            var child: String
        }
        var calls: [Call: (count: Int, minStart: UInt64, maxStart: UInt64)] = [:]
        var remoteChildren: [DatabaseValue] = []
        var remoteParents: [DatabaseValue] = []
        for span in spans {
            let service = span.resource.serviceName ?? ServiceName.unknown
            let operationID = operationIDs[OperationKey(service: service, name: span.operationName, kind: OTLPMapping.kind(span.kind).rawValue)]!
            if span.kind == .client || span.kind == .producer {
                remoteParents += [
                    Int64(span.startTimeNanosecondsSinceEpoch / Self.nanosecondsPerMinute).databaseValue,
                    Data(span.spanContext.traceID.bytes).databaseValue, Int64(bitPattern: span.spanContext.spanID.value).databaseValue,
                    operationID.databaseValue, blockID.databaseValue,
                ]
            }
            guard let parent = span.parentSpanContext else { continue }
            if let parentIndex = spansByID[parent.spanID], spans[parentIndex].spanContext.traceID == span.spanContext.traceID {
                let parentService = spans[parentIndex].resource.serviceName ?? ServiceName.unknown
                if parentService != service {
                    let start = span.startTimeNanosecondsSinceEpoch
                    let known = calls[Call(parent: parentService, child: service)] ?? (0, start, start)
                    calls[Call(parent: parentService, child: service)] = (known.count + 1, min(known.minStart, start), max(known.maxStart, start))
                }
            } else {
                remoteChildren += [
                    Int64(clamping: span.startTimeNanosecondsSinceEpoch).databaseValue, Data(span.spanContext.traceID.bytes).databaseValue,
                    Int64(bitPattern: parent.spanID.value).databaseValue, operationID.databaseValue, blockID.databaseValue,
                ]
            }
        }
        try insertRows(
            "INSERT OR IGNORE INTO remote_parent (minute, traceID, spanID, operationID, blockID) VALUES ", columns: 5, values: remoteParents, db)
        try insertRows(
            "INSERT OR IGNORE INTO remote_child (startTime, traceID, parentSpanID, operationID, blockID) VALUES ", columns: 5,
            values: remoteChildren, db)
        for (call, statistics) in calls {
            try db.execute(
                sql: """
                    INSERT INTO service_call (blockID, parentService, childService, callCount, minStartTime, maxStartTime)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    blockID, call.parent, call.child, statistics.count, Int64(clamping: statistics.minStart), Int64(clamping: statistics.maxStart),
                ])
        }
    }

    /// Inserts rows of `columns` values each, 100 rows per statement: far fewer statement executions than one
    /// per row.
    static func insertRows(_ insertPrefix: String, columns: Int, values: [DatabaseValue], _ db: Database) throws {
        let rowsPerStatement = 100
        let rowCount = values.count / columns
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        var firstRow = 0
        while firstRow < rowCount {
            let count = min(rowsPerStatement, rowCount - firstRow)
            let statement = try db.cachedStatement(sql: insertPrefix + Array(repeating: row, count: count).joined(separator: ","))
            statement.setUncheckedArguments(StatementArguments(values[firstRow * columns..<(firstRow + count) * columns]))
            try statement.execute()
            firstRow += count
        }
    }

    // MARK: Reading blocks

    /// A block inflated and scanned: where each span is, and each resource's service.
    struct ScannedBlock: Sendable {
        var scanner: SpanBlockScanner
        var spans: [SpanBlockScanner.ScannedSpan]
        var origins: [SpanBlockScanner.Origin]
        var services: [String]
    }

    struct DecodedBlockCache {
        var blocks: [Int64: ScannedBlock] = [:]
        var order: [Int64] = []
        static let capacity = 64

        mutating func insert(_ block: ScannedBlock, id: Int64) {
            if blocks.updateValue(block, forKey: id) == nil { order.append(id) }
            while order.count > Self.capacity { blocks[order.removeFirst()] = nil }
        }

        mutating func removeAll() {
            blocks = [:]
            order = []
        }
    }

    struct CorruptBlock: Error, CustomStringConvertible {
        var blockID: Int64
        var description: String { "span block \(blockID) cannot be decoded" }
    }

    /// The blocks with these ids, from the cache or read from the database.
    private func blocks(_ ids: [Int64], _ db: Database) throws -> [(id: Int64, block: ScannedBlock)] {
        var found: [(Int64, ScannedBlock)] = []
        var missing: [Int64] = []
        decodedBlocks.withLock { cache in
            for id in ids {
                if let block = cache.blocks[id] { found.append((id, block)) } else { missing.append(id) }
            }
        }
        guard !missing.isEmpty else { return found }
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, decodedSize, deflated FROM span_block WHERE id IN (\(missing.map(String.init).joined(separator: ",")))")
        var decoded: [(Int64, ScannedBlock)] = []
        for row in rows {
            let id: Int64 = row["id"]
            let decodedSize: Int = row["decodedSize"]
            let deflated: Data = row["deflated"]
            var buffer = ByteBuffer(bytes: deflated)
            guard let inflated = try? buffer.decompress(with: .deflate(), maxSize: decodedSize + 1), inflated.readableBytes == decodedSize
            else { throw CorruptBlock(blockID: id) }
            let scanner = SpanBlockScanner(bytes: Array(inflated.readableBytesView))
            guard let (spans, origins) = try? scanner.scan(), let services = try? origins.map(scanner.serviceName) else {
                throw CorruptBlock(blockID: id)
            }
            decoded.append((id, ScannedBlock(scanner: scanner, spans: spans, origins: origins, services: services)))
            scannedBlocks.add(1, ordering: .relaxed)
        }
        decodedBlocks.withLock { cache in
            for (id, block) in decoded { cache.insert(block, id: id) }
        }
        let byID = Dictionary(uniqueKeysWithValues: found + decoded)
        return ids.compactMap { id in byID[id].map { (id, $0) } }
    }

    private static func blockIDs(of traceIDs: [TraceID], _ db: Database) throws -> [Int64] {
        // One index seek per live segment and trace id.
        guard let range = try Row.fetchOne(db, sql: "SELECT MIN(id) AS first, MAX(id) AS last FROM span_block"),
            let first = range["first"] as Int64?, let last = range["last"] as Int64?
        else { return [] }
        let segments = (segment(ofBlock: first)...segment(ofBlock: last)).map(String.init).joined(separator: ",")
        let placeholders = traceIDs.map { _ in "?" }.joined(separator: ",")
        return try Int64.fetchAll(
            db,
            sql: "SELECT DISTINCT blockID FROM trace_block WHERE segment IN (\(segments)) AND traceID IN (\(placeholders)) ORDER BY blockID",
            arguments: StatementArguments(traceIDs.map { Data($0.bytes) }))
    }

    public func trace(_ traceID: TraceID) async throws -> [FinishedSpan] {
        OTLPMapping.readSpans(from: try await otlpTraces([traceID])).spans
            .sorted { $0.startTimeNanosecondsSinceEpoch < $1.startTimeNanosecondsSinceEpoch }
    }

    public func otlpTraces(_ traceIDs: [TraceID]) async throws -> OTLPExportTraceServiceRequest {
        guard !traceIDs.isEmpty else { return OTLPExportTraceServiceRequest() }
        let blocks = try await database.read { db in try self.blocks(Self.blockIDs(of: traceIDs, db), db) }
        let wanted = Set(traceIDs.map(\.bytes))
        // Resources and scopes that are byte-for-byte the same are merged across blocks; a span is kept once per
        // distinct bytes under the same resource and scope (retries are exact copies).
        var builder = OTLPRequestBuilder<[UInt8], [UInt8]>()
        var seen: Set<[UInt8]> = []
        for (_, block) in blocks {
            for scanned in block.spans where wanted.contains(Array(block.scanner.bytes[scanned.traceID])) {
                let origin = block.origins[scanned.resourceIndex]
                let resourceBytes = origin.resource.map { Array(block.scanner.bytes[$0]) } ?? []
                let schemaBytes = origin.schemaURL.map { Array(block.scanner.bytes[$0]) } ?? []
                let resourceKey = resourceBytes + [0xFF] + schemaBytes
                let scopeBytes = origin.scopes[scanned.scopeIndex].map { Array(block.scanner.bytes[$0]) } ?? []
                guard seen.insert(resourceKey + [0xFE] + scopeBytes + [0xFD] + Array(block.scanner.bytes[scanned.range])).inserted else {
                    continue
                }
                try builder.append(
                    block.scanner.decodeSpan(scanned), resourceKey: resourceKey,
                    resource: { (try Opentelemetry_Proto_Resource_V1_Resource(serializedBytes: resourceBytes), String(decoding: schemaBytes, as: UTF8.self)) },
                    scopeKey: scopeBytes, scope: { try Opentelemetry_Proto_Common_V1_InstrumentationScope(serializedBytes: scopeBytes) })
            }
        }
        return builder.request
    }

    public func services() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT service FROM operation ORDER BY service") }
    }

    public func operations(service: String) async throws -> [(name: String, kind: SpanKindName)] {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, kind FROM operation WHERE service = ? ORDER BY name, kind", arguments: [service])
        }
        return rows.map { row in
            let kind: Int = row["kind"]
            return (row["name"], SpanKindName(Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: kind) ?? .unspecified) ?? .internal)
        }
    }

    // MARK: Search

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
                sql: "SELECT id, service FROM operation" + (operationConditions.isEmpty ? "" : " WHERE " + operationConditions.joined(separator: " AND ")),
                arguments: StatementArguments(operationArguments))
            guard !operations.isEmpty else { return [] }
            let services = Set(operations.map { $0["service"] as String })

            var conditions = [
                "o.operationID IN (\(operations.map { String($0["id"] as Int64) }.joined(separator: ",")))",
                "o.maxStartTime >= ?", "o.minStartTime <= ?",
            ]
            var arguments: [DatabaseValue] = [
                Int64(clamping: query.startTimeMinimumNanoseconds).databaseValue, Int64(clamping: query.startTimeMaximumNanoseconds).databaseValue,
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
            for tag in matcher.attributeTags {
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
    /// the span's attributes or by its resource's.
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
                case "span.kind": kind = ["internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5][tag.value] ?? -1
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
            guard span.startTime >= query.startTimeMinimumNanoseconds, span.startTime <= query.startTimeMaximumNanoseconds else { return false }
            let duration = span.endTime &- min(span.startTime, span.endTime)
            if let minimum = query.durationMinimumNanoseconds, duration < minimum { return false }
            if let maximum = query.durationMaximumNanoseconds, duration > maximum { return false }
            if let operationName, !block.scanner.equals(span.name, operationName) { return false }
            if let kind, span.kind != kind { return false }
            if let mustBeError, (span.statusCode == 2) != mustBeError { return false }
            for (index, tag) in attributeTags.enumerated() where !resourceMatch.satisfiedTags.contains(index) {
                guard try block.scanner.attributeText(attributeKeys[index], in: span.range, attributeField: 9) == tag.value else { return false }
            }
            return true
        }
    }

    public func summaries(_ traceIDs: [TraceID]) async throws -> [TraceSummary] {
        guard !traceIDs.isEmpty else { return [] }
        let blocks = try await database.read { db in try self.blocks(Self.blockIDs(of: traceIDs, db), db) }
        let wanted = Set(traceIDs)
        // Keyed by span id: a span sent twice counts once.
        var spansByTrace: [TraceID: [SpanID: TraceSummary.SpanOutline]] = [:]
        for (_, block) in blocks {
            for span in block.spans {
                guard let traceID = TraceID(bytes: block.scanner.bytes[span.traceID]), wanted.contains(traceID),
                    let spanID = SpanID(bytes: block.scanner.bytes[span.spanID])
                else { continue }
                spansByTrace[traceID, default: [:]][spanID] = TraceSummary.SpanOutline(
                    // An all-zero parent id means none, as when the span is read in full.
                    spanID: spanID, parentSpanID: SpanID(bytes: block.scanner.bytes[span.parentSpanID]).flatMap { $0.isValid ? $0 : nil },
                    service: block.services[span.resourceIndex], operation: block.scanner.string(span.name),
                    start: span.startTime, end: span.endTime, isError: span.statusCode == 2)
            }
        }
        return traceIDs.compactMap { traceID in
            guard let byID = spansByTrace[traceID], !byID.isEmpty else { return nil }
            return TraceSummary(traceID: traceID, outlines: Array(byID.values))
        }
    }

    // MARK: Dependencies, retention, size

    public func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency] {
        let start = Int64(clamping: startNanoseconds)
        let end = Int64(clamping: endNanoseconds)
        let rows = try await database.read { db in
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
                arguments: [start, end, start, end])
        }
        return rows.map { ServiceDependency(parent: $0["parent"], child: $0["child"], callCount: $0["calls"]) }
    }

    /// Deletes the blocks whose spans all started before `cutoffNanoseconds` (blocks hold one hour at most).
    public func deleteSpans(startedBefore cutoffNanoseconds: UInt64) async throws -> Int {
        try await deleteBlocks(
            where: "maxStartTime < ?", arguments: [Int64(clamping: cutoffNanoseconds)])
    }

    /// Deletes the `count` blocks whose spans are oldest (by latest start time, then by arrival), whatever their
    /// times: the size bound makes progress even when every span carries the same start time.
    public func deleteOldestBlocks(_ count: Int) async throws -> Int {
        try await deleteBlocks(
            where: "id IN (SELECT id FROM span_block ORDER BY maxStartTime, id LIMIT ?)", arguments: [max(count, 0)])
    }

    /// The number of stored blocks.
    public func storedBlockCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM span_block") ?? 0 }
    }

    private func deleteBlocks(where condition: String, arguments: StatementArguments) async throws -> Int {
        let deleted = try await database.write { db -> Int in
            let doomed = try Row.fetchAll(
                db, sql: "SELECT id, minStartTime, maxStartTime, spanCount FROM span_block WHERE \(condition)", arguments: arguments)
            guard !doomed.isEmpty else { return 0 }
            for chunkStart in stride(from: 0, to: doomed.count, by: 1000) {
                let chunk = Array(doomed[chunkStart..<min(chunkStart + 1000, doomed.count)])
                try db.execute(sql: "DELETE FROM span_block WHERE id IN (\(chunk.map { String($0["id"] as Int64) }.joined(separator: ",")))")
                // Index rows are found through their segment or time keys, never by scanning whole tables.
                try Self.deleteIndexRows(of: chunk, db)
            }
            try db.execute(sql: "DELETE FROM operation WHERE id NOT IN (SELECT DISTINCT operationID FROM operation_block)")
            return doomed.reduce(0) { $0 + ($1["spanCount"] as Int) }
        }
        if deleted > 0 { decodedBlocks.withLock { $0.removeAll() } }
        return deleted
    }

    private static func deleteIndexRows(of doomed: [Row], _ db: Database) throws {
        let blockIDs = doomed.map { $0["id"] as Int64 }
        let idList = blockIDs.map(String.init).joined(separator: ",")
        let segments = Set(blockIDs.map(Self.segment(ofBlock:))).sorted().map(String.init).joined(separator: ",")
        let earliest = doomed.map { $0["minStartTime"] as Int64 }.min() ?? 0
        let latest = doomed.map { $0["maxStartTime"] as Int64 }.max() ?? 0
        let minutes = (UInt64(max(earliest, 0)) / Self.nanosecondsPerMinute)...(UInt64(max(latest, 0)) / Self.nanosecondsPerMinute)
        try db.execute(sql: """
            DELETE FROM trace_block WHERE segment IN (\(segments)) AND blockID IN (\(idList));
            DELETE FROM term_block WHERE segment IN (\(segments)) AND blockID IN (\(idList));
            DELETE FROM operation_block WHERE blockID IN (\(idList));
            DELETE FROM service_call WHERE blockID IN (\(idList));
            DELETE FROM remote_child WHERE startTime BETWEEN \(earliest) AND \(latest) AND blockID IN (\(idList));
            DELETE FROM remote_parent WHERE minute BETWEEN \(minutes.lowerBound) AND \(minutes.upperBound) AND blockID IN (\(idList));
            """)
    }

    /// The bytes the store holds: pages in use times page size, plus the write-ahead log not yet checkpointed.
    public func sizeInBytes() async throws -> Int {
        let pagesInUse = try await database.read { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            return max(pages - free, 0) * pageSize
        }
        return pagesInUse + walBytes()
    }

    private func walBytes() -> Int {
        guard let path else { return 0 }
        return ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
    }

    /// Whether a write failed for lack of space since the last call; clears the flag.
    public func takeOutOfSpace() -> Bool {
        outOfSpace.exchange(false, ordering: .relaxed)
    }

    static func isOutOfSpace(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_FULL || error.extendedResultCode == .SQLITE_IOERR_WRITE
            || error.resultCode == .SQLITE_IOERR
    }

    /// The largest reserve file: see ``makeReserve(bytes:)``.
    public static let reserveBytes = 4 << 20

    var reservePath: String? { path.map { $0 + ".reserve" } }

    /// Makes a reserve file of `bytes` next to the database if it is missing and
    /// there is room; false when it could not be made. It is deleted when the disk is full so that deleting spans
    /// (which needs room in the write-ahead log) can run, then made again.
    @discardableResult
    public func makeReserve(bytes: Int = reserveBytes) -> Bool {
        guard let reservePath, bytes > 0 else { return false }
        if FileManager.default.fileExists(atPath: reservePath) { return true }
        guard FileManager.default.createFile(atPath: reservePath, contents: nil), let handle = FileHandle(forWritingAtPath: reservePath) else {
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
    public func releaseReserve() {
        if let reservePath { try? FileManager.default.removeItem(atPath: reservePath) }
    }

    /// Gives free pages back to the file system (where the database was made with incremental auto-vacuum), copies
    /// the write-ahead log into the database and truncates it: the files shrink to what the spans need.
    public func checkpoint() async throws {
        try await database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA incremental_vacuum") }
        guard let pool = database as? DatabasePool else { return }
        try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }
}

/// The attribute index's terms: a stable 64-bit FNV-1a hash of service, key and value, so one index lookup
/// answers "a span of this service has this attribute".
enum SearchTerm {
    static func hash(service: String, key: String, value: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            hash ^= 0xff
            hash = hash &* 0x100_0000_01b3
        }
        mix(service)
        mix(key)
        mix(value)
        return Int64(bitPattern: hash)
    }

    /// An attribute value as the text Jaeger's tag search compares with: `200`, `true`, `0.5`, `text`.
    static func text(_ attribute: SpanAttribute) -> String {
        switch attribute {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .int32(let int): return String(int)
        case .int64(let int): return String(int)
        case .double(let double): return String(double)
        case .bool(let bool): return bool ? "true" : "false"
        default: return ConsoleSpanExporter.valueText(attribute)
        }
    }
}

/// Builds an `ExportTraceServiceRequest` span by span: spans with equal resource keys share one `ResourceSpans`, and
/// within it spans with equal scope keys one `ScopeSpans`, in first-seen order. Resources and scopes are made only
/// when first needed.
struct OTLPRequestBuilder<ResourceKey: Hashable, ScopeKey: Hashable> {
    private(set) var request = OTLPExportTraceServiceRequest()
    private var resourceIndexes: [ResourceKey: Int] = [:]
    private var scopeIndexes: [[ScopeKey: Int]] = []

    mutating func append(
        _ span: Opentelemetry_Proto_Trace_V1_Span,
        resourceKey: ResourceKey, resource: () throws -> (Opentelemetry_Proto_Resource_V1_Resource, String),
        scopeKey: ScopeKey, scope: () throws -> Opentelemetry_Proto_Common_V1_InstrumentationScope
    ) rethrows {
        let resourceIndex: Int
        if let known = resourceIndexes[resourceKey] {
            resourceIndex = known
        } else {
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            (resourceSpans.resource, resourceSpans.schemaURL) = try resource()
            resourceIndex = request.resourceSpans.count
            resourceIndexes[resourceKey] = resourceIndex
            request.resourceSpans.append(resourceSpans)
            scopeIndexes.append([:])
        }
        let scopeIndex: Int
        if let known = scopeIndexes[resourceIndex][scopeKey] {
            scopeIndex = known
        } else {
            var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
            scopeSpans.scope = try scope()
            scopeIndex = request.resourceSpans[resourceIndex].scopeSpans.count
            scopeIndexes[resourceIndex][scopeKey] = scopeIndex
            request.resourceSpans[resourceIndex].scopeSpans.append(scopeSpans)
        }
        request.resourceSpans[resourceIndex].scopeSpans[scopeIndex].spans.append(span)
    }
}
