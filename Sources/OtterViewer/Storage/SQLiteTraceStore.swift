import Foundation
import GRDB
import Otter
import OtterOTLP
import SwiftProtobuf
import Tracing

/// Spans in one SQLite file (GRDB, WAL): a row per span holding its OTLP protobuf encoding plus the columns
/// that queries filter on; resources (with their scope) are stored once and shared by their spans.
public final class SQLiteTraceStore: TraceStore {
    private let database: any DatabaseWriter

    /// Opens (creating and migrating if needed) the store at `path`; `":memory:"` keeps it in memory.
    public init(path: String) throws {
        if path == ":memory:" {
            database = try DatabaseQueue()
        } else {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            database = try DatabasePool(path: path, configuration: configuration)
        }
        try Self.migrator.migrate(database)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: spans, origins") { db in
            try db.execute(sql: """
                CREATE TABLE origin (
                    id INTEGER PRIMARY KEY,
                    fingerprint BLOB NOT NULL UNIQUE,
                    service TEXT NOT NULL,
                    encoded BLOB NOT NULL
                );
                CREATE TABLE span (
                    traceID BLOB NOT NULL,
                    spanID BLOB NOT NULL,
                    originID INTEGER NOT NULL REFERENCES origin(id),
                    service TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    startTime INTEGER NOT NULL,
                    duration INTEGER NOT NULL,
                    isError INTEGER NOT NULL,
                    encoded BLOB NOT NULL,
                    PRIMARY KEY (traceID, spanID)
                ) WITHOUT ROWID;
                CREATE INDEX span_by_service_time ON span(service, startTime);
                CREATE INDEX span_by_service_operation ON span(service, operation, kind);
                """)
        }
        migrator.registerMigration("v2: attribute index") { db in
            try db.execute(sql: """
                CREATE TABLE span_attribute (
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    traceID BLOB NOT NULL,
                    spanID BLOB NOT NULL,
                    PRIMARY KEY (key, value, traceID, spanID)
                ) WITHOUT ROWID;
                CREATE TABLE origin_attribute (
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    originID INTEGER NOT NULL REFERENCES origin(id),
                    PRIMARY KEY (key, value, originID)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3: parent span ids") { db in
            try db.execute(sql: "ALTER TABLE span ADD COLUMN parentSpanID BLOB")
            try db.execute(sql: "CREATE INDEX span_by_start ON span(startTime)")
        }
        migrator.registerMigration("v4: origins without spans can be pruned") { db in
            try db.execute(sql: "CREATE INDEX span_by_origin ON span(originID)")
        }
        return migrator
    }

    /// An attribute value as the text Jaeger's tag search compares with: `200`, `true`, `0.5`, `text`.
    static func searchText(_ attribute: SpanAttribute) -> String {
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

    private struct OriginKey: Hashable {
        var resource: Resource
        var scope: InstrumentationScope
    }

    /// A resource and scope, encoded as an OTLP `ScopeSpans`-less `ResourceSpans` header: the span's origin.
    private static func originEncoding(_ span: FinishedSpan) throws -> [UInt8] {
        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resourceSpans.resource.attributes = OTLPMapping.keyValues(span.resource.attributes)
        if let schemaURL = span.resource.schemaURL { resourceSpans.schemaURL = schemaURL }
        var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scopeSpans.scope.name = span.instrumentationScope.name
        if let version = span.instrumentationScope.version { scopeSpans.scope.version = version }
        resourceSpans.scopeSpans = [scopeSpans]
        return try resourceSpans.serializedBytes()
    }

    public func write(_ spans: [FinishedSpan]) async throws {
        guard !spans.isEmpty else { return }
        var rows: [(span: FinishedSpan, origin: [UInt8], encoded: [UInt8])] = []
        rows.reserveCapacity(spans.count)
        // Spans of one batch nearly always share a few resources: encode each resource and scope once.
        var originEncodings: [OriginKey: [UInt8]] = [:]
        for span in spans {
            let key = OriginKey(resource: span.resource, scope: span.instrumentationScope)
            let origin: [UInt8]
            if let known = originEncodings[key] {
                origin = known
            } else {
                origin = try Self.originEncoding(span)
                originEncodings[key] = origin
            }
            rows.append((span, origin, try OTLPMapping.span(for: span).serializedBytes()))
        }
        let rowsToInsert = rows
        try await database.write { db in
            var originIDs: [[UInt8]: Int64] = [:]
            let insertSpan = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO span (traceID, spanID, originID, service, operation, kind, startTime, duration, isError, encoded, parentSpanID)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertAttribute = try db.makeStatement(
                sql: "INSERT OR IGNORE INTO span_attribute (key, value, traceID, spanID) VALUES (?, ?, ?, ?)")
            for row in rowsToInsert {
                let originID: Int64
                if let known = originIDs[row.origin] {
                    originID = known
                } else {
                    let fingerprint = Data(row.origin)
                    if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM origin WHERE fingerprint = ?", arguments: [fingerprint]) {
                        originID = existing
                    } else {
                        try db.execute(
                            sql: "INSERT INTO origin (fingerprint, service, encoded) VALUES (?, ?, ?)",
                            arguments: [fingerprint, row.span.resource.serviceName ?? "unknown_service", fingerprint])
                        originID = db.lastInsertedRowID
                    }
                    originIDs[row.origin] = originID
                    var originAttributes: [(String, String)] = []
                    row.span.resource.attributes.forEach { key, value in originAttributes.append((key, Self.searchText(value))) }
                    for (key, value) in originAttributes {
                        try db.execute(
                            sql: "INSERT OR IGNORE INTO origin_attribute (key, value, originID) VALUES (?, ?, ?)",
                            arguments: [key, value, originID])
                    }
                }
                let span = row.span
                try insertSpan.execute(arguments: [
                    Data(span.spanContext.traceID.bytes), Data(span.spanContext.spanID.bytes), originID,
                    span.resource.serviceName ?? "unknown_service", span.operationName,
                    OTLPMapping.kind(span.kind).rawValue,
                    Int64(bitPattern: span.startTimeNanosecondsSinceEpoch), Int64(bitPattern: span.durationNanoseconds),
                    span.status?.code == .error, Data(row.encoded), span.parentSpanContext.map { Data($0.spanID.bytes) },
                ])
                var attributes: [(String, String)] = []
                span.attributes.forEach { key, value in attributes.append((key, Self.searchText(value))) }
                for (key, value) in attributes {
                    try insertAttribute.execute(arguments: [
                        key, value, Data(span.spanContext.traceID.bytes), Data(span.spanContext.spanID.bytes),
                    ])
                }
            }
        }
    }

    public func trace(_ traceID: TraceID) async throws -> [FinishedSpan] {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT span.encoded AS span, origin.encoded AS origin FROM span JOIN origin ON origin.id = span.originID
                    WHERE span.traceID = ? ORDER BY span.startTime
                    """,
                arguments: [Data(traceID.bytes)])
        }
        var origins: [Data: (Resource, InstrumentationScope)] = [:]
        return try rows.map { row in
            let originBytes: Data = row["origin"]
            let spanBytes: Data = row["span"]
            let origin: (Resource, InstrumentationScope)
            if let known = origins[originBytes] {
                origin = known
            } else {
                let resourceSpans = try Opentelemetry_Proto_Trace_V1_ResourceSpans(serializedBytes: originBytes)
                let scope = resourceSpans.scopeSpans.first?.scope
                origin = (
                    Resource(
                        attributes: OTLPMapping.spanAttributes(resourceSpans.resource.attributes),
                        schemaURL: resourceSpans.schemaURL.isEmpty ? nil : resourceSpans.schemaURL),
                    InstrumentationScope(name: scope?.name ?? "", version: (scope?.version).flatMap { $0.isEmpty ? nil : $0 })
                )
                origins[originBytes] = origin
            }
            return try OTLPMapping.finishedSpan(
                from: Opentelemetry_Proto_Trace_V1_Span(serializedBytes: spanBytes), resource: origin.0, scope: origin.1)
        }
    }

    public func services() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT service FROM origin ORDER BY service") }
    }

    public func operations(service: String) async throws -> [(name: String, kind: SpanKindName)] {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT DISTINCT operation, kind FROM span WHERE service = ? ORDER BY operation, kind", arguments: [service])
        }
        return rows.map { row in
            let kind: Int = row["kind"]
            let name: SpanKindName =
                switch kind {
                case 2: .server
                case 3: .client
                case 4: .producer
                case 5: .consumer
                default: .internal
                }
            return (row["operation"], name)
        }
    }

    public func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID] {
        var conditions = ["s.startTime >= ?", "s.startTime <= ?"]
        var arguments: [any DatabaseValueConvertible] = [
            Int64(clamping: query.startTimeMinimumNanoseconds), Int64(clamping: query.startTimeMaximumNanoseconds),
        ]
        if let service = query.service {
            conditions.insert("s.service = ?", at: 0)
            arguments.insert(service, at: 0)
        }
        if let operation = query.operation {
            conditions.append("s.operation = ?")
            arguments.append(operation)
        }
        if let minimum = query.durationMinimumNanoseconds {
            conditions.append("s.duration >= ?")
            arguments.append(Int64(clamping: minimum))
        }
        if let maximum = query.durationMaximumNanoseconds {
            conditions.append("s.duration <= ?")
            arguments.append(Int64(clamping: maximum))
        }
        var attributeTags: [(key: String, value: String)] = []
        for tag in query.tags {
            switch tag.key {
            case "error":
                conditions.append("s.isError = ?")
                arguments.append(tag.value == "true")
            case "span.kind":
                let kind = ["internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5][tag.value] ?? -1
                conditions.append("s.kind = ?")
                arguments.append(kind)
            default:
                attributeTags.append(tag)
            }
        }
        let limit = max(1, query.limit)
        let baseValues = arguments.map(\.databaseValue)
        let baseConditions = conditions
        let tags = attributeTags
        let ids = try await database.read { db -> [Data] in
            // Each attribute tag matches a span attribute, or an attribute of the span's resource.
            var tagConditions: [String] = []
            var tagArguments: [DatabaseValue] = []
            var drivingTag: (key: String, value: String)?
            for tag in tags {
                let originIDs = try Int64.fetchAll(
                    db, sql: "SELECT originID FROM origin_attribute WHERE key = ? AND value = ?", arguments: [tag.key, tag.value])
                if originIDs.isEmpty, drivingTag == nil {
                    // Only span attributes can match: start from the attribute index, the most selective access.
                    drivingTag = tag
                    continue
                }
                let originList = originIDs.isEmpty ? "NULL" : originIDs.map(String.init).joined(separator: ",")
                tagConditions.append("""
                    (s.originID IN (\(originList))
                     OR EXISTS (SELECT 1 FROM span_attribute a WHERE a.key = ? AND a.value = ? AND a.traceID = s.traceID AND a.spanID = s.spanID))
                    """)
                tagArguments.append(contentsOf: [tag.key.databaseValue, tag.value.databaseValue])
            }
            var from = "span s"
            var allArguments: [DatabaseValue] = []
            if let drivingTag {
                from = "span_attribute d JOIN span s ON s.traceID = d.traceID AND s.spanID = d.spanID"
                allArguments.append(contentsOf: [drivingTag.key.databaseValue, drivingTag.value.databaseValue])
            }
            var whereClause = baseConditions + tagConditions
            if drivingTag != nil { whereClause.insert("d.key = ? AND d.value = ?", at: 0) }
            allArguments.append(contentsOf: baseValues)
            allArguments.append(contentsOf: tagArguments)
            allArguments.append(limit.databaseValue)
            let sql = """
                SELECT s.traceID AS traceID, MAX(s.startTime) AS latest FROM \(from)
                WHERE \(whereClause.joined(separator: " AND "))
                GROUP BY s.traceID ORDER BY latest DESC LIMIT ?
                """
            return try Data.fetchAll(db, sql: sql, arguments: StatementArguments(allArguments))
        }
        return ids.compactMap { TraceID(bytes: $0) }
    }

    public func summaries(_ traceIDs: [TraceID]) async throws -> [TraceSummary] {
        guard !traceIDs.isEmpty else { return [] }
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT traceID, spanID, parentSpanID, service, operation, startTime, duration, isError FROM span
                    WHERE traceID IN (\(traceIDs.map { _ in "?" }.joined(separator: ",")))
                    """,
                arguments: StatementArguments(traceIDs.map { Data($0.bytes) }))
        }
        struct SpanColumns {
            var spanID: Data
            var parentSpanID: Data?
            var service: String
            var operation: String
            var start: UInt64
            var end: UInt64
            var isError: Bool
        }
        var spansByTrace: [Data: [SpanColumns]] = [:]
        for row in rows {
            let start = UInt64(bitPattern: row["startTime"])
            spansByTrace[row["traceID"], default: []].append(
                SpanColumns(
                    spanID: row["spanID"], parentSpanID: row["parentSpanID"], service: row["service"], operation: row["operation"],
                    start: start, end: start &+ UInt64(bitPattern: row["duration"]), isError: row["isError"]))
        }
        return traceIDs.compactMap { traceID in
            guard let spans = spansByTrace[Data(traceID.bytes)], !spans.isEmpty else { return nil }
            let stored = Set(spans.map(\.spanID))
            let parentless = spans.filter { $0.parentSpanID.map { !stored.contains($0) } ?? true }.sorted { $0.start < $1.start }
            let root = parentless.first ?? spans.min { $0.start < $1.start }!
            var services: [String: TraceSummary.ServiceSummary] = [:]
            for span in spans {
                services[span.service, default: .init(name: span.service, spanCount: 0, errorSpanCount: 0)].spanCount += 1
                if span.isError { services[span.service]!.errorSpanCount += 1 }
            }
            return TraceSummary(
                traceID: traceID, rootServiceName: root.service, rootOperationName: root.operation,
                startTimeNanoseconds: spans.map(\.start).min()!, endTimeNanoseconds: spans.map(\.end).max()!,
                spanCount: spans.count, errorSpanCount: spans.filter(\.isError).count, orphanSpanCount: max(0, parentless.count - 1),
                services: services.values.sorted { $0.name < $1.name })
        }
    }

    public func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency] {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT parent.service AS parent, child.service AS child, COUNT(*) AS calls
                    FROM span child JOIN span parent ON parent.traceID = child.traceID AND parent.spanID = child.parentSpanID
                    WHERE child.startTime >= ? AND child.startTime <= ? AND parent.service != child.service
                    GROUP BY parent.service, child.service ORDER BY parent.service, child.service
                    """,
                arguments: [Int64(clamping: startNanoseconds), Int64(clamping: endNanoseconds)])
        }
        return rows.map { ServiceDependency(parent: $0["parent"], child: $0["child"], callCount: $0["calls"]) }
    }

    public func deleteSpans(startedBefore cutoffNanoseconds: UInt64) async throws -> Int {
        let cutoff = Int64(clamping: cutoffNanoseconds)
        return try await database.write { db in
            try db.execute(
                sql: """
                    DELETE FROM span_attribute WHERE EXISTS (
                        SELECT 1 FROM span s WHERE s.traceID = span_attribute.traceID AND s.spanID = span_attribute.spanID AND s.startTime < ?)
                    """,
                arguments: [cutoff])
            try db.execute(sql: "DELETE FROM span WHERE startTime < ?", arguments: [cutoff])
            let deleted = db.changesCount
            // Services and resources whose spans are all gone disappear from the lists too.
            try db.execute(sql: """
                DELETE FROM origin_attribute WHERE NOT EXISTS (SELECT 1 FROM span WHERE span.originID = origin_attribute.originID);
                DELETE FROM origin WHERE NOT EXISTS (SELECT 1 FROM span WHERE span.originID = origin.id);
                """)
            return deleted
        }
    }

    /// The database's size on disk in bytes (pages in use times page size).
    public func sizeInBytes() async throws -> Int {
        try await database.read { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            return (pages - free) * pageSize
        }
    }

    /// The start time of the oldest stored span, if any.
    public func oldestStartTime() async throws -> UInt64? {
        try await database.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(startTime) FROM span").map { UInt64(bitPattern: $0) }
        }
    }
}
