import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Otter
import OtterOTLP
import Synchronization
import Testing
import Tracing

@testable import OtterViewer

/// A store whose writes wait until the test opens a gate: requests stay in flight for as long as the test needs.
final class GatedWritesStore: WriteInterceptingStore {
    let reads: SQLiteTraceStore
    private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>], entered: Int)>((false, [], 0))

    init(reads: SQLiteTraceStore) { self.reads = reads }

    var enteredWrites: Int { state.withLock { $0.entered } }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func write(_ traces: OTLPTraces) async throws -> [String] {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state in
                state.entered += 1
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        return try await reads.write(traces)
    }
}

/// Issue 27: ingest has backpressure. While requests hold the budget, another one is pushed back with a status OTLP
/// exporters retry (HTTP 429 with Retry-After, gRPC UNAVAILABLE) instead of growing memory; once they are answered,
/// it is accepted, and every acknowledged span is stored.
@Suite("Viewer ingest backpressure", .serialized)
struct IngestBackpressureTests {
    static func body(trace: UInt64) throws -> [UInt8] {
        let spans = (0..<20).map { index in
            FinishedSpan(
                operationName: "span \(index)", kind: .server,
                spanContext: OtterSpanContext(
                    traceID: TraceID(high: 3, low: trace), spanID: SpanID(UInt64(index + 1)), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: 1_800_000_000_000_000_000, endTimeNanosecondsSinceEpoch: 1_800_000_000_000_001_000,
                attributes: ["padding": .string(String(repeating: "x", count: 40))],
                resource: Resource(attributes: ["service.name": "busy"]))
        }
        return try OTLPTraces(spans).protobuf()
    }

    /// A viewer with `budget` bytes of requests in flight whose store holds every write until the test opens it.
    static func viewerWithGatedWrites(budget: Int) async throws -> (RunningViewer, GatedWritesStore) {
        var gate: GatedWritesStore?
        let viewer = try await RunningViewer(maximumRequestBytesInFlight: budget) { reads in
            let store = GatedWritesStore(reads: reads)
            gate = store
            return store
        }
        return (viewer, try #require(gate))
    }

    @Test func aRequestBeyondTheBudgetIsPushedBackUntilTheOthersAreAnswered() async throws {
        let held = try Self.body(trace: 1)
        let refused = try Self.body(trace: 2)
        // Room for the held request, not for both (each request is counted as 16 times its size, over HTTP and gRPC).
        let (viewer, store) = try await Self.viewerWithGatedWrites(
            budget: MemoryBudget.reservedBytesPerRequestByte * (held.count + refused.count / 2))
        let first = Task { try await viewer.post(held, contentType: "application/x-protobuf") }
        while store.enteredWrites == 0 { await Task.yield() }

        let pushedBack = try await viewer.post(refused, contentType: "application/x-protobuf")
        #expect(pushedBack.status == 429)
        let raw = try await RawHTTPResponse.exchange(
            port: viewer.otlpPort,
            "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(refused.count)\r\nConnection: close\r\n\r\n",
            body: refused)
        #expect(raw.status == 429)
        #expect(raw.headers["retry-after"] == "1")
        #expect(raw.body.contains("retry shortly"))

        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: viewer.grpcPort), transportSecurity: .plaintext)
        ) { client in
            let service = Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: client)
            let request = try OTLPExportTraceServiceRequest(serializedBytes: refused)
            await #expect {
                _ = try await service.export(request)
            } throws: { error in
                (error as? RPCError)?.code == .unavailable && (error as? RPCError)?.message.contains("retry shortly") == true
            }

            store.open()
            #expect(try await first.value.status == 200)
            #expect(
                try await viewer.post(refused, contentType: "application/x-protobuf").status == 200, "accepted once the first is answered")
            _ = try await service.export(request)
        }
        #expect(try await viewer.store.trace(TraceID(high: 3, low: 1)).count == 20)
        #expect(try await viewer.store.trace(TraceID(high: 3, low: 2)).count == 20)
        await viewer.stop()
    }

    /// A decoded request takes many times its bytes until the store has it: room for twenty times one request is not
    /// room for two (200 concurrent 2 MB requests reached 7.8 GB when requests were counted by their bytes).
    @Test func aRequestIsCountedAsWhatItTakesDecodedNotItsBytes() async throws {
        let held = try Self.body(trace: 11)
        let second = try Self.body(trace: 12)
        let (viewer, store) = try await Self.viewerWithGatedWrites(budget: 20 * max(held.count, second.count))
        let first = Task { try await viewer.post(held, contentType: "application/x-protobuf") }
        while store.enteredWrites == 0 { await Task.yield() }
        #expect(try await viewer.post(second, contentType: "application/x-protobuf").status == 429)
        store.open()
        #expect(try await first.value.status == 200)
        #expect(try await viewer.post(second, contentType: "application/x-protobuf").status == 200)
        #expect(try await viewer.store.trace(TraceID(high: 3, low: 12)).count == 20)
        await viewer.stop()
    }

    @Test func reservationsAreReleasedWhateverHappens() {
        let budget = MemoryBudget(limit: 100)
        do {
            let first = budget.reserve(60)
            #expect(first != nil)
            #expect(budget.reserve(60) == nil, "60 + 60 is over 100")
            let second = budget.reserve(40)
            #expect(second != nil)
            #expect(budget.used == 100)
            withExtendedLifetime((first, second)) {}
        }
        #expect(budget.used == 0)
        let huge = budget.reserve(1_000)
        #expect(huge != nil, "one request larger than the budget is admitted when nothing else is in flight")
        #expect(budget.reserve(1) == nil)
        withExtendedLifetime(huge) {}
    }
}
