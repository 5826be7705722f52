import Foundation
import Instrumentation
import Logging
import ServiceLifecycle
import Tracing

/// One-call setup of the Otter SDK.
///
/// ```swift
/// let otter = try Otter.bootstrap(.init(serviceName: "checkout"))
/// try await ServiceGroup(services: [otter, app], logger: logger).run()
/// ```
public enum Otter {
    /// The SDK's version, reported as `telemetry.sdk.version`.
    public static let version = "0.1.0"

    /// Makes an exporter for a kind named in the configuration, or returns nil when it does not handle it.
    /// OtterOTLP supplies one for `otlp` and `jaeger`.
    public typealias ExporterFactory =
        @Sendable (OtterConfiguration.ExporterKind, OtterConfiguration) throws -> (any SpanExporter)?

    /// Makes a log record exporter for a kind named in the configuration (`OTEL_LOGS_EXPORTER`, or the trace
    /// exporters), or returns nil when it does not handle it. OtterOTLP supplies one for `otlp` and `jaeger`.
    public typealias LogExporterFactory =
        @Sendable (OtterConfiguration.ExporterKind, OtterConfiguration) throws -> (any LogRecordExporter)?

    /// What the SDK is built from: what code says, and the environment it reads the rest from (`OTEL_*`,
    /// `EXPORTER`). Arguments given in code win over the environment. One value for ``makeService(_:)`` and
    /// ``bootstrap(_:bootstrapsLogging:alsoLogTo:)``.
    public struct Setup: Sendable {
        /// `service.name`; nil takes `OTEL_SERVICE_NAME`, then `OTEL_RESOURCE_ATTRIBUTES`, then `unknown_service`.
        public var serviceName: String?
        /// The one span exporter to use (the console exporter behind a ``SimpleSpanProcessor``, any other behind a
        /// ``BatchSpanProcessor``); nil makes the exporters the environment names.
        public var exporter: (any SpanExporter)?
        /// The sampler; nil takes `OTEL_TRACES_SAMPLER` (default: parent-based always-on).
        public var sampler: (any Sampler)?
        /// The propagator; nil takes `OTEL_PROPAGATORS` (default: W3C trace context and baggage).
        public var propagator: (any TextMapPropagator)?
        /// Makes trace and span ids.
        public var idGenerator: any IDGenerator
        /// Resource attributes added to (and winning over) those of `OTEL_RESOURCE_ATTRIBUTES`.
        public var resourceAttributes: SpanAttributes
        /// The environment read for everything not given in code.
        public var environment: [String: String]
        /// The exporters when neither `OTEL_TRACES_EXPORTER` nor `EXPORTER` names any.
        public var defaultExporters: [OtterConfiguration.ExporterKind]
        /// Makes the `otlp` and `jaeger` span exporters (pass `Otter.otlpExporterFactory` from OtterOTLP).
        public var exporterFactory: ExporterFactory?
        /// The one log record exporter to use; nil makes those the environment names.
        public var logExporter: (any LogRecordExporter)?
        /// Makes the `otlp` and `jaeger` log record exporters (pass `Otter.otlpLogExporterFactory` from OtterOTLP).
        public var logExporterFactory: LogExporterFactory?
        /// Where the SDK reports its own problems (a configuration warning, an export that failed).
        public var logger: Logger

        /// A setup; every argument is optional, and `Setup()` reads everything from the process environment.
        public init(
            serviceName: String? = nil,
            exporter: (any SpanExporter)? = nil,
            sampler: (any Sampler)? = nil,
            propagator: (any TextMapPropagator)? = nil,
            idGenerator: any IDGenerator = RandomIDGenerator(),
            resourceAttributes: SpanAttributes = [:],
            environment: [String: String] = ProcessInfo.processInfo.environment,
            defaultExporters: [OtterConfiguration.ExporterKind] = [.console],
            exporterFactory: ExporterFactory? = nil,
            logExporter: (any LogRecordExporter)? = nil,
            logExporterFactory: LogExporterFactory? = nil,
            logger: Logger = Logger(label: "otter")
        ) {
            self.serviceName = serviceName
            self.exporter = exporter
            self.sampler = sampler
            self.propagator = propagator
            self.idGenerator = idGenerator
            self.resourceAttributes = resourceAttributes
            self.environment = environment
            self.defaultExporters = defaultExporters
            self.exporterFactory = exporterFactory
            self.logExporter = logExporter
            self.logExporterFactory = logExporterFactory
            self.logger = logger
        }
    }

    /// Builds the tracer and its pipeline from `setup`, without touching global state. With no `exporter`, the
    /// exporters named by `OTEL_TRACES_EXPORTER` or `EXPORTER` (default `defaultExporters`) are made: the console
    /// exporter behind a ``SimpleSpanProcessor``, the others behind a ``BatchSpanProcessor``.
    public static func makeService(_ setup: Setup = Setup()) throws(ConfigurationError) -> OtterService {
        let (serviceName, exporter, sampler, propagator) = (setup.serviceName, setup.exporter, setup.sampler, setup.propagator)
        let (idGenerator, resourceAttributes, environment) = (setup.idGenerator, setup.resourceAttributes, setup.environment)
        let (defaultExporters, exporterFactory, logExporter) = (setup.defaultExporters, setup.exporterFactory, setup.logExporter)
        let (logExporterFactory, logger) = (setup.logExporterFactory, setup.logger)
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
        let logProcessor: any LogRecordProcessor
        if configuration.isSDKDisabled {
            logProcessor = MultiLogRecordProcessor([])
        } else if let logExporter {
            logProcessor =
                logExporter is ConsoleLogRecordExporter
                ? SimpleLogRecordProcessor(exporter: logExporter)
                : BatchLogRecordProcessor(exporter: logExporter, configuration: configuration.logBatchProcessor)
        } else {
            logProcessor = try makeLogProcessors(configuration: configuration, exporterFactory: logExporterFactory, logger: logger)
        }
        let logEmitter = OtterLogEmitter(
            resource: resource, processor: logProcessor, attributeCountLimit: configuration.logRecordAttributeCountLimit,
            attributeValueLengthLimit: configuration.logRecordAttributeValueLengthLimit)
        // Shutdown waits as long as one export of either pipeline may take (at least 30 s when exports have no limit).
        let exportTimeout = max(configuration.batchProcessor.exportTimeout, configuration.logBatchProcessor.exportTimeout)
        return OtterService(
            tracer: tracer, logEmitter: logEmitter, shutdownTimeout: exportTimeout > .zero ? exportTimeout : .seconds(30),
            logger: logger)
    }

    /// ``makeService(_:)``, then installs the tracer as the process-wide `InstrumentationSystem` tracer and, unless
    /// `bootstrapsLogging` is false or Otter's log records would go nowhere (`OTEL_LOGS_EXPORTER=none`, or no log
    /// exporter for the configured kind: set ``Setup/logExporterFactory`` to `Otter.otlpLogExporterFactory` for OTLP),
    /// an ``OtterLogHandler`` as swift-log's handler (with `alsoLogTo`'s handler beside it, e.g.
    /// `StreamLogHandler.standardError`, through swift-log's `MultiplexLogHandler`; when Otter does not take swift-log
    /// over, log lines keep going to swift-log's default, standard error). Call it once per process, before creating
    /// clients that capture the tracer (AsyncHTTPClient does); swift-log allows one bootstrap per process, so pass
    /// `bootstrapsLogging: false` when the application bootstraps logging itself (and use ``OtterService/logEmitter``
    /// in its factory).
    public static func bootstrap(
        _ setup: Setup = Setup(), bootstrapsLogging: Bool = true,
        alsoLogTo additionalHandler: (@Sendable (String) -> any LogHandler)? = nil
    ) throws(ConfigurationError) -> OtterService {
        let service = try makeService(setup)
        InstrumentationSystem.bootstrap(service.tracer)
        // swift-log is taken over only when Otter's log records go somewhere: otherwise the application's log lines
        // keep going to swift-log's default handler (standard error), as before, instead of vanishing.
        if bootstrapsLogging, service.logEmitter.exportsSomewhere {
            let emitter = service.logEmitter
            LoggingSystem.bootstrap(
                { label, metadataProvider in
                    let otter = emitter.makeLogHandler(label: label, metadataProvider: metadataProvider)
                    guard let additionalHandler else { return otter }
                    return MultiplexLogHandler([otter, additionalHandler(label)])
                }, metadataProvider: nil)
        }
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

    private static func makeLogProcessors(
        configuration: OtterConfiguration, exporterFactory: LogExporterFactory?, logger: Logger
    ) throws(ConfigurationError) -> any LogRecordProcessor {
        var processors: [any LogRecordProcessor] = []
        for kind in configuration.logExporters {
            switch kind {
            case .none:
                continue
            case .console:
                processors.append(
                    SimpleLogRecordProcessor(
                        exporter: ConsoleLogRecordExporter(style: configuration.consoleStyle == .json ? .json : .line)))
            case .otlp, .jaeger:
                let made: (any LogRecordExporter)?
                do {
                    made = try exporterFactory?(kind, configuration)
                } catch let error as ConfigurationError {
                    throw error
                } catch {
                    throw .exporterUnavailable(name: kind.rawValue, reason: "\(error)")
                }
                // Without a log exporter for this kind (a program built without OtterOTLP, or a protocol log
                // export does not speak yet), log records stay local and tracing still works; said once here.
                guard let made else {
                    // No log exporter factory at all: the program did not ask for OTLP logs; nothing to say.
                    guard exporterFactory != nil else { continue }
                    logger.warning(
                        "Log records are not exported to \(kind.rawValue): no log exporter for it in this program",
                        metadata: ["otter.exporter": "\(kind.rawValue)"])
                    continue
                }
                processors.append(BatchLogRecordProcessor(exporter: made, configuration: configuration.logBatchProcessor))
            }
        }
        return processors.count == 1 ? processors[0] : MultiLogRecordProcessor(processors)
    }
}

/// Owns the tracing pipeline's lifetime: run it in a swift-service-lifecycle `ServiceGroup` (or call
/// ``run()`` in a task), and on graceful shutdown it flushes every queued span before returning.
/// Short-lived programs that do not run it can call ``shutdown(timeout:)``: it exports what is queued, and waits.
public final class OtterService: Service {
    /// The tracer whose span pipeline the service runs and shuts down.
    public let tracer: OtterTracer
    /// Makes the log records of swift-log calls (``OtterLogHandler``s) and owns their pipeline.
    public let logEmitter: OtterLogEmitter
    /// How long shutdown waits for queued spans and log records to be exported.
    public let shutdownTimeout: Duration
    private let logger: Logger

    /// Makes a service for `tracer` and, when given, `logEmitter` (without one, log records go nowhere). `shutdownTimeout`
    /// bounds the flush on shutdown; the service logs nothing through `logger`. Bootstraps nothing global.
    public init(
        tracer: OtterTracer, logEmitter: OtterLogEmitter? = nil, shutdownTimeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "otter")
    ) {
        self.tracer = tracer
        self.logEmitter = logEmitter ?? OtterLogEmitter(resource: tracer.resource, processor: MultiLogRecordProcessor([]))
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    /// Runs the processors' background export until graceful shutdown or cancellation, then flushes and
    /// shuts the pipeline down.
    public func run() async throws {
        let processor = tracer.processor
        let logProcessor = logEmitter.processor
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await processor.run() }
            group.addTask { await logProcessor.run() }
            try? await gracefulShutdown()
            await shutdown()
            group.cancelAll()
        }
    }

    /// Waits until every span ended and every log record emitted so far is exported, or `timeout` (default: the shutdown timeout) passes, or
    /// the calling task is cancelled. Returns whether all of them were delivered: false when an export failed or
    /// timed out.
    @discardableResult
    public func forceFlush(timeout: Duration? = nil) async -> Bool {
        let timeout = timeout ?? shutdownTimeout
        async let logsFlushed = logEmitter.processor.forceFlush(timeout: timeout)
        let spansFlushed = await tracer.forceFlush(timeout: timeout)
        return await logsFlushed && spansFlushed
    }

    /// Flushes and shuts both pipelines down; spans and log records that come afterwards are dropped.
    public func shutdown(timeout: Duration? = nil) async {
        let timeout = timeout ?? shutdownTimeout
        async let logsShutDown: Void = logEmitter.processor.shutdown(timeout: timeout)
        await tracer.shutdown(timeout: timeout)
        await logsShutDown
    }
}
