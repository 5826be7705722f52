import Foundation
import Logging
import Otter
import OtterOTLP
import Testing
import Tracing

@testable import OtterViewer

/// The block store's own promises, beyond the conformance suite every store passes (TraceStoreConformanceTests):
/// writes are cut into blocks by hour and size without losing a span, retention deletes whole blocks, small writes
/// are committed together, and a search reads only the blocks it needs.
@Suite("SQLite trace store")
struct SQLiteTraceStoreTests {
    static func span(trace: UInt64, id: UInt64, start: UInt64, attributes: SpanAttributes = [:], service: String = "svc") -> FinishedSpan {
        FinishedSpan(
            operationName: "op", kind: .server,
            spanContext: OtterSpanContext(traceID: TraceID(high: 9, low: trace), spanID: SpanID(id), traceFlags: .sampled),
            startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + 1000,
            attributes: attributes, resource: Resource(attributes: ["service.name": .string(service)]))
    }

    @Test func writesAreCutIntoBlocksByHourAndSizeWithoutLosingASpan() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        let hour: UInt64 = 3_600_000_000_000
        let base: UInt64 = 1_800_000_000 * 1_000_000_000 / hour * hour
        // 1,500 spans in one write: 1,200 in the first hour (three blocks), 300 in the second.
        var spans: [FinishedSpan] = []
        for index in 0..<1500 {
            let offset: UInt64 = index < 1200 ? 0 : hour
            let start: UInt64 = base + offset + UInt64(index) * 1_000_000
            let attributes: SpanAttributes = ["index": SpanAttribute.int64(Int64(index))]
            spans.append(Self.span(trace: UInt64(index / 3 + 1), id: UInt64(index + 1), start: start, attributes: attributes))
        }
        try await store.write(spans.shuffled())
        for trace in [1, 200, 399, 400, 401, 500] {
            #expect(try await store.trace(TraceID(high: 9, low: UInt64(trace))).count == 3, "trace \(trace)")
        }
        #expect(try await store.findTraceIDs(TraceQuery(service: "svc", tags: [("index", "1499")])) == [TraceID(high: 9, low: 500)])
        #expect(try await store.findTraceIDs(TraceQuery(service: "svc", limit: 1000)).count == 500)
        // Retention works block by block: deleting before the second hour removes exactly the first hour.
        #expect(try await store.deleteSpans(startedBefore: base + hour) == 1200)
        #expect(try await store.trace(TraceID(high: 9, low: 1)).isEmpty)
        #expect(try await store.trace(TraceID(high: 9, low: 401)).count == 3)
        #expect(try await store.findTraceIDs(TraceQuery(service: "svc", limit: 1000)).count == 100)
    }

    @Test func callsBetweenServicesAreFoundAcrossWritesInEitherOrder() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        let start: UInt64 = 1_800_000_000_000_000_000
        func call(trace: UInt64, serverFirst: Bool) async throws {
            let traceID = TraceID(high: 3, low: trace)
            let client = FinishedSpan(
                operationName: "GET", kind: .client,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(trace * 10 + 1), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + 5000,
                resource: Resource(attributes: ["service.name": "frontend"]))
            var server = client
            server.kind = .server
            server.operationName = "GET /"
            server.spanContext.spanID = SpanID(trace * 10 + 2)
            server.parentSpanContext = client.spanContext
            server.startTimeNanosecondsSinceEpoch = start + 1000
            server.resource = Resource(attributes: ["service.name": "backend"])
            for span in serverFirst ? [server, client] : [client, server] { try await store.write([span]) }
        }
        try await call(trace: 1, serverFirst: false)
        try await call(trace: 2, serverFirst: true)
        let links = try await store.dependencies(startNanoseconds: start - 1, endNanoseconds: start + 10_000)
        #expect(links == [ServiceDependency(parent: "frontend", child: "backend", callCount: 2)])
        #expect(try await store.dependencies(startNanoseconds: start + 2000, endNanoseconds: start + 10_000).isEmpty)
        #expect(try await store.deleteSpans(startedBefore: start + 1) == 2, "the two client spans' blocks")
        #expect(try await store.dependencies(startNanoseconds: start - 1, endNanoseconds: start + 10_000).isEmpty)
    }

    @Test func concurrentSmallWritesAreCommittedTogether() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await store.write([Self.span(trace: UInt64(index + 1), id: UInt64(index + 1), start: 1_000 + UInt64(index))])
                }
            }
            try await group.waitForAll()
        }
        for trace in [1, 100, 200] {
            #expect(try await store.trace(TraceID(high: 9, low: UInt64(trace))).count == 1, "every acknowledged span is stored")
        }
        #expect(try await store.findTraceIDs(TraceQuery(service: "svc", limit: 1000)).count == 200)
        let blocks = try await store.storedBlockCount()
        #expect(blocks < 200, "writes that waited for a commit were merged: \(blocks) blocks for 200 writes")
    }

    @Test func aSearchOfABusyServiceReadsOnlyTheNewestBlocks() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        // 40 writes of 100 one-span traces each, one block per write, in time order.
        for write in 0..<40 {
            let spans = (0..<100).map { index in
                Self.span(
                    trace: UInt64(write * 100 + index + 1), id: UInt64(write * 100 + index + 1),
                    start: 1_000_000 + UInt64(write * 100 + index) * 1000)
            }
            try await store.write(spans)
        }
        let before = store.scannedBlockCount
        let found = try await store.findTraceIDs(TraceQuery(service: "svc", limit: 20))
        #expect(found == (3981...4000).reversed().map { TraceID(high: 9, low: UInt64($0)) })
        #expect(store.scannedBlockCount - before <= 4, "read \(store.scannedBlockCount - before) blocks of 40")
    }

    @Test func theIndexerComputesABlocksIndexRowsWithoutADatabase() {
        let start: UInt64 = 1_800_000_000_000_000_000
        let traceID = TraceID(high: 3, low: 1)
        func span(_ id: UInt64, parent: UInt64?, kind: SpanKind, service: String, at offset: UInt64, error: Bool = false) -> FinishedSpan {
            FinishedSpan(
                operationName: "op-\(id)", kind: kind,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(id), traceFlags: .sampled),
                parentSpanContext: parent.map { OtterSpanContext(traceID: traceID, spanID: SpanID($0), traceFlags: .sampled) },
                startTimeNanosecondsSinceEpoch: start + offset, endTimeNanosecondsSinceEpoch: start + offset + 100,
                attributes: ["k": "v"], status: error ? SpanStatus(code: .error) : nil,
                resource: Resource(attributes: ["service.name": .string(service)]))
        }
        let index = SpanBlockIndex(spans: [
            span(1, parent: nil, kind: .client, service: "frontend", at: 0),
            span(2, parent: 1, kind: .server, service: "backend", at: 10, error: true),
            span(3, parent: 77, kind: .server, service: "backend", at: 20),
        ])
        #expect(index.traceIDs == [traceID])
        #expect(index.terms.contains(SearchTerm.hash(service: "backend", key: "k", value: "v")))
        #expect(index.terms.contains(SearchTerm.hash(service: "backend", key: "service.name", value: "backend")))
        #expect(
            index.calls == [
                .init(parentService: "frontend", childService: "backend"): .init(
                    count: 1, minimumStart: start + 10, maximumStart: start + 10)
            ])
        #expect(index.remoteParents.map(\.spanID) == [SpanID(1)], "the client span may be named by a span of another block")
        #expect(index.remoteChildren.map(\.parentSpanID) == [SpanID(77)], "span 3's parent is elsewhere")
        let backend = SpanBlockIndex.Operation(service: "backend", name: "op-2", kind: 2)
        #expect(index.operations[backend]?.errorCount == 1)
        #expect(index.operations[backend]?.minimumDuration == 100)
        #expect(index.operations.count == 3)
    }

    @Test func receivedBytesAreRegroupedNotEncodedAgain() throws {
        let spans = [
            Self.span(trace: 1, id: 1, start: 1_000), Self.span(trace: 1, id: 2, start: 2_000, service: "db"),
            Self.span(trace: 2, id: 3, start: 3_000),
        ]
        let bytes: [UInt8] = try OTLPTraces(spans).request.serializedBytes()
        let split = try #require(ReceivedSpanBytes.split(bytes))
        #expect(split.count == 3)
        var assembler = ReceivedRequestAssembler()
        for received in split { assembler.append(received) }
        #expect(assembler.bytes == bytes, "a request already grouped comes back byte for byte")
        // Spans of one resource sent in two ResourceSpans are regrouped under one.
        var twice = OTLPTraces(spans).request
        twice.resourceSpans.append(twice.resourceSpans[0])
        let regrouped = ReceivedRequestAssembler.regrouping(try #require(ReceivedSpanBytes.split(try twice.serializedBytes())))
        let decoded = try OTLPExportTraceServiceRequest(serializedBytes: regrouped)
        #expect(decoded.resourceSpans.count == 2)
        #expect(decoded.resourceSpans[0].scopeSpans[0].spans.count == 4)
        // A resource given twice in one ResourceSpans is merged by protobuf decoders: the bytes cannot be split.
        #expect(ReceivedSpanBytes.split([0x0A, 0x04, 0x0A, 0x00, 0x0A, 0x00]) == nil)
        #expect(ReceivedSpanBytes.split([0x0A, 0x05, 0x12]) == nil, "malformed")
    }
}

extension SQLiteTraceStoreTests {
    /// Issue 27's gap: colours followed each service's oldest stored operation, so retention deleting the first service's
    /// spans shifted every other service's colour. They follow the order services were first seen, deleted ones included.
    @Test func serviceColoursSurviveRetention() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        let hour: UInt64 = 3_600_000_000_000
        let now: UInt64 = 1_800_000_000_000_000_000
        func span(_ service: String, _ low: UInt64, start: UInt64) -> FinishedSpan {
            FinishedSpan(
                operationName: "op", kind: .server,
                spanContext: OtterSpanContext(traceID: TraceID(high: 8, low: low), spanID: SpanID(low), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + 1_000,
                resource: Resource(attributes: ["service.name": .string(service)]))
        }
        try await store.write([span("first", 1, start: now - 100 * hour)])
        try await store.write([span("second", 2, start: now - hour), span("third", 3, start: now - hour)])
        let before = try await store.serviceColors()
        #expect(try await store.deleteSpans(startedBefore: now - 72 * hour) == 1)
        #expect(try await store.services() == ["second", "third"])
        let after = try await store.serviceColors()
        #expect(after["second"] == before["second"] && after["third"] == before["third"])
        #expect(before["second"] != before["third"])
    }
}
