import Foundation
import HTTPTypes
import Logging
import Otter
import OtterTestSupport
import SwiftProtobuf
import Testing
import Tracing

@testable import OtterOTLP

/// swift-log → `OtterLogHandler` → batch processor → `OTLPHTTPLogExporter` → a real OTLP/HTTP receiver on
/// 127.0.0.1, configured from the environment as an application is.
@Suite("OTLP/HTTP log exporter against a real receiver", .serialized)
struct OTLPHTTPLogExporterTests {
    @Test func logsInsideASpanReachTheReceiverWithTheSpansIds() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let configuration = try OTLPExporterConfiguration.fromEnvironment(
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)", "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-team=orders"],
            signal: .logs)
        #expect(configuration.endpoint.absoluteString == "http://127.0.0.1:\(port)/v1/logs")
        let processor = BatchLogRecordProcessor(exporter: OTLPHTTPLogExporter(configuration: configuration))
        let resource = Resource(attributes: ["service.name": "checkout"])
        let emitter = OtterLogEmitter(resource: resource, processor: processor)
        let logger = Logger(label: "orders") { emitter.makeLogHandler(label: $0, metadataProvider: nil) }
        let tracer = OtterTracer(
            resource: resource, sampler: AlwaysOnSampler(), processor: SimpleSpanProcessor(exporter: InMemorySpanExporter()))

        var spanContext: OtterSpanContext?
        tracer.withSpan("place order") { span in
            spanContext = span.spanContext
            logger.info("order placed", metadata: ["order.id": "42", "lines": .array(["book", "pen"])])
            logger.error("payment declined", metadata: ["card": .dictionary(["brand": "visa"])])
        }
        logger.notice("outside any span")
        let flushed = await processor.forceFlush(timeout: .seconds(60))
        #expect(flushed)

        let requests = receiver.requests
        #expect(requests.map(\.path) == ["/v1/logs"])
        let request = try #require(requests.first)
        #expect(request.headers[.contentType] == "application/x-protobuf")
        #expect(request.headers[HTTPField.Name("x-team")!] == "orders")
        let decoded = try OTLPExportLogsServiceRequest(serializedBytes: request.body)
        #expect(decoded.resourceLogs.count == 1)
        #expect(decoded.resourceLogs.first?.resource.attributes.first?.value.stringValue == "checkout")
        #expect(decoded.resourceLogs.first?.scopeLogs.first?.scope.name == "orders")
        let records = decoded.resourceLogs.flatMap { $0.scopeLogs.flatMap(\.logRecords) }
        #expect(records.map(\.body.stringValue) == ["order placed", "payment declined", "outside any span"])
        #expect(records.map(\.severityNumber) == [.info, .error, .info2])
        #expect(records.map(\.severityText) == ["info", "error", "notice"])
        let context = try #require(spanContext)
        #expect(records[0].traceID == Data(context.traceID.bytes))
        #expect(records[0].spanID == Data(context.spanID.bytes))
        #expect(records[0].flags == UInt32(context.traceFlags.rawValue))
        #expect(records[0].flags & 1 == 1, "sampled")
        #expect(records[1].spanID == Data(context.spanID.bytes))
        #expect(records[2].traceID.isEmpty)
        let lines = records[0].attributes.first { $0.key == "lines" }?.value.arrayValue.values.map(\.stringValue)
        #expect(lines == ["book", "pen"])
        let card = records[1].attributes.first { $0.key == "card" }?.value.kvlistValue.values
        #expect(card?.first?.key == "brand")
        #expect(card?.first?.value.stringValue == "visa")
        #expect(records[0].attributes.contains { $0.key == "code.line.number" && $0.value.intValue > 0 })
        #expect(records.allSatisfy { $0.timeUnixNano > 0 && $0.observedTimeUnixNano == $0.timeUnixNano })
    }

    @Test func aReceiverThatRefusesMakesTheFlushSayFalse() async throws {
        let receiver = TestOTLPReceiver()
        receiver.script(.init(status: .badRequest, body: Array("no logs here".utf8)))
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let configuration = try OTLPExporterConfiguration.fromEnvironment(
            ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://127.0.0.1:\(port)/v1/logs"], signal: .logs)
        let processor = SimpleLogRecordProcessor(exporter: OTLPHTTPLogExporter(configuration: configuration))
        let emitter = OtterLogEmitter(resource: Resource(), processor: processor)
        Logger(label: "refused") { emitter.makeLogHandler(label: $0, metadataProvider: nil) }.warning("lost")
        let flushed = await processor.forceFlush(timeout: .seconds(10))
        #expect(!flushed)
        #expect(processor.failedLogRecordCount == 1)
    }

    /// `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json` through the factory an application passes: OTLP/JSON with hex
    /// ids, 64-bit times as strings and enum numbers, which `OTLPLogs(json:)` (the viewer's decoder) reads back whole.
    @Test func httpJSONSendsOTLPJSONThatDecodesToTheSameRecords() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let factoryConfiguration = try OtterConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
        ])
        let exporter = try #require(try Otter.otlpLogExporterFactory(.otlp, factoryConfiguration))
        let spanContext = OtterSpanContext(
            traceID: TraceID(bytes: Array(1...16))!, spanID: SpanID(bytes: Array(1...8))!, traceFlags: .sampled)
        let sent = [
            OtterLogRecord(
                timeNanosecondsSinceEpoch: 1_767_225_600_123_456_789, severity: .error, severityText: "error",
                body: .string("payment \"declined\"\n"),
                attributes: ["amount": .double(12.5), "tries": .int(3), "card": .map(["brand": .string("visa")])],
                spanContext: spanContext, resource: Resource(attributes: ["service.name": "payments"]),
                instrumentationScope: InstrumentationScope(name: "payments", version: nil))
        ]
        try await exporter.export(sent)
        let request = try #require(receiver.requests.first)
        #expect(request.path == "/v1/logs")
        #expect(request.headers[.contentType] == "application/json")
        let text = String(decoding: request.body, as: UTF8.self)
        #expect(text.contains(#""traceId":"0102030405060708090a0b0c0d0e0f10""#))
        #expect(text.contains(#""timeUnixNano":"1767225600123456789""#))
        #expect(text.contains(#""severityNumber":17"#))
        let received = try OTLPLogs(json: Data(request.body)).records
        #expect(received == sent)
    }

    /// One call as an application makes it: `Otter.makeService` with `EXPORTER=otlp` and both factories sends spans
    /// to `/v1/traces` and the logs written inside them to `/v1/logs` of the same endpoint, and
    /// `await service.forceFlush()` waits for both.
    @Test func makeServiceSendsSpansAndTheirLogsToTheSameEndpoint() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let service = try Otter.makeService(
            .init(
                serviceName: "checkout", environment: ["EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)"],
                exporterFactory: Otter.otlpExporterFactory, logExporterFactory: Otter.otlpLogExporterFactory))
        let logger = Logger(label: "orders") { service.logEmitter.makeLogHandler(label: $0, metadataProvider: nil) }
        var spanContext: OtterSpanContext?
        service.tracer.withSpan("place order") { span in
            spanContext = span.spanContext
            logger.info("order placed")
        }
        let flushed = await service.forceFlush(timeout: .seconds(60))
        #expect(flushed)
        let requests = receiver.requests
        #expect(Set(requests.map(\.path)) == ["/v1/traces", "/v1/logs"])
        let logs = try #require(requests.first { $0.path == "/v1/logs" })
        let record = try #require(
            try OTLPExportLogsServiceRequest(serializedBytes: logs.body).resourceLogs.first?.scopeLogs.first?.logRecords.first)
        #expect(record.spanID == Data(try #require(spanContext).spanID.bytes))
        let traces = try #require(requests.first { $0.path == "/v1/traces" })
        let spans = try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: traces.body))
        #expect(spans.map(\.spanContext.spanID) == [try #require(spanContext).spanID])
        await service.shutdown()
    }

    /// Found by the independent review: with no log exporter for the configured kind (no factory, or
    /// `OTEL_LOGS_EXPORTER=none`), the log pipeline exports nowhere, and `Otter.bootstrap` then leaves swift-log's
    /// default handler in place instead of swallowing the application's log lines.
    @Test func aLogPipelineThatExportsNowhereSaysSo() throws {
        func service(_ environment: [String: String], factory: Otter.LogExporterFactory?) throws -> OtterService {
            try Otter.makeService(
                .init(serviceName: "app", environment: environment, exporterFactory: Otter.otlpExporterFactory, logExporterFactory: factory)
            )
        }
        #expect(try !service(["EXPORTER": "otlp"], factory: nil).logEmitter.exportsSomewhere)
        #expect(
            try !service(["EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none"], factory: Otter.otlpLogExporterFactory).logEmitter
                .exportsSomewhere)
        #expect(try !service(["EXPORTER": "jaeger"], factory: Otter.otlpLogExporterFactory).logEmitter.exportsSomewhere)
        #expect(try service(["EXPORTER": "otlp"], factory: Otter.otlpLogExporterFactory).logEmitter.exportsSomewhere)
        #expect(try service(["EXPORTER": "console"], factory: nil).logEmitter.exportsSomewhere)
    }

    /// Found by the independent review: a batch whose request would pass OTLP's 64 MiB was dropped whole; it is
    /// sent in halves.
    @Test func aBatchOverTheRequestLimitIsSentInHalves() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let exporter = OTLPHTTPLogExporter(
            configuration: OTLPExporterConfiguration(endpoint: URL(string: "http://127.0.0.1:\(port)/v1/logs")!))
        let body = String(repeating: "x", count: 130_000)
        let batch = (0..<520).map { index in
            OtterLogRecord(timeNanosecondsSinceEpoch: UInt64(index + 1), severity: .info, body: .string(body))
        }
        try await exporter.export(batch)
        let requests = receiver.requests
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.body.count <= 64 << 20 })
        let times = try requests.flatMap { request in
            try OTLPExportLogsServiceRequest(serializedBytes: request.body).resourceLogs.flatMap {
                $0.scopeLogs.flatMap { $0.logRecords.map(\.timeUnixNano) }
            }
        }
        #expect(times == (1...520).map(UInt64.init))
    }
}
