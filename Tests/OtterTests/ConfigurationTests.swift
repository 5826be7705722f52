import Logging
import Testing
import Tracing

@testable import Otter

@Suite("Configuration")
struct ConfigurationTests {
    @Test func defaultsFollowTheSpecification() throws {
        let configuration = try OtterConfiguration.fromEnvironment([:])
        #expect(configuration.exporters == [.otlp])
        #expect(configuration.sampler.description.hasPrefix("ParentBased{root:AlwaysOnSampler"))
        #expect(configuration.batchProcessor == BatchSpanProcessor.Configuration())
        #expect(configuration.batchProcessor.maximumQueueSize == 2048)
        #expect(configuration.batchProcessor.maximumExportBatchSize == 512)
        #expect(configuration.batchProcessor.scheduleDelay == .seconds(5))
        #expect(configuration.batchProcessor.exportTimeout == .seconds(30))
        #expect(configuration.propagator.fields == ["traceparent", "tracestate", "baggage"])
        #expect(!configuration.isSDKDisabled)
        #expect(configuration.resource.serviceName?.hasPrefix("unknown_service:") == true)
        #expect(configuration.resource.attributes.get("telemetry.sdk.language") == .string("swift"))
        #expect(configuration.resource.attributes.get("process.pid") != nil)
        #expect(configuration.resource.attributes.get("host.name") != nil)
    }

    @Test func readsTheStandardVariables() throws {
        let configuration = try OtterConfiguration.fromEnvironment([
            "OTEL_SERVICE_NAME": "checkout",
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,deployment.environment=staging, team=a%20b",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.25",
            "OTEL_TRACES_EXPORTER": "console,none",
            "OTEL_PROPAGATORS": "b3multi,tracecontext",
            "OTEL_BSP_MAX_QUEUE_SIZE": "100",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "10",
            "OTEL_BSP_SCHEDULE_DELAY": "250",
            "OTEL_BSP_EXPORT_TIMEOUT": "1000",
            "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "5",
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "64",
            "OTEL_SPAN_EVENT_COUNT_LIMIT": "6",
            "OTEL_SPAN_LINK_COUNT_LIMIT": "7",
            "OTTER_CONSOLE_STYLE": "tree",
        ])
        #expect(configuration.resource.serviceName == "checkout")
        #expect(configuration.resource.attributes.get("deployment.environment") == .string("staging"))
        #expect(configuration.resource.attributes.get("team") == .string("a b"))
        #expect(configuration.sampler.description.hasPrefix("ParentBased{root:TraceIdRatioBased{0.25}"))
        #expect(configuration.exporters == [.console, .none])
        #expect(configuration.propagator.fields == ["X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled", "traceparent", "tracestate"])
        #expect(configuration.batchProcessor.maximumQueueSize == 100)
        #expect(configuration.batchProcessor.maximumExportBatchSize == 10)
        #expect(configuration.batchProcessor.scheduleDelay == .milliseconds(250))
        #expect(configuration.batchProcessor.exportTimeout == .milliseconds(1000))
        #expect(configuration.limits.attributeCountLimit == 5)
        #expect(configuration.limits.attributeValueLengthLimit == 64)
        #expect(configuration.limits.eventCountLimit == 6)
        #expect(configuration.limits.linkCountLimit == 7)
        #expect(configuration.consoleStyle == .tree)
    }

    @Test func seedExporterSwitch() throws {
        #expect(try OtterConfiguration.fromEnvironment(["EXPORTER": "console"]).exporters == [.console])
        #expect(try OtterConfiguration.fromEnvironment(["EXPORTER": "jaeger"]).exporters == [.jaeger])
        #expect(try OtterConfiguration.fromEnvironment(["EXPORTER": "otlp"]).exporters == [.otlp])
        #expect(try OtterConfiguration.fromEnvironment(["EXPORTER": "otlp", "OTEL_TRACES_EXPORTER": "otlp"]).exporters == [.otlp])
    }

    @Test(arguments: [
        (["OTEL_TRACES_EXPORTER": "zipkin"], "OTEL_TRACES_EXPORTER=zipkin"),
        (["EXPORTER": "stdout"], "EXPORTER=stdout"),
        (["EXPORTER": "console", "OTEL_TRACES_EXPORTER": "otlp"], "EXPORTER=console"),
        (["OTEL_RESOURCE_ATTRIBUTES": "novalue"], "OTEL_RESOURCE_ATTRIBUTES=novalue"),
    ])
    func exporterAndResourceMistakesAreErrorsThatNameTheVariable(environment: [String: String], named: String) {
        do {
            _ = try OtterConfiguration.fromEnvironment(environment)
            Issue.record("expected an error for \(environment)")
        } catch {
            #expect(error.description.contains(named), "\(error.description)")
        }
    }

    /// The OpenTelemetry specification: an invalid value logs a warning naming the variable and the default applies.
    @Test(arguments: [
        (["OTEL_TRACES_SAMPLER": "sometimes"], "OTEL_TRACES_SAMPLER=sometimes"),
        (["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"], "OTEL_TRACES_SAMPLER_ARG=1.5"),
        (["OTEL_PROPAGATORS": "tracecontext,xray"], "OTEL_PROPAGATORS=tracecontext,xray"),
        (["OTEL_BSP_MAX_QUEUE_SIZE": "-1"], "OTEL_BSP_MAX_QUEUE_SIZE=-1"),
        (["OTEL_BSP_SCHEDULE_DELAY": "soon"], "OTEL_BSP_SCHEDULE_DELAY=soon"),
        (["OTEL_BSP_SCHEDULE_DELAY": "99999999999999999"], "OTEL_BSP_SCHEDULE_DELAY=99999999999999999"),
        (["OTEL_BSP_MAX_QUEUE_SIZE": "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "20"], "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=20"),
        (["OTEL_SDK_DISABLED": "yes"], "OTEL_SDK_DISABLED=yes"),
        (["OTTER_CONSOLE_STYLE": "fancy"], "OTTER_CONSOLE_STYLE=fancy"),
    ])
    func badValuesWarnNamingTheVariableAndFallBack(environment: [String: String], named: String) throws {
        let configuration = try OtterConfiguration.fromEnvironment(environment)
        #expect(configuration.warnings.count == 1, "\(configuration.warnings)")
        #expect(configuration.warnings.first?.contains(named) == true, "\(configuration.warnings)")
        let defaults = try OtterConfiguration.fromEnvironment([:])
        #expect(configuration.isSDKDisabled == defaults.isSDKDisabled)
        #expect(configuration.consoleStyle == defaults.consoleStyle)
        #expect(configuration.batchProcessor.scheduleDelay == defaults.batchProcessor.scheduleDelay)
        if environment["OTEL_TRACES_SAMPLER"] == "sometimes" {
            #expect(configuration.sampler is ParentBasedSampler, "the default sampler applies")
        }
        if environment["OTEL_PROPAGATORS"] != nil {
            #expect(configuration.propagator.fields.contains("traceparent"), "the valid propagators stay")
        }
    }

    @Test func otlpWithoutTheOTLPModuleIsAClearError() {
        do {
            _ = try Otter.makeService(.init(serviceName: "x", environment: ["EXPORTER": "jaeger"]))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("exporter 'jaeger' is not available"))
        }
    }

    @Test func makeServiceHonoursCodeOverEnvironment() async throws {
        let exporter = InMemorySpanExporter()
        let service = try Otter.makeService(
            .init(
                serviceName: "from-code", exporter: exporter,
                environment: ["OTEL_SERVICE_NAME": "from-env", "OTEL_TRACES_SAMPLER": "always_off"], defaultExporters: [.console]))
        #expect(service.tracer.resource.serviceName == "from-code")
        #expect(service.tracer.processor is BatchSpanProcessor)
        service.tracer.startSpan("dropped", context: .topLevel).end()
        await service.shutdown()
        #expect(exporter.exportedSpans.isEmpty, "the environment's sampler applies when code sets none")
    }

    @Test func disabledSDKRecordsNothing() async throws {
        let exporter = InMemorySpanExporter()
        let service = try Otter.makeService(.init(exporter: exporter, environment: ["OTEL_SDK_DISABLED": "true"]))
        let span = service.tracer.startSpan("nothing", context: .topLevel)
        #expect(!span.isRecording)
        span.end()
        await service.shutdown()
        #expect(exporter.exportedSpans.isEmpty)
    }

    @Test func serviceRunsUntilCancelledAndFlushes() async throws {
        let exporter = InMemorySpanExporter()
        let service = try Otter.makeService(
            .init(serviceName: "svc", exporter: exporter, environment: ["OTEL_BSP_SCHEDULE_DELAY": "3600000"]))
        let running = Task { try await service.run() }
        service.tracer.startSpan("queued", context: .topLevel).end()
        running.cancel()
        try await running.value
        #expect(exporter.exportedSpans.map(\.operationName) == ["queued"], "shutdown on cancellation flushed the queue")
    }

    @Test func loggingMetadataCarriesTheCurrentSpan() throws {
        let tracer = OtterTracer(processor: MultiSpanProcessor([]))
        tracer.withSpan("logged", context: .topLevel) { span in
            let metadata = Logger.MetadataProvider.otter.get()
            #expect(metadata["trace_id"] == .string(span.spanContext.traceID.hexString))
            #expect(metadata["span_id"] == .string(span.spanContext.spanID.hexString))
        }
        InstrumentationContext.$current.withValue(nil) {
            #expect(Logger.MetadataProvider.otter.get().isEmpty)
        }
    }

    @Test func logsGoWhereSpansGoUnlessOTELLogsExporterSaysOtherwise() throws {
        #expect(try OtterConfiguration.fromEnvironment(["EXPORTER": "jaeger"]).logExporters == [.none], "Jaeger stores no logs")
        #expect(try OtterConfiguration.fromEnvironment(["EXPORTER": "otlp"]).logExporters == [.otlp])
        #expect(try OtterConfiguration.fromEnvironment(["OTEL_TRACES_EXPORTER": "console,otlp"]).logExporters == [.console, .otlp])
        let separate = try OtterConfiguration.fromEnvironment(["EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none"])
        #expect(separate.exporters == [.otlp])
        #expect(separate.logExporters == [.none])
        #expect(throws: ConfigurationError.self) { try OtterConfiguration.fromEnvironment(["OTEL_LOGS_EXPORTER": "syslog"]) }
    }

    @Test func logBatchSettingsAndLimitsComeFromTheirOwnVariables() throws {
        let defaults = try OtterConfiguration.fromEnvironment([:])
        #expect(defaults.logBatchProcessor.scheduleDelay == .seconds(1))
        #expect(defaults.batchProcessor.scheduleDelay == .seconds(5))
        #expect(defaults.logRecordAttributeCountLimit == 128)
        #expect(defaults.logRecordAttributeValueLengthLimit == nil)
        let configured = try OtterConfiguration.fromEnvironment([
            "OTEL_BLRP_SCHEDULE_DELAY": "250", "OTEL_BLRP_MAX_QUEUE_SIZE": "100", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "500",
            "OTEL_BLRP_EXPORT_TIMEOUT": "2000", "OTEL_ATTRIBUTE_COUNT_LIMIT": "64",
            "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT": "10",
        ])
        #expect(configured.logBatchProcessor.scheduleDelay == .milliseconds(250))
        #expect(configured.logBatchProcessor.maximumQueueSize == 100)
        #expect(configured.logBatchProcessor.maximumExportBatchSize == 100)
        #expect(configured.logBatchProcessor.exportTimeout == .seconds(2))
        #expect(configured.warnings.contains { $0.contains("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") })
        #expect(configured.batchProcessor.maximumQueueSize == 2048)
        #expect(configured.logRecordAttributeCountLimit == 64)
        #expect(configured.logRecordAttributeValueLengthLimit == 10)
    }
}
