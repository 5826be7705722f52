import Otter
import Synchronization
import Testing
import Tracing

// The code of the article "Write a sampler, processor or exporter" (Sources/Otter/Otter.docc), as written there.

struct CheckoutSampler: Sampler {
    let others = TraceIDRatioBasedSampler(ratio: 0.1)

    func shouldSample(_ parameters: SamplingParameters) -> SamplingResult {
        if parameters.operationName.hasPrefix("checkout") { return .recordAndSample }
        return others.shouldSample(parameters)
    }

    var description: String { "CheckoutSampler" }
}

final class ErrorCountingProcessor: SpanProcessor {
    let errorCount = Atomic<Int>(0)

    func onStart(_ span: OtterSpan, parentContext: InstrumentationContext) {
        span.attributes["app.processor"] = "error-counting"
    }

    func onEnd(_ span: ReadOnlySpan) {
        if span.status?.code == .error { errorCount.add(1, ordering: .relaxed) }
    }
}

actor JSONLinesExporter: SpanExporter {
    private(set) var lines: [String] = []

    func export(_ batch: [FinishedSpan]) async throws {
        for span in batch {
            lines.append(ConsoleSpanExporter.json(for: span))
        }
    }
}

@Suite("Documentation examples")
struct DocumentationExampleTests {
    @Test func theArticlesSamplerProcessorAndExporterWorkTogether() async throws {
        let exporter = JSONLinesExporter()
        let errors = ErrorCountingProcessor()
        let tracer = OtterTracer(
            sampler: ParentBasedSampler(root: CheckoutSampler()),
            processor: MultiSpanProcessor([errors, BatchSpanProcessor(exporter: exporter)]))
        let service = OtterService(tracer: tracer)
        // The article bootstraps the global system; a test uses the tracer directly (tests run in parallel).
        let worker = Task { try await service.run() }

        tracer.withSpan("checkout place order") { span in
            tracer.withSpan("charge card") { charge in charge.setStatus(SpanStatus(code: .error)) }
        }
        // A trace of another path: sampled one time in ten, by trace id.
        for index in 0..<200 { tracer.withSpan("health \(index)") { _ in } }
        await service.shutdown()
        worker.cancel()

        let lines = await exporter.lines
        #expect(lines.contains { $0.contains(#""name": "checkout place order""#) })
        #expect(lines.contains { $0.contains(#""name": "charge card""#) }, "the child follows its parent's decision")
        #expect(lines.allSatisfy { $0.contains(#""app.processor": "error-counting""#) }, "onStart marked every span")
        #expect(errors.errorCount.load(ordering: .relaxed) == 1)
        let health = lines.filter { $0.contains(#""name": "health "#) }.count
        #expect(health > 0 && health < 60, "about one in ten of 200: \(health)")
    }
}
