import Instrumentation
import Tracing

/// Otter's `Tracer`: makes spans, samples them, hands ended spans to its processor, and propagates context
/// with its propagator. Libraries instrumented with swift-distributed-tracing report through it once it is
/// bootstrapped (``Otter/bootstrap(_:bootstrapsLogging:alsoLogTo:)``).
///
/// A value holding one reference: copies share one pipeline. (A struct, not a class, because
/// swift-distributed-tracing looks the global tracer up with a protocol cast on every span, and that cast walks
/// a class's superclasses each time.)
public struct OtterTracer: Tracer {
    /// The spans this tracer makes.
    public typealias Span = OtterSpan

    /// What every copy of the tracer, and every span it makes, shares.
    final class Pipeline: Sendable {
        let resource: Resource
        let instrumentationScope: InstrumentationScope
        let sampler: any Sampler
        /// `sampler` when its decisions need only the parent and the trace id (found once, here).
        let parentAndTraceIDSampler: (any ParentAndTraceIDSampler)?
        let processor: any SpanProcessor
        let propagator: any TextMapPropagator
        let idGenerator: any IDGenerator
        let limits: SpanLimits
        /// The flags a root span starts with: random trace ids when the id generator makes them.
        let rootTraceFlags: TraceFlags

        init(
            resource: Resource, instrumentationScope: InstrumentationScope, sampler: any Sampler,
            processor: any SpanProcessor, propagator: any TextMapPropagator, idGenerator: any IDGenerator,
            limits: SpanLimits
        ) {
            self.resource = resource
            self.instrumentationScope = instrumentationScope
            self.sampler = sampler
            parentAndTraceIDSampler = sampler as? any ParentAndTraceIDSampler
            self.processor = processor
            self.propagator = propagator
            self.idGenerator = idGenerator
            self.limits = limits
            rootTraceFlags = idGenerator.makesRandomTraceIDs ? .randomTraceID : []
        }
    }

    let pipeline: Pipeline

    /// The resource every span of this tracer reports (service name, host, process and the like).
    public var resource: Resource { pipeline.resource }
    /// The instrumentation scope every span of this tracer reports.
    public var instrumentationScope: InstrumentationScope { pipeline.instrumentationScope }
    /// Decides, once per new span, whether it is recorded and sampled.
    public var sampler: any Sampler { pipeline.sampler }
    /// Receives every recorded span when it starts and when it ends, and passes ended spans on to the exporters.
    public var processor: any SpanProcessor { pipeline.processor }
    /// Writes and reads context to and from carriers in ``inject(_:into:using:)`` and ``extract(_:into:using:)``.
    public var propagator: any TextMapPropagator { pipeline.propagator }
    /// Makes the trace ids of root spans and the span id of every span.
    public var idGenerator: any IDGenerator { pipeline.idGenerator }
    /// The caps on each span's attributes, events and links.
    public var limits: SpanLimits { pipeline.limits }

    /// Makes a tracer around `processor`. By default it detects the process's resource, reports the `otter` scope,
    /// samples every root span and follows the parent's decision otherwise, propagates W3C Trace Context and Baggage,
    /// and makes random ids. Nothing is global: pass the tracer to `InstrumentationSystem.bootstrap` to use it there.
    public init(
        resource: Resource = .detectingProcess(),
        instrumentationScope: InstrumentationScope = .otter,
        sampler: any Sampler = ParentBasedSampler(root: AlwaysOnSampler()),
        processor: any SpanProcessor,
        propagator: any TextMapPropagator = CompositePropagator([W3CTraceContextPropagator(), W3CBaggagePropagator()]),
        idGenerator: any IDGenerator = RandomIDGenerator(),
        limits: SpanLimits = SpanLimits()
    ) {
        pipeline = Pipeline(
            resource: resource, instrumentationScope: instrumentationScope, sampler: sampler, processor: processor,
            propagator: propagator, idGenerator: idGenerator, limits: limits)
    }

    /// Starts a span as a child of the current span in `context` (a root when there is none) at `instant`, and asks
    /// the sampler about it. A dropped span comes back as an ``OtterSpan`` that records nothing but carries a valid
    /// context, so its children stay in the trace. `function`, `file` and `line` are not recorded.
    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> OtterSpan {
        let started = makeSpan(
            operationName, context: context(), kind: kind, links: [], attributes: [:],
            startTimeNanosecondsSinceEpoch: instant().nanosecondsSinceEpoch)
        return OtterSpan(context: started.context, storage: started.storage)
    }

    /// The entry point of the global API (`withSpan`, `startSpan` on `InstrumentationSystem.tracer`): a span that
    /// is not recorded comes back as a bare context, which `any Span` holds and uses at no cost.
    public func startAnySpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> any Tracing.Span {
        let started = makeSpan(
            operationName, context: context(), kind: kind, links: [], attributes: [:],
            startTimeNanosecondsSinceEpoch: instant().nanosecondsSinceEpoch)
        guard let storage = started.storage else { return NonRecordingSpan(context: started.context) }
        return OtterSpan(context: started.context, storage: storage)
    }

    /// Starts a span with links and attributes known up front, so the sampler sees them.
    public func startSpan(
        _ operationName: String,
        context: InstrumentationContext = .current ?? .topLevel,
        ofKind kind: SpanKind = .internal,
        links: [SpanLink] = [],
        attributes: SpanAttributes = [:],
        at instant: some TracerInstant = DefaultTracerClock.now
    ) -> OtterSpan {
        let linkData = links.compactMap { link -> FinishedSpan.Link? in
            guard let linked = link.context.otterSpanContext, linked.isValid else { return nil }
            return FinishedSpan.Link(spanContext: linked, attributes: link.attributes)
        }
        let started = makeSpan(
            operationName, context: context, kind: kind, links: linkData, attributes: attributes,
            startTimeNanosecondsSinceEpoch: instant.nanosecondsSinceEpoch)
        return OtterSpan(context: started.context, storage: started.storage)
    }

    @inline(__always)
    private func makeSpan(
        _ operationName: String,
        context parentContext: InstrumentationContext,
        kind: SpanKind,
        links: [FinishedSpan.Link],
        attributes: SpanAttributes,
        startTimeNanosecondsSinceEpoch: UInt64
    ) -> (context: InstrumentationContext, storage: RecordingSpanStorage?) {
        let parentEntry = parentContext.currentSpan
        let parent: OtterSpanContext? = parentEntry.flatMap { $0.spanContext.isValid ? $0.spanContext : nil }
        let pipeline = self.pipeline
        let traceID = parent?.traceID ?? pipeline.idGenerator.newTraceID()
        let result: SamplingResult
        if let fast = pipeline.parentAndTraceIDSampler?.result(parent: parent, traceID: traceID) {
            result = fast
        } else {
            result = pipeline.sampler.shouldSample(
                SamplingParameters(
                    context: parentContext, parentSpanContext: parent, traceID: traceID,
                    operationName: operationName, kind: kind, attributes: attributes, links: links))
        }

        // Every span gets a span id of its own, sampled or not (the specification); a root's flags say whether its
        // trace id is random (W3C Trace Context level 2), a child keeps its parent's.
        var flags = parent?.traceFlags ?? pipeline.rootTraceFlags
        if result.decision == .recordAndSample { flags.insert(.sampled) } else { flags.remove(.sampled) }
        let spanContext = OtterSpanContext(
            traceID: traceID,
            spanID: pipeline.idGenerator.newSpanID(),
            traceFlags: flags,
            traceState: result.traceState ?? parent?.traceState ?? TraceState(),
            isRemote: false)

        var childContext = parentContext
        guard result.decision != .drop else {
            childContext.currentSpan = .context(SpanContextBox(spanContext))
            return (childContext, nil)
        }

        var spanAttributes = attributes
        if !result.attributes.isEmpty { spanAttributes.merge(result.attributes) }
        let localParentOperationName: String?
        if case .recording(let localParent) = parentEntry {
            localParentOperationName = localParent.state.withLock { $0.operationName }
        } else {
            localParentOperationName = nil
        }
        let storage = RecordingSpanStorage(
            spanContext: spanContext,
            operationName: operationName,
            kind: kind,
            parentSpanContext: parent,
            localParentOperationName: localParentOperationName,
            startTimeNanosecondsSinceEpoch: startTimeNanosecondsSinceEpoch,
            attributes: spanAttributes,
            links: links,
            pipeline: pipeline)
        childContext.currentSpan = .recording(storage)
        pipeline.processor.onStart(OtterSpan(context: childContext, storage: storage), parentContext: parentContext)
        return (childContext, storage)
    }

    /// The recording span that is current in `context`, if this tracer made it and it has not been dropped.
    public func activeSpan(identifiedBy context: InstrumentationContext) -> OtterSpan? {
        guard case .recording(let storage) = context.currentSpan else { return nil }
        return OtterSpan(context: context, storage: storage)
    }

    /// Waits until every span that ended before the call has been exported, or 30 seconds pass, or the calling
    /// task is cancelled. Returns whether all of them were delivered: false when an export failed or timed out.
    ///
    /// `await tracer.forceFlush()` picks this one; swift-distributed-tracing's synchronous ``forceFlush()`` is
    /// for code that cannot wait.
    @discardableResult
    public func forceFlush() async -> Bool {
        await processor.forceFlush(timeout: .seconds(30))
    }

    /// Waits until every span that ended before the call has been exported, or `timeout` passes, or the calling
    /// task is cancelled. Returns whether all of them were delivered: false when an export failed or timed out.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await processor.forceFlush(timeout: timeout)
    }

    /// Flushes, then shuts the pipeline down; spans that end afterwards are dropped. Waits at most `timeout`,
    /// even when the calling task is cancelled.
    public func shutdown(timeout: Duration = .seconds(30)) async {
        await processor.shutdown(timeout: timeout)
    }

    /// swift-distributed-tracing's synchronous flush, for code that cannot wait: it starts a flush and returns.
    /// From async code, `await tracer.forceFlush()` waits for it and reports the outcome.
    public func forceFlush() {
        let processor = self.processor
        Task { await processor.forceFlush(timeout: .seconds(30)) }
    }

    /// Writes the context's span context, baggage and whatever else ``propagator`` carries into `carrier`.
    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        propagator.inject(context, into: &carrier, using: injector)
    }

    /// Reads what ``propagator`` understands from `carrier` into `context`: a remote parent span context, baggage and the
    /// like. Keys that are missing or malformed are skipped.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        propagator.extract(carrier, into: &context, using: extractor)
    }
}
