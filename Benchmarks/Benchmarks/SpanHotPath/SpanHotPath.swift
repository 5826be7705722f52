import Benchmark
import Logging
import OTel
import Otter
import ServiceLifecycle
import Tracing

// Spans as applications make them: through the global swift-distributed-tracing API (`withSpan`, which finds the
// tracer the way libraries do; `withTracer` binds it for the benchmark, as `InstrumentationSystem.bootstrap` would
// for a process), with two attributes, each SDK's service running with its default batch processor in front of a
// discarding exporter. NoOpTracer is the floor. scripts/callgrind.py counts instructions for the same shapes.

/// Drops every batch: measures the SDK, not an exporter.
struct DiscardingExporter: SpanExporter {
    func export(_ batch: [FinishedSpan]) async throws {}
}

/// A tracer and the service that runs its pipeline.
struct RunningSDK {
    let tracer: any Tracer
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static func start(_ tracer: any Tracer, service: (any Service)?) -> RunningSDK {
        var logger = Logger(label: "benchmark")
        logger.logLevel = .error
        let group = ServiceGroup(services: service.map { [$0] } ?? [], logger: logger)
        return RunningSDK(tracer: tracer, group: group, task: Task { try await group.run() })
    }

    static func otter(sampled: Bool) throws -> RunningSDK {
        var logger = Logger(label: "otter")
        logger.logLevel = .error
        // A queue that holds a whole measurement: the exporting task shares the cores with the loop that makes
        // spans, and a dropped span would cost less than an exported one.
        let service = try Otter.makeService(
            .init(
                serviceName: "benchmark", exporter: DiscardingExporter(), sampler: sampled ? AlwaysOnSampler() : AlwaysOffSampler(),
                environment: ["OTEL_BSP_MAX_QUEUE_SIZE": "\(1 << 20)"], logger: logger))
        return start(service.tracer, service: service)
    }

    static func swiftOTel(sampled: Bool) throws -> RunningSDK {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "benchmark"
        configuration.traces.exporter = .none
        configuration.traces.sampler = sampled ? .alwaysOn : .alwaysOff
        configuration.traces.batchSpanProcessor.maxQueueSize = 1 << 20
        configuration.diagnosticLogLevel = .error
        let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
        return start(tracer, service: service)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .cpuTotal, .throughput]
    let configuration = Benchmark.Configuration(
        metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 1_000_000)

    func globalAPI(
        _ name: String, _ makeSDK: @escaping @Sendable () throws -> RunningSDK, _ operation: @escaping @Sendable () -> Void
    ) {
        Benchmark(name, configuration: configuration) { benchmark in
            let sdk = try makeSDK()
            withTracer(sdk.tracer) {
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { operation() }
                benchmark.stopMeasurement()
            }
            try await sdk.stop()
        }
    }

    let twoAttributes: @Sendable () -> Void = {
        withSpan("op") { span in
            span.attributes["a"] = "x"
            span.attributes["b"] = 42
        }
    }
    let parentAndChild: @Sendable () -> Void = {
        withSpan("parent") { _ in
            withSpan("child") { span in blackHole(span) }
        }
    }
    for (sdk, make) in [
        ("otter", RunningSDK.otter), ("swift-otel", RunningSDK.swiftOTel),
        ("floor", { _ in RunningSDK.start(NoOpTracer(), service: nil) }),
    ] as [(String, @Sendable (Bool) throws -> RunningSDK)] {
        globalAPI("withSpan/\(sdk)/sampled+2attributes", { try make(true) }, twoAttributes)
        globalAPI("withSpan/\(sdk)/unsampled+2attributes", { try make(false) }, twoAttributes)
        globalAPI("withSpan/\(sdk)/sampled parent+child", { try make(true) }, parentAndChild)
    }

    // MARK: Propagation through the global instrument

    for (sdk, make) in [("otter", RunningSDK.otter), ("swift-otel", RunningSDK.swiftOTel)]
        as [(String, @Sendable (Bool) throws -> RunningSDK)]
    {
        Benchmark("propagation/\(sdk)/inject+extract traceparent", configuration: configuration) { benchmark in
            let sdk = try make(true)
            withTracer(sdk.tracer) {
                withSpan("current") { _ in
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations {
                        var headers: [String: String] = [:]
                        InstrumentationSystem.tracer.inject(
                            InstrumentationContext.current ?? .topLevel, into: &headers, using: DictionaryInjector())
                        var extracted = InstrumentationContext.topLevel
                        InstrumentationSystem.tracer.extract(headers, into: &extracted, using: DictionaryExtractor())
                        blackHole(extracted)
                    }
                    benchmark.stopMeasurement()
                }
            }
            try await sdk.stop()
        }
    }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
