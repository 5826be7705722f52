import Foundation
import Otter
import OtterTestSupport
import Testing

@testable import OtterOTLP

@Suite("OTLP exporter configuration")
struct OTLPConfigurationTests {
    @Test func defaultsFollowTheSpecification() throws {
        let configuration = try OTLPExporterConfiguration.fromEnvironment([:])
        #expect(configuration.transportProtocol == .httpProtobuf)
        #expect(configuration.endpoint.absoluteString == "http://127.0.0.1:4318/v1/traces")
        #expect(configuration.timeout == .seconds(10))
        #expect(configuration.compression == .none)
        #expect(configuration.headers.isEmpty)
    }

    @Test func baseEndpointGetsTheSignalPathAndSignalEndpointIsUsedAsIs() throws {
        #expect(
            try OTLPExporterConfiguration.fromEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9999/mycollector/"]).endpoint
                .absoluteString
                == "http://127.0.0.1:9999/mycollector/v1/traces")
        #expect(
            try OTLPExporterConfiguration.fromEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9999"]).endpoint.absoluteString
                == "http://127.0.0.1:9999/v1/traces")
        #expect(
            try OTLPExporterConfiguration.fromEnvironment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1/ignored",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9999/custom/path",
            ]).endpoint.absoluteString == "http://127.0.0.1:9999/custom/path")
    }

    @Test func signalSpecificVariablesWin() throws {
        let configuration = try OTLPExporterConfiguration.fromEnvironment([
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_HEADERS": "a=1",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "api-key=s%20ecret,tenant=7",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2500",
        ])
        #expect(configuration.transportProtocol == .httpJSON)
        #expect(configuration.headers.map(\.name) == ["api-key", "tenant"])
        #expect(configuration.headers.first?.value == "s ecret")
        #expect(configuration.compression == .gzip)
        #expect(configuration.timeout == .milliseconds(2500))
    }

    @Test(arguments: [
        (["OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"], "OTEL_EXPORTER_OTLP_PROTOCOL=thrift"),
        (["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "127.0.0.1:4318"], "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=127.0.0.1:4318"),
        (["OTEL_EXPORTER_OTLP_HEADERS": "novalue"], "OTEL_EXPORTER_OTLP_HEADERS=novalue"),
        (["OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"], "OTEL_EXPORTER_OTLP_COMPRESSION=zstd"),
        (["OTEL_EXPORTER_OTLP_TIMEOUT": "-5"], "OTEL_EXPORTER_OTLP_TIMEOUT=-5"),
    ])
    func badValuesNameTheVariable(environment: [String: String], named: String) {
        do {
            _ = try OTLPExporterConfiguration.fromEnvironment(environment)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains(named), "\(error.description)")
        }
    }

    @Test func factoryMakesOTLPExportersForOTLPAndJaeger() throws {
        let service = try Otter.makeService(
            .init(serviceName: "factory", environment: ["OTEL_TRACES_EXPORTER": "otlp"], exporterFactory: Otter.otlpExporterFactory))
        let processor = try #require(service.tracer.processor as? BatchSpanProcessor)
        #expect(processor.exporter is OTLPHTTPExporter)
        let jaeger = try Otter.makeService(
            .init(serviceName: "jaeger", environment: ["EXPORTER": "jaeger"], exporterFactory: Otter.otlpExporterFactory))
        #expect((jaeger.tracer.processor as? BatchSpanProcessor)?.exporter is OTLPGRPCExporter, "jaeger means OTLP/gRPC")
    }

    @Test func retryAfterParsesSecondsAndHTTPDates() throws {
        #expect(OTLPHTTPRequest.parseRetryAfter("3") == .seconds(3))
        let future = Date().addingTimeInterval(5)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let parsed = try #require(OTLPHTTPRequest.parseRetryAfter(formatter.string(from: future)))
        #expect(parsed > .seconds(3) && parsed <= .seconds(6))
        #expect(OTLPHTTPRequest.parseRetryAfter("soon") == nil)
    }

    @Test func backoffGrowsWithJitterWithinTheCap() {
        let policy = OTLPRetryPolicy(initialBackoff: .seconds(1), maximumBackoff: .seconds(30), jitter: 0.2)
        for _ in 0..<100 {
            let first = policy.backoff(beforeRetry: 1)
            #expect(first >= .milliseconds(800) && first <= .milliseconds(1200))
            let third = policy.backoff(beforeRetry: 3)
            #expect(third >= .milliseconds(3200) && third <= .milliseconds(4800))
            #expect(policy.backoff(beforeRetry: 20) <= .seconds(30))
        }
    }
}
