import Foundation
import GRPCCore
import Otter
import OtterOTLP
import OtterViewer
import SwiftProtobuf
import Testing
import Tracing

/// A store that reads spans through a real SQLite store, with no capability beyond the store protocols.
protocol ReadingThroughStore: TraceStore {
    var reads: SQLiteTraceStore { get }
}

/// A store that reads through a real SQLite store, span metrics included, and changes only how writes behave (fault
/// injection in tests).
protocol WriteInterceptingStore: ReadingThroughStore, SpanMetricsReader {}

extension ReadingThroughStore {
    func traces(_ traceIDs: [TraceID]) async throws -> OTLPTraces { try await reads.traces(traceIDs) }
    func services() async throws -> [String] { try await reads.services() }
    func operations(service: String) async throws -> [(name: String, kind: SpanKind)] { try await reads.operations(service: service) }
    func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID] { try await reads.findTraceIDs(query) }
    func summaries(_ traceIDs: [TraceID]) async throws -> [TraceSummary] { try await reads.summaries(traceIDs) }
    func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency] {
        try await reads.dependencies(startNanoseconds: startNanoseconds, endNanoseconds: endNanoseconds)
    }
}

extension WriteInterceptingStore {
    func operationMinutes(services: [String], kinds: Set<SpanKindName>, minutes: ClosedRange<UInt64>) async throws -> [OperationMinute] {
        try await reads.operationMinutes(services: services, kinds: kinds, minutes: minutes)
    }
}

/// A store whose writes fail (a full disk, an I/O error): the one fault a test cannot cause for real here.
struct FailingWritesStore: WriteInterceptingStore {
    struct DiskFull: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    let reads: SQLiteTraceStore

    func write(_ traces: OTLPTraces) async throws -> [String] { throw DiskFull() }
}

/// When the store cannot write, receivers answer with the OTLP specification's retryable status (HTTP 503,
/// gRPC UNAVAILABLE) and a message, so exporters keep the spans and retry instead of dropping them.
@Suite("Viewer when the store fails")
struct StoreFailureTests {
    @Test func httpAnswers503WithAMessage() async throws {
        let viewer = try await RunningViewer(serving: { FailingWritesStore(reads: $0) })
        let json = OTLPJSON.encode(OTLPMapping.request(for: ViewerFixtures.spans))
        let (status, body) = try await viewer.post(Array(json), contentType: "application/json")
        #expect(status == 503)
        #expect(body.contains("retry later") && body.contains("disk full"), "\(body)")
        let (healthy, _) = try await viewer.get("/api/services")
        #expect(healthy == 200, "the viewer keeps serving")
        await viewer.stop()
    }

    @Test func grpcAnswersUnavailable() async throws {
        let viewer = try await RunningViewer(serving: { FailingWritesStore(reads: $0) })
        let exporter = try OTLPGRPCExporter(
            configuration: .init(
                endpoint: URL(string: "http://127.0.0.1:\(viewer.grpcPort)")!, transportProtocol: .grpc, timeout: .seconds(30),
                retryPolicy: OTLPRetryPolicy(maximumAttempts: 1)))
        do {
            try await exporter.export(ViewerFixtures.spans)
            Issue.record("expected the export to fail")
        } catch {
            // One attempt allowed: the exporter reports the retryable answer it got.
            #expect("\(error)".contains("unavailable") && "\(error)".contains("disk full"), "\(error)")
        }
        await exporter.shutdown()
        await viewer.stop()
    }
}
