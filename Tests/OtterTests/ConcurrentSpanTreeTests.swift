import Testing
import Tracing

@testable import Otter

@Suite("Concurrency")
struct ConcurrentSpanTreeTests {
    @Test func thousandTasksBuildThreeLevelTreesWithoutCrossTalk() async throws {
        let exporter = InMemorySpanExporter()
        let processor = BatchSpanProcessor(
            exporter: exporter,
            configuration: .init(maximumQueueSize: 20_000, scheduleDelay: .milliseconds(5), maximumExportBatchSize: 512))
        let tracer = OtterTracer(processor: processor)
        let worker = Task { await processor.run() }

        await withTaskGroup(of: Void.self) { group in
            for task in 0..<1000 {
                group.addTask {
                    await tracer.withSpan("root-\(task)", context: .topLevel) { root in
                        root.attributes["task"] = task
                        for child in 0..<2 {
                            await tracer.withSpan("child-\(task)-\(child)") { _ in
                                await Task.yield()
                                tracer.withSpan("grandchild-\(task)-\(child)") { span in
                                    span.attributes["task"] = task
                                }
                            }
                        }
                    }
                }
            }
        }
        await tracer.shutdown(timeout: .seconds(60))
        await worker.value

        let spans = exporter.exportedSpans
        #expect(spans.count == 5000, "1000 trees of 5 spans")
        #expect(processor.droppedSpanCount == 0)
        let byID = Dictionary(grouping: spans, by: \.spanContext.spanID)
        #expect(byID.values.allSatisfy { $0.count == 1 }, "every span exported exactly once")
        let byName = Dictionary(uniqueKeysWithValues: spans.map { ($0.operationName, $0) })
        for task in 0..<1000 {
            let root = try #require(byName["root-\(task)"])
            #expect(root.parentSpanContext == nil)
            for child in 0..<2 {
                let middle = try #require(byName["child-\(task)-\(child)"])
                let leaf = try #require(byName["grandchild-\(task)-\(child)"])
                #expect(middle.parentSpanContext?.spanID == root.spanContext.spanID)
                #expect(leaf.parentSpanContext?.spanID == middle.spanContext.spanID)
                #expect(middle.spanContext.traceID == root.spanContext.traceID)
                #expect(leaf.spanContext.traceID == root.spanContext.traceID)
                #expect(leaf.attributes.get("task") == .int64(Int64(task)))
            }
        }
        #expect(Set(spans.map(\.spanContext.traceID)).count == 1000, "one trace per task")
    }
}
