import Dispatch
import Logging
import Otter
import ServiceLifecycle
import Synchronization
import Testing
import Tracing

/// The span pipeline through its public API, written the way applications write it: `await tracer.forceFlush()`,
/// throwing, slow and blocking exporters, unsampled parents and children, `await f(&span.attributes)`, attribute
/// conversions that come back to the span, many tasks writing one span, a `ServiceGroup` that cancels.
@Suite("Pipeline soundness")
struct PipelineSoundnessTests {
    /// Records exports, how many run at once, and whether `shutdown` ever ran under one.
    final class ObservingExporter: SpanExporter {
        struct State {
            var exported: [FinishedSpan] = []
            var inFlight = 0
            var mostInFlight = 0
            var shutdownCalls = 0
            var shutdownUnderAnExport = false
            var exportsAfterShutdown = 0
        }
        let state = Mutex(State())
        /// How long one export takes, ignoring cancellation (as a blocking client does); zero: returns at once.
        let exportDuration: Duration
        let failing: Bool

        init(exportDuration: Duration = .zero, failing: Bool = false) {
            self.exportDuration = exportDuration
            self.failing = failing
        }

        func export(_ batch: [FinishedSpan]) async throws {
            state.withLock { state in
                state.inFlight += 1
                state.mostInFlight = max(state.mostInFlight, state.inFlight)
                if state.shutdownCalls > 0 { state.exportsAfterShutdown += 1 }
            }
            defer { state.withLock { $0.inFlight -= 1 } }
            if exportDuration > .zero {
                // Not cancellable: a blocking client finishes its call whatever the task's cancellation says.
                let nanoseconds = Int(exportDuration.components.attoseconds / 1_000_000_000)
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { continuation.resume() }
                }
            }
            if failing { throw ExportRefused() }
            state.withLock { $0.exported.append(contentsOf: batch) }
        }

        func shutdown() async {
            state.withLock { state in
                state.shutdownCalls += 1
                if state.inFlight > 0 { state.shutdownUnderAnExport = true }
            }
        }

        var exported: [FinishedSpan] { state.withLock { $0.exported } }
    }

    struct ExportRefused: Error {}

    static func tracer(
        _ exporter: any SpanExporter, sampler: any Sampler = ParentBasedSampler(root: AlwaysOnSampler()),
        configuration: BatchSpanProcessor.Configuration = .init(scheduleDelay: .seconds(3600)), limits: SpanLimits = SpanLimits()
    ) -> OtterTracer {
        OtterTracer(
            resource: Resource(attributes: ["service.name": "soundness"]), sampler: sampler,
            processor: BatchSpanProcessor(exporter: exporter, configuration: configuration), limits: limits)
    }

    @Test func awaitForceFlushWaitsForTheExport() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter)
        for round in 1...50 {
            tracer.withSpan("round \(round)") { _ in }
            // Written as users write it: this must pick the waiting flush, not the protocol's fire-and-forget one.
            let flushed = await tracer.forceFlush()
            #expect(flushed)
            #expect(exporter.exported.count == round, "round \(round)")
        }
        await tracer.shutdown()
    }

    @Test func forceFlushReportsFailedExports() async {
        let tracer = Self.tracer(ObservingExporter(failing: true))
        tracer.withSpan("lost") { _ in }
        #expect(await tracer.forceFlush() == false)
        tracer.withSpan("lost again") { _ in }
        #expect(await tracer.forceFlush(timeout: .seconds(30)) == false)

        let service = OtterService(tracer: Self.tracer(ObservingExporter(failing: true)))
        service.tracer.withSpan("lost too") { _ in }
        #expect(await service.forceFlush() == false)
        await service.shutdown()
    }

    @Test func aFlushAnswersForItsOwnSpans() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter)
        #expect(await tracer.forceFlush(), "nothing queued: nothing failed")
        tracer.withSpan("delivered") { _ in }
        #expect(await tracer.forceFlush())
        #expect(exporter.exported.map(\.operationName) == ["delivered"])
    }

    @Test func exportsNeverOverlapEvenPastTheirTimeout() async {
        // Each export takes 150 ms and ignores cancellation; the processor gives up on it after 20 ms.
        let exporter = ObservingExporter(exportDuration: .milliseconds(150))
        let tracer = Self.tracer(
            exporter, configuration: .init(scheduleDelay: .milliseconds(1), maximumExportBatchSize: 1, exportTimeout: .milliseconds(20)))
        let service = OtterService(tracer: tracer)
        let running = Task { try await service.run() }
        for index in 0..<6 { tracer.withSpan("span \(index)") { _ in } }
        // Every export times out, so the flush reports failure, but only after all of them ran, one at a time.
        #expect(await tracer.forceFlush(timeout: .seconds(60)) == false)
        running.cancel()
        try? await running.value
        let state = exporter.state.withLock { $0 }
        #expect(state.mostInFlight == 1)
        #expect(state.shutdownCalls == 1)
        #expect(state.shutdownUnderAnExport == false)
        #expect(state.exportsAfterShutdown == 0)
    }

    @Test func shutdownInACancelledServiceGroupDeliversEverySpanThenShutsTheExporterDown() async throws {
        struct FailingService: Service {
            let ready: @Sendable () async -> Void
            func run() async throws {
                await ready()
                throw ExportRefused()
            }
        }
        let exporter = ObservingExporter(exportDuration: .milliseconds(30))
        let tracer = Self.tracer(exporter, configuration: .init(scheduleDelay: .seconds(3600), maximumExportBatchSize: 10))
        var logger = Logger(label: "soundness")
        logger.logLevel = .critical
        let otter = OtterService(tracer: tracer, shutdownTimeout: .seconds(60), logger: logger)
        // The spans that explain the failure end just before another service fails and the group cancels.
        let failing = FailingService { for index in 0..<95 { tracer.withSpan("before the failure \(index)") { _ in } } }
        let group = ServiceGroup(services: [otter, failing], logger: logger)
        await #expect(throws: ExportRefused.self) { try await group.run() }
        let state = exporter.state.withLock { $0 }
        #expect(state.exported.count == 95)
        #expect(state.shutdownCalls == 1)
        #expect(state.shutdownUnderAnExport == false)
        #expect(state.mostInFlight == 1)
    }

    @Test func noScheduleDelayExportsEachSpanWithoutAFlush() async throws {
        let exported = AsyncStream<Int>.makeStream()
        final class SignallingExporter: SpanExporter {
            let continuation: AsyncStream<Int>.Continuation
            init(_ continuation: AsyncStream<Int>.Continuation) { self.continuation = continuation }
            func export(_ batch: [FinishedSpan]) async throws { continuation.yield(batch.count) }
        }
        let tracer = Self.tracer(SignallingExporter(exported.continuation), configuration: .init(scheduleDelay: .zero))
        let service = OtterService(tracer: tracer)
        let running = Task { try await service.run() }
        tracer.withSpan("alone") { _ in }
        var iterator = exported.stream.makeAsyncIterator()
        #expect(await iterator.next() == 1, "exported with no flush and no full batch")
        running.cancel()
        try? await running.value
    }

    @Test func noExportTimeoutLetsASlowExportFinish() async {
        let exporter = ObservingExporter(exportDuration: .milliseconds(50))
        let tracer = Self.tracer(exporter, configuration: .init(scheduleDelay: .seconds(3600), exportTimeout: .zero))
        tracer.withSpan("slow but delivered") { _ in }
        #expect(await tracer.forceFlush())
        #expect(exporter.exported.count == 1)
    }

    /// The W3C `traceparent` a span would send downstream.
    static func traceparent(_ tracer: OtterTracer, _ context: InstrumentationContext) -> String? {
        var headers: [String: String] = [:]
        tracer.inject(context, into: &headers, using: DictionaryInjector())
        return headers["traceparent"]
    }

    struct DictionaryInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    @Test func unsampledSpansGetSpanIDsOfTheirOwn() async {
        let tracer = Self.tracer(ObservingExporter(), sampler: ParentBasedSampler(root: AlwaysOffSampler()))
        let (parent, child, grandchild) = tracer.withSpan("parent") { parent in
            tracer.withSpan("child") { child in
                tracer.withSpan("grandchild") { grandchild in
                    (
                        Self.traceparent(tracer, parent.context), Self.traceparent(tracer, child.context),
                        Self.traceparent(tracer, grandchild.context)
                    )
                }
            }
        }
        let ids = [parent, child, grandchild].map { $0.map { $0.split(separator: "-").map(String.init) } }
        #expect(Set(ids.compactMap { $0?[2] }).count == 3, "three spans, three span ids: \(ids)")
        #expect(Set(ids.compactMap { $0?[1] }).count == 1, "one trace")
        #expect(ids.allSatisfy { $0?[3] == "02" }, "not sampled, random trace id: \(ids)")
    }

    @Test func rootSpansSayTheirTraceIDIsRandom() async {
        let tracer = Self.tracer(ObservingExporter())
        let header = tracer.withSpan("root") { Self.traceparent(tracer, $0.context) }
        #expect(header?.hasSuffix("-03") == true, "sampled + random trace id: \(header ?? "none")")
        let child = tracer.withSpan("root") { _ in tracer.withSpan("child") { Self.traceparent(tracer, $0.context) } }
        #expect(child?.hasSuffix("-03") == true, "children keep the flag")
    }

    static func attributes(of exporter: ObservingExporter, _ name: String) -> SpanAttributes? {
        exporter.exported.first { $0.operationName == name }?.attributes
    }

    static func addAcrossASuspension(_ attributes: inout SpanAttributes, others: () async -> Void) async {
        attributes["before"] = "suspension"
        await others()
        attributes["after"] = "suspension"
    }

    @Test func attributesPassedInoutAcrossAnAwaitKeepEveryWrite() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter)
        let span = tracer.startSpan("inout across await", context: .topLevel)
        await Self.addAcrossASuspension(&span.attributes) {
            // Other tasks write the same span while the caller is suspended inside its inout access.
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<20 { group.addTask { span.attributes["task.\(index)"] = index } }
            }
        }
        span.end()
        #expect(await tracer.forceFlush())
        let attributes = Self.attributes(of: exporter, "inout across await")
        #expect(attributes?.count == 22)
        #expect(attributes?["before"]?.toSpanAttribute() == "suspension")
        #expect(attributes?["task.19"]?.toSpanAttribute() == 19)
    }

    @Test func aThousandTasksWritingOneSpanLoseNothing() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter, limits: SpanLimits(attributeCountLimit: 5000))
        let span = tracer.startSpan("shared", context: .topLevel)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<1000 {
                group.addTask {
                    span.attributes["key.\(index)"] = index
                    if index.isMultiple(of: 10) { span.attributes["key.\(index)"] = nil }
                    span.updateAttributes { $0["batch.\(index % 7)"] = "last writer wins" }
                }
            }
        }
        span.end()
        #expect(await tracer.forceFlush())
        let attributes = Self.attributes(of: exporter, "shared")
        #expect(attributes?.count == 900 + 7, "every write kept, every removal applied")
        #expect(attributes?["key.10"] == nil)
        #expect(attributes?["key.11"]?.toSpanAttribute() == 11)
    }

    /// A value whose conversion reads and ends the span it is written to.
    struct SpanReadingValue: SpanAttributeConvertible, CustomStringConvertible, Sendable {
        let span: any Span
        func toSpanAttribute() -> SpanAttribute {
            .int64(Int64(span.attributes.count))
        }
        var description: String {
            span.end()
            return "described while \(span.attributes.count) attributes were set"
        }
    }

    @Test func conversionsThatComeBackToTheSpanNeitherDeadlockNorCorrupt() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter, limits: SpanLimits(attributeValueLengthLimit: 12))
        tracer.withSpan("re-entrant") { span in
            span.attributes["first"] = "one"
            span.attributes["count"] = SpanReadingValue(span: span)
            // `description` runs when the value-length limit applies (at the end), and ends the span again.
            span.attributes["described"] = SpanAttribute.stringConvertible(SpanReadingValue(span: span))
        }
        #expect(await tracer.forceFlush())
        let attributes = Self.attributes(of: exporter, "re-entrant")
        #expect(attributes?["first"]?.toSpanAttribute() == "one")
        #expect(attributes?["count"]?.toSpanAttribute() == .int64(1))
        #expect(attributes?["described"]?.toSpanAttribute() == "described wh", "truncated to 12 characters")
    }

    @Test func overTheCountLimitTheNewAttributeIsDropped() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter, limits: SpanLimits(attributeCountLimit: 2))
        tracer.withSpan("limited") { span in
            span.attributes["z.first"] = 1
            span.attributes["y.second"] = 2
            span.attributes["a.third"] = 3
            span.attributes["z.first"] = 10
        }
        #expect(await tracer.forceFlush())
        let span = exporter.exported.first
        #expect(span?.attributes.count == 2)
        #expect(span?.attributes["z.first"]?.toSpanAttribute() == 10, "an existing attribute still changes")
        #expect(span?.attributes["y.second"]?.toSpanAttribute() == 2)
        #expect(span?.attributes["a.third"] == nil, "the one that did not fit is dropped, whatever its name")
        #expect(span?.droppedAttributesCount == 1)
    }

    @Test func writesAfterTheEndAreDropped() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter)
        let span = tracer.startSpan("ended", context: .topLevel)
        span.attributes["kept"] = true
        span.end()
        span.attributes["late"] = true
        span.updateAttributes { $0["later"] = true }
        #expect(span.attributes.count == 1)
        #expect(await tracer.forceFlush())
        #expect(exporter.exported.first?.attributes.count == 1)
    }

    /// An exporter whose exports never return until the test lets them (`GatedExporter`'s gate: it ignores
    /// cancellation, as a stuck client does), and whose own flush is counted and can fail.
    final class StuckExporter: SpanExporter {
        let gated = GatedExporter()
        let flushes = Mutex(0)
        let failsFlush: Bool
        init(failsFlush: Bool = false) { self.failsFlush = failsFlush }

        func export(_ batch: [FinishedSpan]) async throws { try await gated.export(batch) }

        func forceFlush() async throws {
            flushes.withLock { $0 += 1 }
            if failsFlush { throw ExportRefused() }
        }

        func open() { gated.open() }
    }

    @Test(.timeLimit(.minutes(1)))
    func aStuckExporterDoesNotHoldUpAServiceGroup() async throws {
        struct FailingService: Service {
            func run() async throws { throw ExportRefused() }
        }
        let exporter = StuckExporter()
        let tracer = Self.tracer(exporter, configuration: .init(scheduleDelay: .milliseconds(1), exportTimeout: .seconds(3600)))
        var logger = Logger(label: "soundness")
        logger.logLevel = .critical
        tracer.withSpan("stuck in export") { _ in }
        let otter = OtterService(tracer: tracer, shutdownTimeout: .milliseconds(100), logger: logger)
        let group = ServiceGroup(services: [otter, FailingService()], logger: logger)
        // The group ends (with the other service's error) although the export in flight never returns.
        await #expect(throws: ExportRefused.self) { try await group.run() }
        #expect(await tracer.forceFlush(timeout: .milliseconds(10)) == false)
        exporter.open()
    }

    @Test func forceFlushWaitsForTheExportersFlushAndReportsItsFailure() async {
        let flushing = StuckExporter()
        flushing.open()
        let tracer = Self.tracer(flushing)
        tracer.withSpan("flushed") { _ in }
        #expect(await tracer.forceFlush())
        #expect(flushing.flushes.withLock { $0 } == 1, "the exporter's own flush ran before forceFlush returned")

        let failing = StuckExporter(failsFlush: true)
        failing.open()
        let failingTracer = Self.tracer(failing)
        failingTracer.withSpan("exported, but the exporter's flush fails") { _ in }
        #expect(await failingTracer.forceFlush() == false)
    }

    @Test func anExportTimeoutOfZeroStillLeavesShutdownTime() async throws {
        let exporter = ObservingExporter(exportDuration: .milliseconds(50))
        let service = try Otter.makeService(
            .init(serviceName: "soundness", exporter: exporter, environment: ["OTEL_BSP_EXPORT_TIMEOUT": "0"]))
        #expect(service.shutdownTimeout == .seconds(30))
        service.tracer.withSpan("slow but delivered") { _ in }
        #expect(await service.forceFlush())
        await service.shutdown()
        #expect(exporter.exported.count == 1)
        #expect(exporter.state.withLock { $0.shutdownCalls } == 1)
    }

    @Test func concurrentShutdownsBothWaitForTheDelivery() async {
        let exporter = ObservingExporter(exportDuration: .milliseconds(20))
        let tracer = Self.tracer(exporter, configuration: .init(scheduleDelay: .seconds(3600), maximumExportBatchSize: 1))
        for index in 0..<5 { tracer.withSpan("span \(index)") { _ in } }
        async let first: Int = {
            await tracer.shutdown(timeout: .seconds(60))
            return exporter.exported.count
        }()
        async let second: Int = {
            await tracer.shutdown(timeout: .seconds(60))
            return exporter.exported.count
        }()
        #expect(await [first, second] == [5, 5])
        #expect(exporter.state.withLock { $0.shutdownCalls } == 1)
    }

    @Test func exportersRunOutsideTheCallersSpan() async {
        final class ContextRecordingExporter: SpanExporter {
            let currentSpans = Mutex<[OtterSpanContext?]>([])
            func export(_ batch: [FinishedSpan]) async throws {
                let current = InstrumentationContext.current?.otterSpanContext
                currentSpans.withLock { $0.append(current) }
            }
        }
        let exporter = ContextRecordingExporter()
        let tracer = Self.tracer(exporter)
        tracer.withSpan("ended first") { _ in }
        await tracer.withSpan("flushing inside a span") { _ in
            #expect(await tracer.forceFlush())
        }
        #expect(exporter.currentSpans.withLock { $0 } == [nil], "an instrumented client in an exporter starts no child span")
    }

    @Test func aChangeMergedAfterAnotherCountsWhatTheLimitDrops() async {
        let exporter = ObservingExporter()
        let tracer = Self.tracer(exporter, limits: SpanLimits(attributeCountLimit: 2))
        let span = tracer.startSpan("merged", context: .topLevel)
        span.attributes["a"] = 1
        await Self.addTwoAcrossASuspension(&span.attributes) {
            span.attributes["x"] = "committed in between"
        }
        span.end()
        #expect(await tracer.forceFlush())
        let finished = exporter.exported.first
        #expect(finished?.attributes.count == 2)
        #expect(finished?.attributes["x"] != nil)
        #expect(finished?.droppedAttributesCount == 2, "b and c did not fit")
    }

    static func addTwoAcrossASuspension(_ attributes: inout SpanAttributes, others: () async -> Void) async {
        attributes["b"] = 2
        attributes["c"] = 3
        await others()
    }

    @Test(.timeLimit(.minutes(1)))
    func anExporterFlushThatNeverEndsIsCancelledAtTheExportTimeout() async {
        final class SlowFlushExporter: SpanExporter {
            let exported = Mutex(0)
            func export(_ batch: [FinishedSpan]) async throws { exported.withLock { $0 += batch.count } }
            func forceFlush() async throws { try await Task.sleep(for: .seconds(3600)) }
        }
        let exporter = SlowFlushExporter()
        let tracer = Self.tracer(exporter, configuration: .init(scheduleDelay: .seconds(3600), exportTimeout: .milliseconds(50)))
        tracer.withSpan("before the stuck flush") { _ in }
        #expect(await tracer.forceFlush() == false, "the exporter's flush timed out")
        tracer.withSpan("after it") { _ in }
        #expect(await tracer.forceFlush() == false)
        #expect(exporter.exported.withLock { $0 } == 2, "the lane went on after the flush was cancelled")
        await tracer.shutdown()
    }
}
