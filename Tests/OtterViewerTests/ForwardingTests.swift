import AsyncHTTPClient
import Foundation
import GRDB
import GRPCCore
import Logging
import Otter
import OtterOTLP
import OtterTestSupport
import Testing
import Tracing

@testable import OtterViewer

/// The viewer's forwarding against a real OTLP/HTTP receiver on 127.0.0.1 that answers as scripted.
@Suite("Forwarding what the viewer stores", .serialized)
struct ForwardingTests {
    static func spans(
        trace: UInt64, count: Int, service: String = "shop", errorAt: Int? = nil, duration: UInt64 = 1_000_000
    ) -> [FinishedSpan] {
        let traceID = TraceID(high: 42, low: trace)
        let start = DefaultTracerClock.now.nanosecondsSinceEpoch - 10_000_000_000
        return (0..<count).map { index in
            FinishedSpan(
                operationName: "op \(index)", kind: .internal,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(trace << 20 | UInt64(index + 1)), traceFlags: .sampled),
                parentSpanContext: index == 0
                    ? nil : OtterSpanContext(traceID: traceID, spanID: SpanID(trace << 20 | 1), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + duration,
                status: errorAt == index ? SpanStatus(code: .error, message: "boom") : nil,
                resource: Resource(attributes: ["service.name": .string(service)]))
        }
    }

    static func store() throws -> (SQLiteTraceStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("otter-forward-\(UUID()).sqlite").path
        return (try SQLiteTraceStore(path: path), path)
    }

    static func configuration(port: Int, filters: [ForwardingConfiguration.Filter] = [], attempts: Int = 2) -> ForwardingConfiguration {
        ForwardingConfiguration(
            upstream: OTLPExporterConfiguration(
                endpoint: URL(string: "http://127.0.0.1:\(port)")!, timeout: .seconds(5),
                retryPolicy: OTLPRetryPolicy(
                    maximumAttempts: attempts, initialBackoff: .milliseconds(10), maximumBackoff: .milliseconds(50))),
            filters: filters, decisionWait: .milliseconds(200))
    }

    /// Runs forwarding until `done` holds (checked every 20 ms, at most 60 s), then stops it.
    static func forward(
        _ store: SQLiteTraceStore, _ configuration: ForwardingConfiguration, status: ForwardingStatus = ForwardingStatus(),
        until done: @escaping @Sendable () async throws -> Bool
    ) async throws {
        var logger = Logger(label: "forwarding-test")
        logger.logLevel = .critical
        let service = ForwardingService(
            queue: store, configuration: configuration, status: status, logger: logger, pollInterval: .milliseconds(10),
            maximumBackoff: .milliseconds(100))
        let task = Task { try await service.run() }
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while try await !done(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        task.cancel()
        _ = try? await task.value
    }

    /// The spans the receiver got, by span id (a span received twice counts once here; `count` says how many arrived).
    static func received(_ receiver: TestOTLPReceiver) -> (ids: Set<SpanID>, count: Int) {
        let spans = receiver.requests.filter { $0.path == "/v1/traces" }.flatMap { (try? OTLPTraces(protobuf: $0.body).spans) ?? [] }
        return (Set(spans.map(\.spanContext.spanID)), spans.count)
    }

    @Test func sendsEverythingStoredAfterItStartsOnceAndInOrder() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await store.write(Self.spans(trace: 1, count: 10))  // Stored before forwarding was first started: not sent.
        _ = try await store.startForwarding(.spans)
        _ = try await store.startForwarding(.logs)
        var written: [FinishedSpan] = []
        for trace in 2...6 {
            let spans = Self.spans(trace: UInt64(trace), count: 700)
            written += spans
            try await store.write(spans)
        }
        try await store.write(
            OTLPLogs([
                OtterLogRecord(
                    timeNanosecondsSinceEpoch: 1, severity: .info, body: "forwarded",
                    resource: Resource(attributes: ["service.name": "shop"]))
            ]))
        let status = ForwardingStatus()
        let total = written.count
        try await Self.forward(store, Self.configuration(port: port), status: status) {
            Self.received(receiver).count >= total && receiver.requests.contains { $0.path == "/v1/logs" }
        }
        let (ids, count) = Self.received(receiver)
        #expect(ids == Set(written.map(\.spanContext.spanID)))
        #expect(count == written.count, "each span once")
        #expect(status.counters(.spans).sent == Int64(written.count))
        #expect(try await store.forwardProgress(.spans).pendingItems == 0)
        let logs = receiver.requests.filter { $0.path == "/v1/logs" }.flatMap { (try? OTLPLogs(protobuf: $0.body).records) ?? [] }
        #expect(logs.map(\.body.text) == ["forwarded"])
        #expect(receiver.requests.allSatisfy { $0.headers[.contentType] == "application/x-protobuf" })
        // Arrival order: span ids of trace 2 before trace 3 before ...
        let order = receiver.requests.filter { $0.path == "/v1/traces" }.flatMap { (try? OTLPTraces(protobuf: $0.body).spans) ?? [] }
        #expect(order.map(\.spanContext.traceID.low) == order.map(\.spanContext.traceID.low).sorted())
        await receiver.stop()
    }

    @Test func anUpstreamThatIsDownOrBusyGetsEverythingLater() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        // Five busy answers (two per attempt of the exporter's own retries), then the receiver takes everything.
        receiver.script(
            .init(status: .serviceUnavailable, headers: [.retryAfter: "0"]), .init(status: .serviceUnavailable),
            .init(status: .tooManyRequests), .init(status: .badGateway), .init(status: .gatewayTimeout))
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        let written = Self.spans(trace: 7, count: 300)
        try await store.write(written)
        let status = ForwardingStatus()
        let total = Int64(written.count)
        try await Self.forward(store, Self.configuration(port: port), status: status) { status.counters(.spans).sent >= total }
        // The five refused requests, then the one accepted, each carrying every span.
        #expect(receiver.requests.count == 6)
        let accepted = try #require(receiver.requests.last)
        #expect(Set(try OTLPTraces(protobuf: accepted.body).spans.map(\.spanContext.spanID)) == Set(written.map(\.spanContext.spanID)))
        #expect(status.counters(.spans).retries >= 2)
        #expect(status.counters(.spans).lastError?.contains("HTTP") == true)
        #expect(status.counters(.spans).dropped == 0)
        await receiver.stop()
    }

    @Test func aRequestRefusedForGoodIsSkippedAndCounted() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        receiver.script(.init(status: .badRequest, body: Array("bad".utf8)))
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        try await store.write(Self.spans(trace: 8, count: 5))
        let status = ForwardingStatus()
        try await Self.forward(store, Self.configuration(port: port), status: status) {
            let pending = try await store.forwardProgress(.spans).pendingItems
            return status.counters(.spans).dropped > 0 && pending == 0
        }
        try await store.write(Self.spans(trace: 9, count: 4))
        try await Self.forward(store, Self.configuration(port: port), status: status) { status.counters(.spans).sent >= 4 }
        #expect(status.counters(.spans).dropped == 5)
        #expect(status.counters(.spans).sent == 4)
        #expect(status.counters(.spans).lastError?.contains("400") == true)
        #expect(try await store.forwardProgress(.spans).pendingItems == 0)
        await receiver.stop()
    }

    @Test func aRequestRefusedAsTooLargeIsSentInHalvesAndOnlyAnItemTooLargeAloneIsDropped() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        // 8 spans: refused; its first half (4): refused; the quarters and the second half pass.
        receiver.script(.init(status: .contentTooLarge), .init(status: .contentTooLarge))
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        let spans = Self.spans(trace: 30, count: 8)
        try await store.write(spans)
        let status = ForwardingStatus()
        var patient = Self.configuration(port: port)
        patient.upstream.timeout = .seconds(60)
        try await Self.forward(store, patient, status: status) {
            try await store.forwardProgress(.spans).pendingItems == 0
        }
        let answered = receiver.requests.map { (try? OTLPTraces(protobuf: $0.body).spanCount) ?? -1 }
        #expect(answered == [8, 4, 2, 2, 4])
        #expect(
            Set(receiver.requests.dropFirst(2).flatMap { (try? OTLPTraces(protobuf: $0.body).spans) ?? [] }.map(\.spanContext.spanID))
                == Set(spans.map(\.spanContext.spanID)))
        #expect(status.counters(.spans).sent == 8)
        #expect(status.counters(.spans).dropped == 0)

        // One span that is too large alone is dropped and counted; the next batch goes on.
        receiver.script(.init(status: .contentTooLarge))
        try await store.write(Self.spans(trace: 31, count: 1))
        try await Self.forward(store, Self.configuration(port: port), status: status) { status.counters(.spans).dropped == 1 }
        #expect(status.counters(.spans).dropped == 1)
        #expect(status.counters(.spans).lastError?.contains("413") == true)
        await receiver.stop()

        // gRPC: RESOURCE_EXHAUSTED without a retry delay is the same refusal.
        let grpcReceiver = TestOTLPGRPCReceiver()
        let grpcPort = try await grpcReceiver.start()
        grpcReceiver.script(RPCError(code: .resourceExhausted, message: "message larger than max"))
        try await store.write(Self.spans(trace: 32, count: 6))
        var configuration = Self.configuration(port: grpcPort)
        configuration.upstream.transportProtocol = .grpc
        // A first gRPC call that passed the 5 s timeout on a loaded machine would be retried whole (a timeout is
        // retryable): that is not what this test is about.
        configuration.upstream.timeout = .seconds(60)
        try await Self.forward(store, configuration, status: status) { try await store.forwardProgress(.spans).pendingItems == 0 }
        #expect(grpcReceiver.requests.map { $0.request.resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans).count } == [6, 3, 3])
        #expect(status.counters(.spans).dropped == 1)
        await grpcReceiver.stop()
    }

    @Test func aDamagedBlockIsCountedAsDroppedAndTheRestGoesOn() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        try await store.write(Self.spans(trace: 40, count: 5))
        let intact = Self.spans(trace: 41, count: 3)
        try await store.write(intact)
        // The first block's bytes damaged on disk, as a torn write or a bad sector would leave them.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE span_block SET deflated = x'00112233' WHERE id = (SELECT MIN(id) FROM span_block)")
        }
        let status = ForwardingStatus()
        try await Self.forward(store, Self.configuration(port: port), status: status) {
            try await store.forwardProgress(.spans).pendingItems == 0
        }
        #expect(Self.received(receiver).ids == Set(intact.map(\.spanContext.spanID)))
        #expect(status.counters(.spans).dropped == 5)
        #expect(status.counters(.spans).sent == 3)
        #expect(status.counters(.spans).lastError?.contains("could not be read back") == true)
        await receiver.stop()
    }

    @Test func wrongCredentialsKeepTheDataWaitingInsteadOfDroppingIt() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        receiver.script(.init(status: .unauthorized), .init(status: .unauthorized), .init(status: .notFound), .init(status: .forbidden))
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        try await store.write(Self.spans(trace: 15, count: 7))
        let status = ForwardingStatus()
        try await Self.forward(store, Self.configuration(port: port, attempts: 1), status: status) { status.counters(.spans).sent >= 7 }
        #expect(status.counters(.spans).dropped == 0 && status.counters(.spans).sent == 7)
        #expect(status.counters(.spans).retries == 4)
        #expect(status.counters(.spans).lastError?.contains("data waits in the store") == true)
        await receiver.stop()
    }

    @Test func aPartialSuccessIsCounted() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        var response = OTLPExportTraceServiceResponse()
        response.partialSuccess.rejectedSpans = 2
        response.partialSuccess.errorMessage = "two spans too old"
        receiver.script(.init(status: .ok, body: try response.serializedBytes()))
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        try await store.write(Self.spans(trace: 10, count: 6))
        let status = ForwardingStatus()
        try await Self.forward(store, Self.configuration(port: port), status: status) { status.counters(.spans).sent > 0 }
        #expect(status.counters(.spans).rejected == 2 && status.counters(.spans).sent == 4)
        await receiver.stop()
    }

    @Test func aRestartResumesAfterWhatWasAcknowledged() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        let first = Self.spans(trace: 11, count: 50)
        try await store.write(first)
        try await Self.forward(store, Self.configuration(port: port)) {
            let pending = try await store.forwardProgress(.spans).pendingItems
            return Self.received(receiver).count >= 50 && pending == 0
        }
        let second = Self.spans(trace: 12, count: 60)
        try await store.write(second)
        // A new store object on the same file, as after a restart.
        let reopened = try SQLiteTraceStore(path: path)
        try await Self.forward(reopened, Self.configuration(port: port)) { Self.received(receiver).count >= 110 }
        #expect(Self.received(receiver).count == 110, "nothing sent twice")
        #expect(Self.received(receiver).ids == Set((first + second).map(\.spanContext.spanID)))
        await receiver.stop()
    }

    @Test func dataDeletedBeforeItWasForwardedIsCountedAsLost() async throws {
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        try await store.write(Self.spans(trace: 13, count: 40))
        _ = try await store.deleteOldestBlocks(100)
        let progress = try await store.forwardProgress(.spans)
        #expect(progress.lostItems == 40 && progress.pendingItems == 0)
        // A block written after the deletion gets a new id above the mark, so it is still forwarded.
        try await store.acknowledgeForwarded(.spans, through: 1)
        try await store.write(Self.spans(trace: 14, count: 3))
        let batch = try #require(try await store.forwardBatch(.spans, after: 1, maximumBytes: 1 << 20))
        #expect(batch.itemCount == 3 && batch.lastBlockID > 1)
    }

    @Test func filtersForwardWholeTracesThatMatch() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        let (store, path) = try Self.store()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        _ = try await store.startForwarding(.spans)
        let failed = Self.spans(trace: 20, count: 5, errorAt: 3)
        let slow = Self.spans(trace: 21, count: 4, duration: 900_000_000)
        let plain = Self.spans(trace: 22, count: 6)
        try await store.write(failed + slow + plain)
        let status = ForwardingStatus()
        let configuration = Self.configuration(port: port, filters: [.errors, .slowerThan(.milliseconds(500))])
        try await Self.forward(store, configuration, status: status) { try await store.forwardProgress(.spans).pendingItems == 0 }
        #expect(Self.received(receiver).ids == Set((failed + slow).map(\.spanContext.spanID)))
        #expect(status.counters(.spans).filteredOut == 6)
        let onlyErrors = Self.configuration(port: port, filters: [.errors])
        #expect(try ForwardingConfiguration.filter("slower-than=500ms") == .slowerThan(.milliseconds(500)))
        #expect(throws: InvalidParameter.self) { try ForwardingConfiguration.filter("slower-than=fast") }
        #expect(throws: InvalidParameter.self) { try ForwardingConfiguration.filter("sampled") }
        #expect(onlyErrors.filters == [.errors])
        await receiver.stop()
    }

    /// Every stored block's wait starts when it is first seen stored, not when a batch reaches it: a backlog of many
    /// batches is decided once, one wait after it arrived, instead of one wait per batch.
    @Test func aFilteredBacklogIsDecidedOneWaitAfterItArrivedNotOneWaitPerBatch() {
        var decisions = FilterDecisions(wait: .seconds(10))
        let start = ContinuousClock.now
        decisions.saw(200, at: start)
        func batch(_ ids: ClosedRange<Int64>) -> ForwardBatch {
            ForwardBatch(blocks: ids.map { .init(id: $0, request: [], itemCount: 1) })
        }
        #expect(decisions.ready(batch(1...64), at: start.advanced(by: .seconds(9))) == nil, "not yet")
        let afterWait = start.advanced(by: .seconds(10))
        #expect(decisions.ready(batch(1...64), at: afterWait)?.lastBlockID == 64)
        #expect(decisions.ready(batch(65...128), at: afterWait)?.lastBlockID == 128, "the next batch needs no second wait")
        #expect(decisions.ready(batch(129...192), at: afterWait)?.lastBlockID == 192)
        decisions.saw(300, at: afterWait)
        #expect(decisions.ready(batch(193...260), at: afterWait)?.lastBlockID == 200, "blocks seen later wait their own time")
        #expect(decisions.ready(batch(201...260), at: afterWait.advanced(by: .seconds(10)))?.lastBlockID == 260)
    }

    @Test func theStatusHidesCredentialsAndShowsOnlyWhatIsThere() throws {
        let upstream = OTLPExporterConfiguration(endpoint: URL(string: "https://alice:s3cret@collector.example:4318/otlp")!)
        let configuration = ForwardingConfiguration(upstream: upstream)
        #expect(configuration.upstreamDescription == "https://***@collector.example:4318/otlp")
        #expect(!configuration.upstreamDescription.contains("s3cret"))
        let report: JSONValue = [
            "forwarding": [
                "upstream": .string(configuration.upstreamDescription), "protocol": "http/protobuf", "filters": .array([]),
                "spans": ["queued": .integer(3), "sent": .integer(0), "lastError": .null, "lastErrorAt": .null],
            ]
        ]
        let page = try #require(StatusPage(report).forwarding)
        #expect(page["filters"] == nil, "no filter: no 'only traces with' line")
        let spans = try #require((page["signals"] as? [[String: String]])?.first)
        #expect(spans["queued"] == "3")
        #expect(spans["lastErrorAt"] == nil, "no error: no '()'")
    }

    @Test func withoutForwardingTheStatusSaysSo() async throws {
        let viewer = try await RunningViewer()
        let (status, json) = try await viewer.get("/api/otter/status")
        #expect(status == 200 && json["forwarding"] is NSNull)
        let page = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)/status"), timeout: .seconds(30))
        #expect(String(buffer: try await page.body.collect(upTo: 1 << 20)).contains("This viewer forwards nothing"))
        await viewer.stop()
    }
}
