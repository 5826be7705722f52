import Foundation
import GRDB
import Otter
import OtterOTLP
import SwiftProtobuf
import Testing
import Tracing

@testable import OtterViewer

/// A file written by the first storage layout (a row per span) opens with every span still there.
@Suite("Viewer storage migration")
struct StorageMigrationTests {
    @Test func rowPerSpanFilesMigrateToBlocks() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("otter-legacy-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let spans = JaegerSearchTests.dataSet()
        do {
            let legacy = try DatabaseQueue(path: path)
            try SQLiteTraceStore.migrator.migrate(legacy, upTo: "v4: origins without spans can be pruned")
            try await legacy.write { db in
                var originIDs: [Resource: Int64] = [:]
                for span in spans {
                    let originID: Int64
                    if let known = originIDs[span.resource] {
                        originID = known
                    } else {
                        var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
                        resourceSpans.resource.attributes = OTLPMapping.keyValues(span.resource.attributes)
                        resourceSpans.scopeSpans = [Opentelemetry_Proto_Trace_V1_ScopeSpans()]
                        let encoded = Data(try resourceSpans.serializedBytes() as [UInt8])
                        try db.execute(
                            sql: "INSERT INTO origin (fingerprint, service, encoded) VALUES (?, ?, ?)",
                            arguments: [encoded, span.resource.serviceName ?? "", encoded])
                        originID = db.lastInsertedRowID
                        originIDs[span.resource] = originID
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO span (traceID, spanID, originID, service, operation, kind, startTime, duration, isError, encoded, parentSpanID)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            Data(span.spanContext.traceID.bytes), Data(span.spanContext.spanID.bytes), originID,
                            span.resource.serviceName ?? "",
                            span.operationName, 1, Int64(span.startTimeNanosecondsSinceEpoch), Int64(span.durationNanoseconds), false,
                            Data(try OTLPMapping.span(for: span).serializedBytes() as [UInt8]),
                            span.parentSpanContext.map { Data($0.spanID.bytes) },
                        ])
                }
            }
        }
        let store = try SQLiteTraceStore(path: path)
        let trace = try await store.trace(spans[4].spanContext.traceID)
        #expect(trace.map(\.operationName) == ["GET /x2", "load customer"])
        #expect(trace.last?.attributes.get("customer.id") == .string("c2"))
        #expect(try await store.services() == ["backend", "frontend"])
        let found = try await store.findTraceIDs(TraceQuery(service: "backend", tags: [("customer.id", "c2")]))
        #expect(found.count == 6)
        let tables = try await DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        #expect(!tables.contains("span") && !tables.contains("span_attribute"), "the old tables are gone: \(tables)")
    }
}
