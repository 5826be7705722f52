import Benchmark
import OTel
import Otter
import Tracing

/// Drops every batch: measures the SDK, not an exporter.
struct DiscardingExporter: SpanExporter {
    func export(_ batch: [FinishedSpan]) async throws {}
}

/// Otter with a BatchSpanProcessor whose export task is running, as in an application.
func makeRunningOtterTracer(sampler: any Sampler) -> (OtterTracer, Task<Void, Never>) {
    let processor = BatchSpanProcessor(
        exporter: DiscardingExporter(),
        configuration: .init(maximumQueueSize: 65_536, scheduleDelay: .milliseconds(1), maximumExportBatchSize: 512))
    let tracer = OtterTracer(sampler: sampler, processor: processor)
    let worker = Task { await processor.run() }
    return (tracer, worker)
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .cpuTotal, .throughput]
    let configuration = Benchmark.Configuration(
        metrics: metrics, scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 1_000_000)

    // MARK: Otter

    /// Measures `body` on a tracer whose BatchSpanProcessor export task runs, then shuts the pipeline down.
    func otterBenchmark(_ name: String, sampler: any Sampler, _ body: @escaping @Sendable (OtterTracer) -> Void) {
        Benchmark(name, configuration: configuration) { benchmark in
            let (tracer, worker) = makeRunningOtterTracer(sampler: sampler)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { body(tracer) }
            benchmark.stopMeasurement()
            await tracer.shutdown(timeout: .seconds(10))
            worker.cancel()
        }
    }

    otterBenchmark("withSpan/otter/always_on", sampler: AlwaysOnSampler()) { tracer in
        tracer.withSpan("span", context: .topLevel) { span in blackHole(span) }
    }
    otterBenchmark("withSpan/otter/always_on+4attributes", sampler: AlwaysOnSampler()) { tracer in
        tracer.withSpan("span", context: .topLevel) { span in
            span.attributes["http.request.method"] = "GET"
            span.attributes["http.response.status_code"] = 200
            span.attributes["url.path"] = "/"
            span.attributes["server.address"] = "127.0.0.1"
        }
    }
    otterBenchmark("withSpan/otter/always_on+event", sampler: AlwaysOnSampler()) { tracer in
        tracer.withSpan("span", context: .topLevel) { span in span.addEvent("event") }
    }
    otterBenchmark("withSpan/otter/always_on+child", sampler: AlwaysOnSampler()) { tracer in
        tracer.withSpan("parent", context: .topLevel) { parent in
            tracer.withSpan("child", context: parent.context) { child in blackHole(child) }
        }
    }
    otterBenchmark("withSpan/otter/always_off", sampler: AlwaysOffSampler()) { tracer in
        tracer.withSpan("span", context: .topLevel) { span in blackHole(span) }
    }

    // MARK: swift-otel 1.6.0 (baseline; its tracing service not running, as in its own benchmark)

    func swiftOTelBenchmark(_ name: String, sampler: OTel.Configuration.TracesConfiguration.SamplerConfiguration) {
        Benchmark(name, configuration: configuration) { benchmark in
            var config = OTel.Configuration.default
            config.traces.sampler = sampler
            let (backend, _) = try OTel.makeTracingBackend(configuration: config)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                backend.withSpan("span", context: .topLevel) { span in blackHole(span) }
            }
        }
    }
    swiftOTelBenchmark("withSpan/swift-otel/always_on", sampler: .alwaysOn)
    swiftOTelBenchmark("withSpan/swift-otel/always_off", sampler: .alwaysOff)

    // MARK: The floor

    Benchmark("withSpan/NoOpTracer", configuration: configuration) { benchmark in
        let tracer = NoOpTracer()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            tracer.withAnySpan("span", context: .topLevel) { span in blackHole(span) }
        }
    }

    // MARK: Propagation

    Benchmark("propagation/otter/inject+extract traceparent", configuration: configuration) { benchmark in
        let tracer = OtterTracer(processor: MultiSpanProcessor([]))
        let span = tracer.startSpan("span", context: .topLevel)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var headers: [String: String] = [:]
            tracer.inject(span.context, into: &headers, using: DictionaryInjector())
            var extracted = InstrumentationContext.topLevel
            tracer.extract(headers, into: &extracted, using: DictionaryExtractor())
            blackHole(extracted)
        }
    }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
