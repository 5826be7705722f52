import CompressNIO
import Foundation
import GRDB
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf
import Synchronization
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

    /// The most recently decoded blocks, up to 64 of them and 32 MB (their bytes and scanned spans): a big trace's
    /// blocks pass through it without staying.
    struct DecodedBlockCache {
        var blocks: [Int64: ScannedBlock] = [:]
        var order: [Int64] = []
        var bytes = 0
        static let capacity = 64
        static let capacityBytes = 32 << 20

        static func size(of block: ScannedBlock) -> Int {
            block.scanner.bytes.count + block.spans.count * MemoryLayout<SpanBlockScanner.ScannedSpan>.stride
        }

        mutating func insert(_ block: ScannedBlock, id: Int64) {
            if let replaced = blocks.updateValue(block, forKey: id) {
                bytes -= Self.size(of: replaced)
            } else {
                order.append(id)
            }
            bytes += Self.size(of: block)
            while order.count > Self.capacity || (bytes > Self.capacityBytes && order.count > 1) {
                if let evicted = blocks.removeValue(forKey: order.removeFirst()) { bytes -= Self.size(of: evicted) }
            }
        }

        mutating func removeAll() {
            blocks = [:]
            order = []
            bytes = 0
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

    /// The blocks holding these traces, read a few at a time: a 1,000,000-span trace's 200 blocks are never all
    /// inflated at once.
    func blockSequence(of traceIDs: [TraceID]) async throws -> BlockSequence {
        BlockSequence(store: self, ids: try await database.read { db in try Self.blockIDs(of: traceIDs, db) })
    }

    struct BlockSequence: AsyncSequence {
        typealias Element = (id: Int64, block: ScannedBlock)
        let store: SQLiteTraceStore
        let ids: [Int64]
        static let blocksPerRead = 8

        struct AsyncIterator: AsyncIteratorProtocol {
            let store: SQLiteTraceStore
            let ids: [Int64]
            var next = 0
            var buffered: [(id: Int64, block: ScannedBlock)] = []

            mutating func next() async throws -> (id: Int64, block: ScannedBlock)? {
                // Blocks deleted since their ids were read are skipped.
                while buffered.isEmpty {
                    guard next < ids.count else { return nil }
                    let chunk = Array(ids[next..<Swift.min(next + BlockSequence.blocksPerRead, ids.count)])
                    next += chunk.count
                    let store = store
                    buffered = try await store.database.read { db in try store.blocks(chunk, db) }.reversed()
                }
                return buffered.popLast()
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(store: store, ids: ids) }
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
        let wanted = Set(traceIDs.map(\.bytes))
        return try await decodedSpans(of: traceIDs) { block, scanned in wanted.contains(Array(block.scanner.bytes[scanned.traceID])) }
    }

    /// The spans of one trace whose span ids are in `spanIDs`, in full (a retry once, as ``traces(_:)``): the details
    /// of the spans a big trace's page shows.
    func spans(_ traceID: TraceID, withIDs spanIDs: Set<SpanID>) async throws -> [FinishedSpan] {
        guard !spanIDs.isEmpty else { return [] }
        let wantedTrace = traceID.bytes
        return try await decodedSpans(of: [traceID]) { block, scanned in
            // A span id read in place (no array made per span), then the trace.
            guard let spanID = SpanID(bytes: block.scanner.bytes[scanned.spanID]), spanIDs.contains(spanID) else { return false }
            return block.scanner.equals(scanned.traceID, wantedTrace)
        }.spans
    }

    /// The spans of the blocks holding `traceIDs` that `include` accepts, decoded, a retry once.
    private func decodedSpans(
        of traceIDs: [TraceID], where include: (ScannedBlock, SpanBlockScanner.ScannedSpan) -> Bool
    ) async throws -> OTLPTraces {
        // Resources and scopes that are byte-for-byte the same are merged across blocks; a span is kept once per
        // distinct bytes under the same resource and scope (retries are exact copies).
        var builder = OTLPRequestBuilder<[UInt8], [UInt8]>()
        var seen: Set<[UInt8]> = []
        for try await (_, block) in try await blockSequence(of: traceIDs) {
            // A caller that went away (a cancelled gRPC stream) stops the decoding of a large trace.
            try Task.checkCancellation()
            for scanned in block.spans where include(block, scanned) {
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

    /// The outline of every stored span of one trace, without decoding attributes, events or links: a retry (the
    /// same bytes under the same resource and scope) once, spans that only share an id each. Empty when none is stored.
    func outline(_ traceID: TraceID) async throws -> [SpanOutline] {
        let wanted = traceID.bytes
        var outlines: [SpanOutline] = []
        // A retry is recognised by two independent hashes of its bytes, resource and scope (16 bytes a span, not its bytes).
        var seen: Set<SpanFingerprint> = []
        for try await (_, block) in try await blockSequence(of: [traceID]) {
            try Task.checkCancellation()
            for scanned in block.spans where block.scanner.equals(scanned.traceID, wanted) {
                guard let outline = Self.outline(scanned, in: block),
                    seen.insert(SpanFingerprint(scanned, in: block)).inserted
                else { continue }
                outlines.append(outline)
            }
        }
        return outlines
    }

    /// The spans of one trace in parts, one stored block's at a time (a retry once): a walk over a big trace that
    /// holds one block of decoded spans, not the trace.
    func parts(of traceID: TraceID) async throws -> any TraceParts {
        SQLiteTraceParts(store: self, traceID: traceID, blockIDs: try await database.read { db in try Self.blockIDs(of: [traceID], db) })
    }

    /// The spans of `traceID` in one block, less those `seen` holds (which it then does).
    func part(of traceID: TraceID, inBlock blockID: Int64, seen: inout Set<SpanFingerprint>) async throws -> OTLPTraces {
        guard let (_, block) = try await database.read({ db in try self.blocks([blockID], db) }).first else { return OTLPTraces() }
        let wanted = traceID.bytes
        var builder = OTLPRequestBuilder<[UInt8], [UInt8]>()
        for scanned in block.spans where block.scanner.equals(scanned.traceID, wanted) {
            guard seen.insert(SpanFingerprint(scanned, in: block)).inserted else { continue }
            let origin = block.origins[scanned.resourceIndex]
            let resourceBytes = origin.resource.map { Array(block.scanner.bytes[$0]) } ?? []
            let schemaBytes = origin.schemaURL.map { Array(block.scanner.bytes[$0]) } ?? []
            let scopeBytes = origin.scopes[scanned.scopeIndex].map { Array(block.scanner.bytes[$0]) } ?? []
            try builder.append(
                block.scanner.decodeSpan(scanned), resourceKey: resourceBytes + [0xFF] + schemaBytes,
                resource: {
                    (
                        try Opentelemetry_Proto_Resource_V1_Resource(serializedBytes: resourceBytes),
                        String(decoding: schemaBytes, as: UTF8.self)
                    )
                },
                scopeKey: scopeBytes, scope: { try Opentelemetry_Proto_Common_V1_InstrumentationScope(serializedBytes: scopeBytes) })
        }
        return OTLPTraces(builder.request)
    }

    /// The outline of a scanned span; nil without a valid span id.
    static func outline(_ span: SpanBlockScanner.ScannedSpan, in block: ScannedBlock) -> SpanOutline? {
        guard let spanID = SpanID(bytes: block.scanner.bytes[span.spanID]) else { return nil }
        let kind = SpanKindName(Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: span.kind) ?? .unspecified) ?? .internal
        return SpanOutline(
            // An all-zero parent id means none, as when the span is read in full.
            spanID: spanID, parentSpanID: SpanID(bytes: block.scanner.bytes[span.parentSpanID]).flatMap { $0.isValid ? $0 : nil },
            service: block.services[span.resourceIndex], operationName: block.scanner.string(span.name), kind: kind.spanKind,
            startTimeNanosecondsSinceEpoch: span.startTime, endTimeNanosecondsSinceEpoch: span.endTime,
            statusCode: span.statusCode == 2 ? .error : span.statusCode == 1 ? .ok : nil)
    }

    /// Two hashes of a span's bytes with its resource and scope, seeded differently: equal for a retry.
    struct SpanFingerprint: Hashable {
        var first: Int
        var second: Int

        init(_ span: SpanBlockScanner.ScannedSpan, in block: ScannedBlock) {
            let origin = block.origins[span.resourceIndex]
            let bytes = block.scanner.bytes
            func hash(seed: Int) -> Int {
                var hasher = Hasher()
                hasher.combine(seed)
                for range in [origin.resource, origin.schemaURL, origin.scopes[span.scopeIndex], span.range] {
                    let slice = range.map { bytes[$0] } ?? []
                    hasher.combine(slice.count)
                    slice.withUnsafeBytes { hasher.combine(bytes: $0) }
                }
                return hasher.finalize()
            }
            first = hash(seed: 0x6f74_7465_72)
            second = hash(seed: 0x7370_616e)
        }
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
        var spansByTrace: [TraceID: [SpanID: SpanOutline]] = [:]
        for (_, block) in blocks {
            for span in block.spans {
                guard let traceID = TraceID(bytes: block.scanner.bytes[span.traceID]), wanted.contains(traceID),
                    let outline = Self.outline(span, in: block)
                else { continue }
                spansByTrace[traceID, default: [:]][outline.spanID] = outline
            }
        }
        return traceIDs.compactMap { traceID in
            guard let byID = spansByTrace[traceID], !byID.isEmpty else { return nil }
            return TraceSummary(traceID: traceID, outlines: Array(byID.values))
        }
    }
}

/// One trace's spans from a ``SQLiteTraceStore``, a block at a time.
final class SQLiteTraceParts: TraceParts, Sendable {
    // One reader at a time walks the parts (the protocol says so); the lock makes sharing it safe all the same.
    private let store: SQLiteTraceStore
    private let traceID: TraceID
    private let state: Mutex<(next: Int, seen: Set<SQLiteTraceStore.SpanFingerprint>)>
    private let blockIDs: [Int64]

    init(store: SQLiteTraceStore, traceID: TraceID, blockIDs: [Int64]) {
        self.store = store
        self.traceID = traceID
        self.blockIDs = blockIDs
        state = Mutex((0, []))
    }

    func next() async throws -> OTLPTraces? {
        while true {
            try Task.checkCancellation()
            // The set is taken out while the part is read, so adding to it copies nothing.
            var (index, seen) = state.withLock { state in
                let taken = state.seen
                state.seen = []
                return (state.next, taken)
            }
            guard index < blockIDs.count else { return nil }
            let part = try await store.part(of: traceID, inBlock: blockIDs[index], seen: &seen)
            index += 1
            state.withLock { $0 = (index, seen) }
            if !part.request.resourceSpans.isEmpty { return part }
        }
    }
}
