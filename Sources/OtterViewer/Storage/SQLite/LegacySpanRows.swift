import Foundation
import GRDB
import Otter
import OtterOTLP
import SwiftProtobuf

/// The first storage layout (schema v1 to v4): a row per span with its OTLP encoding, a row per span attribute.
/// Kept so that files written by earlier versions migrate: ``convert(_:insert:)`` moves their spans into
/// blocks and drops the old tables.
enum LegacySpanRows {
    static func registerMigrations(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1: spans, origins") { db in
            try db.execute(
                sql: """
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
            try db.execute(
                sql: """
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
    }

    /// Reads the old rows in start order, hands them to `insert` a chunk at a time, then drops the old tables.
    static func convert(_ db: Database, insert: ([FinishedSpan]) throws -> Void) throws {
        var origins: [Int64: (Resource, InstrumentationScope)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, encoded FROM origin") {
            let resourceSpans = try Opentelemetry_Proto_Trace_V1_ResourceSpans(serializedBytes: Array(row["encoded"] as Data))
            let scope = resourceSpans.scopeSpans.first?.scope
            origins[row["id"]] = (
                Resource(
                    attributes: OTLPReading.spanAttributes(resourceSpans.resource.attributes),
                    schemaURL: resourceSpans.schemaURL.isEmpty ? nil : resourceSpans.schemaURL),
                InstrumentationScope(name: scope?.name ?? "", version: (scope?.version).flatMap { $0.isEmpty ? nil : $0 })
            )
        }
        let cursor = try Row.fetchCursor(db, sql: "SELECT originID, encoded FROM span ORDER BY startTime")
        var chunk: [FinishedSpan] = []
        while let row = try cursor.next() {
            guard let origin = origins[row["originID"]] else { continue }
            let otlp = try Opentelemetry_Proto_Trace_V1_Span(serializedBytes: Array(row["encoded"] as Data))
            chunk.append(try OTLPReading.finishedSpan(from: otlp, resource: origin.0, scope: origin.1))
            if chunk.count == 4096 {
                try insert(chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        if !chunk.isEmpty { try insert(chunk) }
        try db.execute(
            sql: """
                DROP TABLE span_attribute;
                DROP TABLE origin_attribute;
                DROP TABLE span;
                DROP TABLE origin;
                """)
    }
}
