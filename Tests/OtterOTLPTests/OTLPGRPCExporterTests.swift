import Foundation
import GRPCCore
import GRPCProtobuf
import Logging
import Otter
import OtterTestSupport
import Testing

@testable import OtterOTLP

@Suite("OTLP/gRPC exporter against a real receiver", .serialized)
struct OTLPGRPCExporterTests {
    func exporter(port: Int, _ configure: (inout OTLPExporterConfiguration) -> Void = { _ in }) throws -> OTLPGRPCExporter {
        var configuration = OTLPExporterConfiguration(
            endpoint: URL(string: "http://127.0.0.1:\(port)")!, transportProtocol: .grpc,
            retryPolicy: OTLPRetryPolicy(initialBackoff: .milliseconds(10), maximumBackoff: .milliseconds(50)))
        // Far beyond what any attempt takes, so a loaded machine (CI's two cores) cannot turn a retry into a timeout;
        // tests of the timeout set their own.
        configuration.timeout = .seconds(120)
        configure(&configuration)
        return try OTLPGRPCExporter(configuration: configuration)
    }

    @Test func exportReachesTheReceiverWithEveryFieldAndMetadata() async throws {
        let receiver = TestOTLPGRPCReceiver()
        let port = try await receiver.start()
        let exporter = try exporter(port: port) {
            $0.headers = [("Authorization", "Bearer secret")]
            $0.compression = .gzip
        }
        try await exporter.export(OTLPFixtures.spans)
        await exporter.shutdown()
        await receiver.stop()

        let received = try #require(receiver.requests.first)
        #expect(receiver.requests.count == 1)
        #expect(received.metadata[stringValues: "authorization"].first(where: { _ in true }) == "Bearer secret")
        #expect(received.metadata[stringValues: "user-agent"].first(where: { _ in true })?.contains("Otter") == true)
        expectSameSpans(try OTLPReading.finishedSpans(from: received.request), OTLPFixtures.spans)
    }

    @Test func unavailableIsRetriedAndDeliveredOnce() async throws {
        let receiver = TestOTLPGRPCReceiver()
        receiver.script(RPCError(code: .unavailable, message: "warming up"), RPCError(code: .unavailable, message: "still warming up"))
        let port = try await receiver.start()
        let exporter = try exporter(port: port)
        try await exporter.export([OTLPFixtures.client])
        await exporter.shutdown()
        await receiver.stop()
        #expect(receiver.requests.count == 3)
        #expect(receiver.requests.allSatisfy { $0.request == receiver.requests[0].request })
    }

    @Test func invalidArgumentIsNotRetried() async throws {
        let receiver = TestOTLPGRPCReceiver()
        receiver.script(RPCError(code: .invalidArgument, message: "span without a name"))
        let port = try await receiver.start()
        let exporter = try exporter(port: port)
        do {
            try await exporter.export([OTLPFixtures.client])
            Issue.record("expected a rejection")
        } catch let error as OTLPExportError {
            #expect("\(error)".contains("span without a name"))
            #expect("\(error)".contains("not retried"))
        }
        await exporter.shutdown()
        await receiver.stop()
        #expect(receiver.requests.count == 1)
    }

    @Test func resourceExhaustedIsRetriedOnlyWithRetryInfoAndWaitsItsDelay() async throws {
        let receiver = TestOTLPGRPCReceiver()
        receiver.script(GoogleRPCStatus(code: .resourceExhausted, message: "slow down", details: .retryInfo(delay: .seconds(1))))
        let port = try await receiver.start()
        let exporter = try exporter(port: port)
        let clock = ContinuousClock()
        let start = clock.now
        try await exporter.export([OTLPFixtures.client])
        // The backoff alone would retry after about 10 ms; RetryInfo asked for a second.
        #expect(start.duration(to: clock.now) >= .milliseconds(950))
        #expect(receiver.requests.count == 2)
        receiver.script(RPCError(code: .resourceExhausted, message: "no retry info"))
        do {
            try await exporter.export([OTLPFixtures.client])
            Issue.record("RESOURCE_EXHAUSTED without RetryInfo must not be retried")
        } catch {
            #expect("\(error)".contains("no retry info"))
        }
        #expect(receiver.requests.count == 3)
        await exporter.shutdown()
        await receiver.stop()
    }

    @Test func deadReceiverGivesUpWithinTheExportTimeout() async throws {
        let port = try unusedLoopbackPort()
        let exporter = try exporter(port: port) { $0.timeout = .milliseconds(300) }
        do {
            try await exporter.export([OTLPFixtures.client])
            Issue.record("expected the export to fail")
        } catch let error as OTLPExportError {
            guard case .gaveUp = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        await exporter.shutdown()
    }

    @Test func jaegerMeansGRPCOnPort4317AndSchemeLessEndpointsFollowInsecure() throws {
        let jaeger = try Otter.makeService(
            .init(serviceName: "j", environment: ["EXPORTER": "jaeger"], exporterFactory: Otter.otlpExporterFactory))
        let exporter = try #require((jaeger.tracer.processor as? BatchSpanProcessor)?.exporter as? OTLPGRPCExporter)
        #expect(exporter.configuration.endpoint.absoluteString == "http://127.0.0.1:4317")
        let insecure = try OTLPExporterConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector.local:4317",
            "OTEL_EXPORTER_OTLP_INSECURE": "true",
        ])
        #expect(insecure.endpoint.absoluteString == "http://collector.local:4317")
        let secure = try OTLPExporterConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector.local:4317",
        ])
        #expect(secure.endpoint.absoluteString == "https://collector.local:4317")
        #expect(throws: ConfigurationError.self) {
            try OTLPExporterConfiguration.fromEnvironment(["OTEL_EXPORTER_OTLP_INSECURE": "maybe"])
        }
    }

    /// Logs over OTLP/gRPC as an application configures them: `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` and the logs
    /// factory, a log call inside a span, `LogsService/Export` on a real receiver with the headers, gzip, and a
    /// retried UNAVAILABLE.
    @Test func logRecordsReachTheLogsServiceWithTheirSpansIds() async throws {
        let receiver = TestOTLPGRPCReceiver()
        receiver.script(RPCError(code: .unavailable, message: "warming up"))
        let port = try await receiver.start()
        let service = try Otter.makeService(
            .init(
                serviceName: "checkout",
                environment: [
                    "OTEL_TRACES_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)",
                    "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "authorization=Bearer%20logs",
                    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip",
                    // Generous (milliseconds): a loaded machine must not turn the retried UNAVAILABLE into a timeout.
                    "OTEL_EXPORTER_OTLP_TIMEOUT": "120000",
                ], exporterFactory: Otter.otlpExporterFactory, logExporterFactory: Otter.otlpLogExporterFactory))
        let logger = Logger(label: "payments") { service.logEmitter.makeLogHandler(label: $0, metadataProvider: nil) }
        var spanContext: OtterSpanContext?
        service.tracer.withSpan("authorize") { span in
            spanContext = span.spanContext
            logger.error("payment declined", metadata: ["amount": .stringConvertible(2796)])
        }
        let flushed = await service.forceFlush(timeout: .seconds(180))
        #expect(flushed)
        await service.shutdown()
        await receiver.stop()

        #expect(receiver.requests.isEmpty, "no spans: OTEL_TRACES_EXPORTER=none")
        #expect(receiver.logsRequests.count == 2, "one UNAVAILABLE, then delivered")
        let received = try #require(receiver.logsRequests.last)
        #expect(received.metadata[stringValues: "authorization"].first(where: { _ in true }) == "Bearer logs")
        let record = try #require(received.request.resourceLogs.first?.scopeLogs.first?.logRecords.first)
        #expect(received.request.resourceLogs.first?.scopeLogs.first?.scope.name == "payments")
        #expect(record.body.stringValue == "payment declined")
        #expect(record.severityNumber == .error)
        #expect(record.spanID == Data(try #require(spanContext).spanID.bytes))
        #expect(record.traceID == Data(try #require(spanContext).traceID.bytes))
        #expect(record.attributes.first { $0.key == "amount" }?.value.intValue == 2796)
    }
}
