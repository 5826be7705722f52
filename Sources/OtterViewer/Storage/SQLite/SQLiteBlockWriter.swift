import CompressNIO
import Foundation
import GRDB
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf
import Tracing

extension SQLiteTraceStore {
    // MARK: Writing

    /// Stores the valid spans in the form they were received (every value type, unspecified kinds and flags kept),
    /// and returns why the others were refused. Writes that arrive while another is being committed are merged into
    /// the next transaction (group commit): many small requests become one block and one commit, and each caller
    /// returns once its spans are on disk, or with the error that lost them.
    @discardableResult
    public func write(_ traces: OTLPTraces) async throws -> [String] {
        var spans: [IngestSpan] = []
        var rejections: [String] = []
        // Protobuf as received is stored as received: its bytes regrouped into blocks, not the spans encoded again.
        let received = traces.receivedProtobuf.flatMap(ReceivedSpanBytes.split)
        var position = 0
        OTLPReading.forEachSpan(in: traces.request) { otlp, resourceSpans, scopeSpans, result in
            defer { position += 1 }
            switch result {
            case .success(let span):
                spans.append(
                    IngestSpan(
                        span: span,
                        source: .init(
                            span: otlp, resource: resourceSpans.resource, schemaURL: resourceSpans.schemaURL, scope: scopeSpans.scope,
                            received: received.flatMap { position < $0.count ? $0[position] : nil })))
            case .failure(let invalid):
                rejections.append(invalid.description)
            }
        }
        if let received, received.count != position {
            // The bytes and the decoded request disagree (they cannot, short of a decoder bug): encode instead.
            for index in spans.indices { spans[index].source?.received = nil }
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
            /// The span's bytes as received, when it arrived as protobuf.
            var received: ReceivedSpanBytes?
        }

        var span: FinishedSpan
        var source: Source?
        /// Whether the span counts in the span metrics and call counts: false for an exporter's retry of a span stored
        /// moments ago (``RecentSpans``).
        var counted = true
    }

    func commit(_ spans: [IngestSpan]) async throws {
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
    func commitPendingWrites() async {
        while true {
            let group = pendingWrites.withLock {
                pending -> [(spans: [IngestSpan], continuation: CheckedContinuation<Result<Void, any Error>, Never>)] in
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
            var spans = group.count == 1 ? group[0].spans : group.flatMap(\.spans)
            recentSpans.withLock { recent in
                for index in spans.indices { spans[index].counted = recent.firstSight(of: spans[index].span) }
            }
            let result: Result<Void, any Error>
            do {
                let blocks = Self.encodeBlocks(spans)
                try await writeMakingRoom(bytes: blocks.reduce(0) { $0 + $1.deflated.count }) { db in
                    for block in blocks { try Self.insert(block, into: db) }
                }
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for write in group { write.continuation.resume(returning: result) }
        }
    }

    /// A block ready to insert: its spans, in start order, and their deflated OTLP encoding.
    struct EncodedBlock {
        var spans: [FinishedSpan]
        var counted: [Bool]
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
            if blockSpans.allSatisfy({ $0.source?.received != nil }) {
                bytes = ReceivedRequestAssembler.regrouping(blockSpans.compactMap { $0.source?.received })
            } else if blockSpans.allSatisfy({ $0.source == nil }) {
                bytes = OTLPProtobufEncoder.encode(blockSpans.map(\.span))
            } else {
                bytes = (try? request(for: blockSpans).serializedBytes()) ?? []
            }
            var encoded = ByteBuffer(bytes: bytes)
            let decodedSize = encoded.readableBytes
            let deflated =
                (try? encoded.compress(with: .deflate(configuration: .init(compressionLevel: 1))))
                .map { Array($0.readableBytesView) } ?? []
            blocks.append(
                EncodedBlock(
                    spans: blockSpans.map(\.span), counted: blockSpans.map(\.counted), decodedSize: decodedSize, deflated: deflated))
            start = end
        }
        return blocks
    }

    /// The spans as one request, grouped by resource and scope in first-seen order.
    static func request(for spans: ArraySlice<IngestSpan>) -> OTLPExportTraceServiceRequest {
        struct ResourceKey: Hashable {
            var resource: Opentelemetry_Proto_Resource_V1_Resource
            var schemaURL: String
        }
        var builder = OTLPRequestBuilder<ResourceKey, Opentelemetry_Proto_Common_V1_InstrumentationScope>()
        for ingest in spans {
            let source =
                ingest.source
                ?? IngestSpan.Source(
                    span: OTLPMapping.span(for: ingest.span),
                    resource: OTLPMapping.resource(for: ingest.span.resource),
                    schemaURL: ingest.span.resource.schemaURL ?? "",
                    scope: OTLPMapping.scope(for: ingest.span.instrumentationScope), received: nil)
            builder.append(
                source.span, resourceKey: ResourceKey(resource: source.resource, schemaURL: source.schemaURL),
                resource: { (source.resource, source.schemaURL) }, scopeKey: source.scope, scope: { source.scope })
        }
        return builder.request
    }
}

extension SQLiteTraceStore {
    static func insert(_ spans: [FinishedSpan], into db: Database) throws {
        for block in encodeBlocks(spans.map { IngestSpan(span: $0, source: nil) }) { try insert(block, into: db) }
    }

    /// Inserts the block and its index rows (``SpanBlockIndex``).
    static func insert(_ block: EncodedBlock, into db: Database) throws {
        let spans = block.spans
        try db.execute(
            sql: "INSERT INTO span_block (id, minStartTime, maxStartTime, spanCount, decodedSize, deflated) VALUES ("
                + nextBlockIDExpression(.spans) + ", ?, ?, ?, ?, ?)",
            arguments: [
                Int64(clamping: spans.first!.startTimeNanosecondsSinceEpoch), Int64(clamping: spans.last!.startTimeNanosecondsSinceEpoch),
                spans.count, block.decodedSize, Data(block.deflated),
            ])
        let blockID = db.lastInsertedRowID
        let index = SpanBlockIndex(spans: spans, counted: block.counted)

        let segment = Self.segment(ofBlock: blockID)
        try insertRows(
            "INSERT OR IGNORE INTO trace_block (segment, traceID, blockID) VALUES ", columns: 3,
            values: index.traceIDs.flatMap { [.integer(segment), .blob($0.bytes), .integer(blockID)] }, db)
        try insertRows(
            "INSERT OR IGNORE INTO term_block (segment, term, blockID) VALUES ", columns: 3,
            values: index.terms.sorted().flatMap { [.integer(segment), .integer($0), .integer(blockID)] }, db)

        var operationIDs: [SpanBlockIndex.Operation: Int64] = [:]
        let findOperation = try db.cachedStatement(sql: "SELECT id FROM operation WHERE service = ? AND name = ? AND kind = ?")
        let insertOperationBlock = try db.cachedStatement(
            sql: """
                INSERT INTO operation_block (operationID, blockID, minStartTime, maxStartTime, minDuration, maxDuration, errorCount)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        for (operation, statistics) in index.operations {
            let operationID: Int64
            if let existing = try Int64.fetchOne(findOperation, arguments: [operation.service, operation.name, operation.kind]) {
                operationID = existing
            } else {
                try db.execute(
                    sql: "INSERT INTO operation (service, name, kind) VALUES (?, ?, ?)",
                    arguments: [operation.service, operation.name, operation.kind])
                operationID = db.lastInsertedRowID
                try db.execute(
                    sql: "INSERT OR IGNORE INTO service_seen (service, seen) VALUES (?, ?)", arguments: [operation.service, operationID])
            }
            operationIDs[operation] = operationID
            try insertOperationBlock.execute(arguments: [
                operationID, blockID, Int64(clamping: statistics.minimumStart), Int64(clamping: statistics.maximumStart),
                Int64(clamping: statistics.minimumDuration), Int64(clamping: statistics.maximumDuration), statistics.errorCount,
            ])
            for (minute, counts) in statistics.minutes { try addToOperationMinute(counts, minute: minute, operationID: operationID, db) }
        }

        try insertRows(
            "INSERT OR IGNORE INTO remote_parent (minute, traceID, spanID, operationID, blockID) VALUES ", columns: 5,
            values: index.remoteParents.flatMap { parent in
                [
                    .integer(Int64(parent.start / Self.nanosecondsPerMinute)), .blob(parent.traceID.bytes),
                    .integer(Int64(bitPattern: parent.spanID.value)), .integer(operationIDs[parent.operation]!), .integer(blockID),
                ]
            }, db)
        try insertRows(
            "INSERT OR IGNORE INTO remote_child (startTime, traceID, parentSpanID, operationID, blockID) VALUES ", columns: 5,
            values: index.remoteChildren.flatMap { child in
                [
                    .integer(Int64(clamping: child.start)), .blob(child.traceID.bytes),
                    .integer(Int64(bitPattern: child.parentSpanID.value)), .integer(operationIDs[child.operation]!), .integer(blockID),
                ]
            }, db)
        for (call, statistics) in index.calls {
            try db.execute(
                sql: """
                    INSERT INTO service_call (blockID, parentService, childService, callCount, minStartTime, maxStartTime)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    blockID, call.parentService, call.childService, statistics.count, Int64(clamping: statistics.minimumStart),
                    Int64(clamping: statistics.maximumStart),
                ])
        }
    }
}
