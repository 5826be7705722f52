import Foundation
import Instrumentation
import Logging
import ServiceLifecycle
import Tracing

/// One-call setup of the Otter SDK.
///
/// ```swift
/// let otter = try Otter.bootstrap(serviceName: "checkout")
/// try await ServiceGroup(services: [otter, app], logger: logger).run()
/// ```
public enum Otter {
    /// The SDK's version, reported as `telemetry.sdk.version`.
    public static let version = "0.1.0"

    /// Makes an exporter for a kind named in the configuration, or returns nil when it does not handle it.
    /// OtterOTLP supplies one for `otlp` and `jaeger`.
    public typealias ExporterFactory =
        @Sendable (OtterConfiguration.ExporterKind, OtterConfiguration) throws -> (any SpanExporter)?

    /// Builds the tracer and its pipeline from code and environment, without touching global state.
    ///
    /// Arguments given in code win over the environment. With no `exporter`, the exporters named by
    /// `OTEL_TRACES_EXPORTER` or `EXPORTER` (default `defaultExporters`) are made: the console exporter behind a
    /// ``SimpleSpanProcessor``, the others behind a ``BatchSpanProcessor``.
    public static func makeService(
        serviceName: String? = nil,
        exporter: (any SpanExporter)? = nil,
        sampler: (any Sampler)? = nil,
        propagator: (any TextMapPropagator)? = nil,
        idGenerator: any IDGenerator = RandomIDGenerator(),
        resourceAttributes: SpanAttributes = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        defaultExporters: [OtterConfiguration.ExporterKind] = [.console],
        exporterFactory: ExporterFactory? = nil,
        logger: Logger = Logger(label: "otter")
    ) throws(ConfigurationError) -> OtterService {
        let configuration = try OtterConfiguration.fromEnvironment(environment, defaultExporters: defaultExporters)
        for warning in configuration.warnings { logger.warning("\(warning)") }
        var resource = configuration.resource.merging(Resource(attributes: resourceAttributes))
        if let serviceName { resource.attributes.set("service.name", value: .string(serviceName)) }

        let processor: any SpanProcessor
        if configuration.isSDKDisabled {
            processor = MultiSpanProcessor([])
        } else if let exporter {
            processor =
                exporter is ConsoleSpanExporter
                ? SimpleSpanProcessor(exporter: exporter)
                : BatchSpanProcessor(exporter: exporter, configuration: configuration.batchProcessor)
        } else {
            processor = try makeProcessors(configuration: configuration, exporterFactory: exporterFactory)
        }

        let tracer = OtterTracer(
            resource: resource,
            sampler: configuration.isSDKDisabled ? AlwaysOffSampler() : (sampler ?? configuration.sampler),
            processor: processor,
            propagator: propagator ?? configuration.propagator,
            idGenerator: idGenerator,
            limits: configuration.limits)
        // Shutdown waits as long as one export may take (at least 30 s when exports have no limit).
        let exportTimeout = configuration.batchProcessor.exportTimeout
        return OtterService(tracer: tracer, shutdownTimeout: exportTimeout > .zero ? exportTimeout : .seconds(30), logger: logger)
    }

    /// ``makeService(serviceName:exporter:sampler:propagator:idGenerator:resourceAttributes:environment:defaultExporters:exporterFactory:logger:)``,
    /// then installs the tracer as the process-wide `InstrumentationSystem` tracer. Call it once per process,
    /// before creating clients that capture the tracer (AsyncHTTPClient does).
    public static func bootstrap(
        serviceName: String? = nil,
        exporter: (any SpanExporter)? = nil,
        sampler: (any Sampler)? = nil,
        propagator: (any TextMapPropagator)? = nil,
        resourceAttributes: SpanAttributes = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        defaultExporters: [OtterConfiguration.ExporterKind] = [.console],
        exporterFactory: ExporterFactory? = nil,
        logger: Logger = Logger(label: "otter")
    ) throws(ConfigurationError) -> OtterService {
        let service = try makeService(
            serviceName: serviceName, exporter: exporter, sampler: sampler, propagator: propagator,
            resourceAttributes: resourceAttributes, environment: environment, defaultExporters: defaultExporters,
            exporterFactory: exporterFactory, logger: logger)
        InstrumentationSystem.bootstrap(service.tracer)
        return service
    }

    private static func makeProcessors(
        configuration: OtterConfiguration, exporterFactory: ExporterFactory?
    ) throws(ConfigurationError) -> any SpanProcessor {
        var processors: [any SpanProcessor] = []
        for kind in configuration.exporters {
            switch kind {
            case .none:
                continue
            case .console:
                processors.append(SimpleSpanProcessor(exporter: ConsoleSpanExporter(style: configuration.consoleStyle)))
            case .otlp, .jaeger:
                let made: (any SpanExporter)?
                do {
                    made = try exporterFactory?(kind, configuration)
                } catch let error as ConfigurationError {
                    throw error
                } catch {
                    throw .exporterUnavailable(name: kind.rawValue, reason: "\(error)")
                }
                guard let made else {
                    throw .exporterUnavailable(
                        name: kind.rawValue,
                        reason: "this program was built without OTLP export (the OtterOTLP module); "
                            + "use EXPORTER=console or OTEL_TRACES_EXPORTER=console")
                }
                processors.append(BatchSpanProcessor(exporter: made, configuration: configuration.batchProcessor))
            }
        }
        return processors.count == 1 ? processors[0] : MultiSpanProcessor(processors)
    }
}

/// Owns the tracing pipeline's lifetime: run it in a swift-service-lifecycle `ServiceGroup` (or call
/// ``run()`` in a task), and on graceful shutdown it flushes every queued span before returning.
/// Short-lived programs that do not run it can call ``shutdown(timeout:)``: it exports what is queued, and waits.
public final class OtterService: Service {
    public let tracer: OtterTracer
    /// How long shutdown waits for queued spans to be exported.
    public let shutdownTimeout: Duration
    private let logger: Logger

    public init(tracer: OtterTracer, shutdownTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "otter")) {
        self.tracer = tracer
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    /// Runs the processors' background export until graceful shutdown or cancellation, then flushes and
    /// shuts the pipeline down.
    public func run() async throws {
        let processor = tracer.processor
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            try? await gracefulShutdown()
            await tracer.shutdown(timeout: shutdownTimeout)
            group.cancelAll()
        }
    }

    /// Waits until every span ended so far is exported, or `timeout` (default: the shutdown timeout) passes, or
    /// the calling task is cancelled. Returns whether all of them were delivered: false when an export failed or
    /// timed out.
    @discardableResult
    public func forceFlush(timeout: Duration? = nil) async -> Bool {
        await tracer.forceFlush(timeout: timeout ?? shutdownTimeout)
    }

    /// Flushes and shuts the pipeline down; spans that end afterwards are dropped.
    public func shutdown(timeout: Duration? = nil) async {
        await tracer.shutdown(timeout: timeout ?? shutdownTimeout)
    }
}
