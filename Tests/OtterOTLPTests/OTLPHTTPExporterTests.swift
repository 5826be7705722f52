import Foundation
import HTTPTypes
import Logging
import Otter
import OtterTestSupport
import SwiftProtobuf
import Synchronization
import Testing

@testable import OtterOTLP

/// Collects log lines so tests can count them.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])
    var messages: [String] { lines.withLock { $0 } }

    var logger: Logger {
        Logger(label: "capture") { _ in CaptureHandler(capture: self) }
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.append("\(event.level) \(event.message) \(event.metadata ?? [:])")
        }
    }
}

@Suite("OTLP/HTTP exporter against a real receiver", .serialized)
struct OTLPHTTPExporterTests {
    func exporter(
        port: Int, _ configure: (inout OTLPExporterConfiguration) -> Void = { _ in }, logger: Logger = Logger(label: "test")
    ) -> OTLPHTTPExporter {
        var configuration = OTLPExporterConfiguration(
            endpoint: URL(string: "http://127.0.0.1:\(port)/v1/traces")!,
            retryPolicy: OTLPRetryPolicy(initialBackoff: .milliseconds(10), maximumBackoff: .milliseconds(50)))
        configure(&configuration)
        return OTLPHTTPExporter(configuration: configuration, logger: logger)
    }

    @Test func protobufReachesTheReceiverWithEveryField() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        let exporter = exporter(port: port) { $0.headers = [("Authorization", "Bearer secret"), ("X-Tenant", "a b")] }
        try await exporter.export(OTLPFixtures.spans)
        await exporter.shutdown()
        await receiver.stop()

        let request = try #require(receiver.requests.first)
        #expect(receiver.requests.count == 1)
        #expect(request.headers[.contentType] == "application/x-protobuf")
        #expect(request.headers[HTTPField.Name("Authorization")!] == "Bearer secret")
        #expect(request.headers[HTTPField.Name("X-Tenant")!] == "a b")
        #expect(request.headers[.userAgent]?.hasPrefix("OTel-OTLP-Exporter-Swift-Otter/") == true)
        #expect(request.headers[HTTPField.Name("traceparent")!] == nil, "exports are not traced themselves")
        let decoded = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: request.body))
        expectSameSpans(decoded, OTLPFixtures.spans)
    }

    @Test func jsonAndGzipReachTheReceiver() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        let exporter = exporter(port: port) {
            $0.transportProtocol = .httpJSON
            $0.compression = .gzip
        }
        try await exporter.export(OTLPFixtures.spans)
        await exporter.shutdown()
        await receiver.stop()

        let request = try #require(receiver.requests.first)
        #expect(request.headers[.contentType] == "application/json")
        #expect(request.headers[.contentEncoding] == "gzip")
        let decoded = try OTLPReading.finishedSpans(from: OTLPJSON.decodeRequest(Data(request.body)))
        expectSameSpans(decoded, OTLPFixtures.spans)
    }

    @Test func unavailableThenOKDeliversEachSpanExactlyOnce() async throws {
        let receiver = TestOTLPReceiver()
        receiver.script(.init(status: .serviceUnavailable), .init(status: .badGateway))
        let port = try await receiver.start()
        let exportedSpans = InMemoryCount()
        let processor = BatchSpanProcessor(exporter: CountingExporter(inner: exporter(port: port), count: exportedSpans))
        for span in OTLPFixtures.spans { processor.onEnd(span) }
        await processor.shutdown(timeout: .seconds(30))
        await receiver.stop()

        #expect(receiver.requests.count == 3, "503 and 502 are retried")
        #expect(exportedSpans.value == 2)
        let delivered = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: receiver.requests[2].body))
        #expect(delivered.map(\.spanContext.spanID) == OTLPFixtures.spans.map(\.spanContext.spanID))
        #expect(receiver.requests.map(\.body).allSatisfy { $0 == receiver.requests[0].body }, "the same batch each time")
    }

    @Test func tooManyRequestsWithRetryAfterWaits() async throws {
        let receiver = TestOTLPReceiver()
        receiver.script(.init(status: .tooManyRequests, headers: [.retryAfter: "1"]))
        let port = try await receiver.start()
        let exporter = exporter(port: port)
        try await exporter.export([OTLPFixtures.client])
        await exporter.shutdown()
        await receiver.stop()
        #expect(receiver.requests.count == 2)
        let waited = receiver.requests[0].receivedAt.duration(to: receiver.requests[1].receivedAt)
        // The backoff alone would retry after about 10 ms; Retry-After asked for a second.
        #expect(waited >= .milliseconds(950), "waited \(waited)")
    }

    @Test func badRequestIsNotRetriedAndReportedOnce() async throws {
        let receiver = TestOTLPReceiver()
        // A google.rpc.Status with message "span name too long" (field 2).
        let message = Array("span name too long".utf8)
        receiver.script(.init(status: .badRequest, body: [0x08, 0x03, 0x12, UInt8(message.count)] + message))
        let port = try await receiver.start()
        let logs = LogCapture()
        let processor = BatchSpanProcessor(exporter: exporter(port: port), logger: logs.logger)
        processor.onEnd(OTLPFixtures.client)
        await processor.shutdown(timeout: .seconds(30))
        await receiver.stop()
        #expect(receiver.requests.count == 1, "400 is not retried")
        let failures = logs.messages.filter { $0.contains("Span export failed") }
        #expect(failures.count == 1)
        #expect(failures.first?.contains("HTTP 400: span name too long (not retried)") == true, "\(failures)")
    }

    @Test func partialSuccessIsLoggedWithTheRejectedCount() async throws {
        let receiver = TestOTLPReceiver()
        var response = OTLPExportTraceServiceResponse()
        response.partialSuccess.rejectedSpans = 1
        response.partialSuccess.errorMessage = "one span had no name"
        receiver.script(.init(status: .ok, body: try response.serializedBytes()))
        let port = try await receiver.start()
        let logs = LogCapture()
        let exporter = exporter(port: port, logger: logs.logger)
        try await exporter.export(OTLPFixtures.spans)
        await exporter.shutdown()
        await receiver.stop()
        #expect(receiver.requests.count == 1, "a partial success is not retried")
        let warning = try #require(logs.messages.first { $0.contains("partially") })
        #expect(warning.contains("\"otter.spans.rejected\": 1"))
        #expect(warning.contains("one span had no name"))
    }

    @Test func deadReceiverCostsCountedDropsThenDeliveryResumes() async throws {
        let port = try unusedLoopbackPort()
        let exporter = exporter(port: port) { $0.timeout = .milliseconds(300) }
        let processor = BatchSpanProcessor(
            exporter: exporter,
            configuration: .init(
                maximumQueueSize: 50, scheduleDelay: .milliseconds(10), maximumExportBatchSize: 10, exportTimeout: .seconds(5)),
            logger: Logger(label: "quiet", factory: { _ in SwiftLogNoOpLogHandler() }))
        let worker = Task { await processor.run() }
        let tracer = OtterTracer(processor: processor)
        for index in 0..<1_000 {
            let span = tracer.startSpan("while-down-\(index)", context: .topLevel)
            span.end()
        }
        #expect(processor.droppedSpanCount >= 1_000 - 50 - 10 * 2, "the queue stays bounded; the rest is dropped and counted")
        #expect(processor.queuedSpanCount <= 50 + 10 * 2)

        let receiver = TestOTLPReceiver()
        _ = try await receiver.start(port: port)
        // Wait until everything queued so far has been handled (failed or delivered), then send new spans.
        await processor.forceFlush(timeout: .seconds(30))
        for index in 0..<5 { tracer.startSpan("after-recovery-\(index)", context: .topLevel).end() }
        #expect(await processor.forceFlush(timeout: .seconds(30)))
        await processor.shutdown(timeout: .seconds(30))
        worker.cancel()
        await worker.value
        await receiver.stop()
        let names = try receiver.requests.flatMap {
            try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: $0.body))
        }.map(\.operationName)
        #expect((0..<5).allSatisfy { names.contains("after-recovery-\($0)") }, "delivery resumes once the receiver is back")
    }

    @Test func exportToADeadReceiverGivesUpAtTheExportTimeout() async throws {
        let port = try unusedLoopbackPort()
        let exporter = exporter(port: port) { $0.timeout = .milliseconds(200) }
        do {
            try await exporter.export([OTLPFixtures.client])
            Issue.record("expected the export to fail")
        } catch let error as OTLPExportError {
            guard case .gaveUp = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect("\(error)".contains("export timeout") || "\(error)".contains("attempt"))
        }
        await exporter.shutdown()
    }
}

final class InMemoryCount: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add(_ amount: Int) { count.withLock { $0 += amount } }
}

struct CountingExporter: SpanExporter {
    let inner: any SpanExporter
    let count: InMemoryCount
    func export(_ batch: [FinishedSpan]) async throws {
        try await inner.export(batch)
        count.add(batch.count)
    }
    func shutdown() async { await inner.shutdown() }
}
