import Instrumentation
import Tracing

/// Otter's `Tracer`: makes spans, samples them, hands ended spans to its processor, and propagates context
/// with its propagator. Libraries instrumented with swift-distributed-tracing report through it once it is
/// bootstrapped (``Otter/bootstrap(serviceName:exporter:sampler:propagator:resourceAttributes:environment:defaultExporters:exporterFactory:logger:)``).
public final class OtterTracer: Tracer {
    public typealias Span = OtterSpan

    public let resource: Resource
    public let instrumentationScope: InstrumentationScope
    public let sampler: any Sampler
    public let processor: any SpanProcessor
    /// `processor` when it is a ``BatchSpanProcessor``: ending a span then queues the span itself.
    let batchProcessor: BatchSpanProcessor?
    /// `sampler` when its decisions need only the parent and the trace id.
    let parentAndTraceIDSampler: (any ParentAndTraceIDSampler)?
    public let propagator: any TextMapPropagator
    public let idGenerator: any IDGenerator
    public let limits: SpanLimits

    public init(
        resource: Resource = .detectingProcess(),
        instrumentationScope: InstrumentationScope = .otter,
        sampler: any Sampler = ParentBasedSampler(root: AlwaysOnSampler()),
        processor: any SpanProcessor,
        propagator: any TextMapPropagator = CompositePropagator([W3CTraceContextPropagator(), W3CBaggagePropagator()]),
        idGenerator: any IDGenerator = RandomIDGenerator(),
        limits: SpanLimits = SpanLimits()
    ) {
        self.resource = resource
        self.instrumentationScope = instrumentationScope
        self.sampler = sampler
        self.processor = processor
        batchProcessor = processor as? BatchSpanProcessor
        parentAndTraceIDSampler = sampler as? any ParentAndTraceIDSampler
        self.propagator = propagator
        self.idGenerator = idGenerator
        self.limits = limits
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> OtterSpan {
        makeSpan(
            operationName, context: context(), kind: kind, links: [], attributes: [:],
            startTimeNanosecondsSinceEpoch: instant().nanosecondsSinceEpoch)
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
        return makeSpan(
            operationName, context: context, kind: kind, links: linkData, attributes: attributes,
            startTimeNanosecondsSinceEpoch: instant.nanosecondsSinceEpoch)
    }

    @inline(__always)
    private func makeSpan(
        _ operationName: String,
        context parentContext: InstrumentationContext,
        kind: SpanKind,
        links: [FinishedSpan.Link],
        attributes: SpanAttributes,
        startTimeNanosecondsSinceEpoch: UInt64
    ) -> OtterSpan {
        let parentEntry = parentContext.contextSpan
        let parent: OtterSpanContext? = parentEntry.flatMap { $0.spanContext.isValid ? $0.spanContext : nil }
        let traceID = parent?.traceID ?? idGenerator.newTraceID()
        let result: SamplingResult
        if let fast = parentAndTraceIDSampler?.result(parent: parent, traceID: traceID) {
            result = fast
        } else {
            result = sampler.shouldSample(
                SamplingParameters(
                    context: parentContext, parentSpanContext: parent, traceID: traceID,
                    operationName: operationName, kind: kind, attributes: attributes, links: links))
        }

        var flags = parent?.traceFlags ?? []
        if result.decision == .recordAndSample { flags.insert(.sampled) } else { flags.remove(.sampled) }
        let spanContext = OtterSpanContext(
            traceID: traceID,
            spanID: idGenerator.newSpanID(),
            traceFlags: flags,
            traceState: result.traceState ?? parent?.traceState ?? TraceState(),
            isRemote: false)

        var childContext = parentContext
        guard result.decision != .drop else {
            childContext.contextSpan = ContextSpan(spanContext: spanContext)
            return OtterSpan(context: childContext, spanContext: spanContext, storage: nil)
        }

        var spanAttributes = attributes
        if !result.attributes.isEmpty { spanAttributes.merge(result.attributes) }
        let localParent = parentEntry as? RecordingSpanStorage
        let storage = RecordingSpanStorage(
            spanContext: spanContext,
            operationName: operationName,
            kind: kind,
            parentSpanContext: parent,
            localParentOperationName: localParent?.state.withLock { $0.operationName },
            startTimeNanosecondsSinceEpoch: startTimeNanosecondsSinceEpoch,
            attributes: spanAttributes,
            links: links,
            tracer: self)
        childContext.contextSpan = storage
        let span = OtterSpan(context: childContext, spanContext: spanContext, storage: storage)
        processor.onStart(span, parentContext: parentContext)
        return span
    }

    /// The recording span that is current in `context`, if this tracer made it and it has not been dropped.
    public func activeSpan(identifiedBy context: InstrumentationContext) -> OtterSpan? {
        guard let storage = context.contextSpan as? RecordingSpanStorage else { return nil }
        return OtterSpan(context: context, spanContext: storage.spanContext, storage: storage)
    }

    /// Waits until every span that ended before the call has been exported, or `timeout` passes.
    /// Returns whether everything was exported in time.
    @discardableResult
    public func forceFlush(timeout: Duration = .seconds(30)) async -> Bool {
        await processor.forceFlush(timeout: timeout)
    }

    /// Flushes, then shuts the pipeline down; spans that end afterwards are dropped.
    public func shutdown(timeout: Duration = .seconds(30)) async {
        await processor.shutdown(timeout: timeout)
    }

    /// swift-distributed-tracing's synchronous flush cannot wait; it starts a flush and returns.
    /// Call ``forceFlush(timeout:)`` to wait for it.
    public func forceFlush() {
        let processor = self.processor
        Task { await processor.forceFlush(timeout: .seconds(30)) }
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        propagator.inject(context, into: &carrier, using: injector)
    }

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        propagator.extract(carrier, into: &context, using: extractor)
    }
}
