import CompressNIO
import Foundation
import GRDB
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf
import Tracing

extension SQLiteTraceStore {
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
    func blocks(_ ids: [Int64], _ db: Database) throws -> [(id: Int64, block: ScannedBlock)] {
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

    static func blockIDs(of traceIDs: [TraceID], _ db: Database) throws -> [Int64] {
        // One index seek per live segment and trace id.
        guard let range = try Row.fetchOne(db, sql: "SELECT MIN(id) AS first, MAX(id) AS last FROM span_block"),
            let first = range["first"] as Int64?, let last = range["last"] as Int64?
        else { return [] }
        let segments = (segment(ofBlock: first)...segment(ofBlock: last)).map(String.init).joined(separator: ",")
        let placeholders = traceIDs.map { _ in "?" }.joined(separator: ",")
        return try Int64.fetchAll(
            db,
            sql:
                "SELECT DISTINCT blockID FROM trace_block WHERE segment IN (\(segments)) AND traceID IN (\(placeholders)) ORDER BY blockID",
            arguments: StatementArguments(traceIDs.map { Data($0.bytes) }))
    }

    /// Every stored span of these traces, decoded from the bytes as received; a span stored twice with the same bytes,
    /// resource and scope (an exporter's retry) appears once. Empty when none is stored; stops when the task is cancelled.
    public func traces(_ traceIDs: [TraceID]) async throws -> OTLPTraces {
        guard !traceIDs.isEmpty else { return OTLPTraces() }
        let blocks = try await database.read { db in try self.blocks(Self.blockIDs(of: traceIDs, db), db) }
        let wanted = Set(traceIDs.map(\.bytes))
        // Resources and scopes that are byte-for-byte the same are merged across blocks; a span is kept once per
        // distinct bytes under the same resource and scope (retries are exact copies).
        var builder = OTLPRequestBuilder<[UInt8], [UInt8]>()
        var seen: Set<[UInt8]> = []
        for (_, block) in blocks {
            // A caller that went away (a cancelled gRPC stream) stops the decoding of a large trace.
            try Task.checkCancellation()
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
                    resource: {
                        (
                            try Opentelemetry_Proto_Resource_V1_Resource(serializedBytes: resourceBytes),
                            String(decoding: schemaBytes, as: UTF8.self)
                        )
                    },
                    scopeKey: scopeBytes, scope: { try Opentelemetry_Proto_Common_V1_InstrumentationScope(serializedBytes: scopeBytes) })
            }
        }
        return OTLPTraces(builder.request)
    }

    /// The service names of the stored spans, sorted.
    public func services() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT service FROM operation ORDER BY service") }
    }

    /// Every service name the store has seen, deleted ones included, in the order it first saw them: colours assigned
    /// in this order stay the same whatever retention deletes.
    public func servicesInFirstSeenOrder() async throws -> [String] {
        try await database.read { db in try String.fetchAll(db, sql: "SELECT service FROM service_seen ORDER BY seen, service") }
    }

    /// The operation names stored for `service` with their span kinds, one entry per name and kind, sorted by name and
    /// kind; an unspecified kind reads as `internal`.
    public func operations(service: String) async throws -> [(name: String, kind: SpanKind)] {
        let rows = try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, kind FROM operation WHERE service = ? ORDER BY name, kind", arguments: [service])
                .map { row -> (String, Int) in (row["name"], row["kind"]) }
        }
        return rows.map { name, kind in
            (name, (SpanKindName(Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: kind) ?? .unspecified) ?? .internal).spanKind)
        }
    }

    /// A summary of each known trace of `traceIDs`, in their order; unknown traces are left out. A span stored twice
    /// counts once.
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
}
