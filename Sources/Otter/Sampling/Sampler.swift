import Tracing

/// Decides whether a new span is recorded and exported. Implement it to plug in your own policy.
public protocol Sampler: Sendable, CustomStringConvertible {
    /// Called once per new span, on the caller's thread: keep it fast and never block.
    func shouldSample(_ parameters: SamplingParameters) -> SamplingResult
}

/// What a sampler knows about the span being started.
public struct SamplingParameters: Sendable {
    /// The context the span starts in (its parent, baggage and anything else it carries).
    public var context: InstrumentationContext
    /// The parent's span context, local or remote; nil for a root span.
    public var parentSpanContext: OtterSpanContext?
    /// The new span's trace id: the parent's, or a fresh one for a root.
    public var traceID: TraceID
    /// The name the span is started with.
    public var operationName: String
    /// The span's kind (internal, server, client, producer or consumer).
    public var kind: SpanKind
    /// The attributes passed when the span is started; empty when it is started through swift-distributed-tracing's
    /// `startSpan`, which sets attributes only afterwards.
    public var attributes: SpanAttributes
    /// The links passed when the span is started, without those whose span context is invalid.
    public var links: [FinishedSpan.Link]

    /// Collects what a sampler is asked about; the tracer makes these for you, so call it only to test a sampler.
    public init(
        context: InstrumentationContext,
        parentSpanContext: OtterSpanContext?,
        traceID: TraceID,
        operationName: String,
        kind: SpanKind,
        attributes: SpanAttributes = [:],
        links: [FinishedSpan.Link] = []
    ) {
        self.context = context
        self.parentSpanContext = parentSpanContext
        self.traceID = traceID
        self.operationName = operationName
        self.kind = kind
        self.attributes = attributes
        self.links = links
    }
}

/// A sampler's verdict.
public struct SamplingResult: Sendable {
    /// What happens to a new span.
    public enum Decision: Sendable, Hashable {
        /// Not recorded; the span only carries its context.
        case drop
        /// Recorded (processors see it) but not sampled (exporters do not).
        case recordOnly
        /// Recorded and sampled.
        case recordAndSample
    }

    /// Whether the span is recorded, and whether it is also sampled (exported).
    public var decision: Decision
    /// Attributes the sampler adds to the span.
    public var attributes: SpanAttributes
    /// The trace state the new span carries; nil keeps the parent's.
    public var traceState: TraceState?

    /// Makes a verdict; `attributes` are added to the span and `traceState`, when not nil, replaces the parent's.
    public init(decision: Decision, attributes: SpanAttributes = [:], traceState: TraceState? = nil) {
        self.decision = decision
        self.attributes = attributes
        self.traceState = traceState
    }

    /// Drops the span, adding nothing and keeping the parent's trace state.
    public static let drop = SamplingResult(decision: .drop)
    /// Records and samples the span, adding nothing and keeping the parent's trace state.
    public static let recordAndSample = SamplingResult(decision: .recordAndSample)
}

/// A sampler whose decision needs only the parent and the trace id: the tracer then skips building
/// ``SamplingParameters`` (a context copy and two collections per span). Nil means "ask with parameters".
/// The tracer (and ``ParentBasedSampler`` for its delegates) looks for this conformance once, when it is made.
protocol ParentAndTraceIDSampler: Sampler {
    func result(parent: OtterSpanContext?, traceID: TraceID) -> SamplingResult?
}

/// Samples every span (`always_on`).
public struct AlwaysOnSampler: Sampler, ParentAndTraceIDSampler {
    func result(parent: OtterSpanContext?, traceID: TraceID) -> SamplingResult? { .recordAndSample }
    /// Makes the sampler; it has no settings.
    public init() {}
    /// Returns ``SamplingResult/recordAndSample`` for every span.
    public func shouldSample(_ parameters: SamplingParameters) -> SamplingResult { .recordAndSample }
    /// The sampler's name, `AlwaysOnSampler`.
    public var description: String { "AlwaysOnSampler" }
}

/// Samples no span (`always_off`).
public struct AlwaysOffSampler: Sampler, ParentAndTraceIDSampler {
    func result(parent: OtterSpanContext?, traceID: TraceID) -> SamplingResult? { .drop }
    /// Makes the sampler; it has no settings.
    public init() {}
    /// Returns ``SamplingResult/drop`` for every span.
    public func shouldSample(_ parameters: SamplingParameters) -> SamplingResult { .drop }
    /// The sampler's name, `AlwaysOffSampler`.
    public var description: String { "AlwaysOffSampler" }
}

/// Samples a fixed share of traces, decided by the trace id alone so every service that uses the same ratio
/// agrees (`traceidratio`). Reads the trace id's last 8 bytes, as opentelemetry-go and -java do.
public struct TraceIDRatioBasedSampler: Sampler, ParentAndTraceIDSampler {
    func result(parent: OtterSpanContext?, traceID: TraceID) -> SamplingResult? { samples(traceID) ? .recordAndSample : .drop }

    /// The share of traces sampled, in 0...1.
    public let ratio: Double
    private let upperBound: UInt64

    /// Makes a sampler that samples about `ratio` of all traces: 0 samples none, 1 samples all.
    ///
    /// - Precondition: `ratio` is in 0...1.
    public init(ratio: Double) {
        precondition((0...1).contains(ratio), "TraceIDRatioBasedSampler ratio must be in 0...1, got \(ratio)")
        self.ratio = ratio
        if ratio >= 1 {
            upperBound = UInt64.max >> 1 &+ 1
        } else {
            upperBound = UInt64(ratio * Double(UInt64(1) << 63))
        }
    }

    /// True when a trace with this id falls inside the ratio.
    public func samples(_ traceID: TraceID) -> Bool {
        (traceID.low >> 1) < upperBound
    }

    /// Samples the span when its trace id falls inside ``ratio`` (see ``samples(_:)``), drops it otherwise; the parent is
    /// not looked at.
    public func shouldSample(_ parameters: SamplingParameters) -> SamplingResult {
        samples(parameters.traceID) ? .recordAndSample : .drop
    }

    /// `TraceIdRatioBased{ratio}`, the form the OpenTelemetry specification gives.
    public var description: String { "TraceIdRatioBased{\(ratio)}" }
}

/// Follows the parent's decision when there is a parent, and asks `root` otherwise (`parentbased_*`).
public struct ParentBasedSampler: Sampler, ParentAndTraceIDSampler {
    func result(parent: OtterSpanContext?, traceID: TraceID) -> SamplingResult? {
        guard let parent, parent.isValid else { return fastDelegates.root?.result(parent: nil, traceID: traceID) }
        let delegate: (any ParentAndTraceIDSampler)? =
            switch (parent.isRemote, parent.isSampled) {
            case (true, true): fastDelegates.remoteParentSampled
            case (true, false): fastDelegates.remoteParentNotSampled
            case (false, true): fastDelegates.localParentSampled
            case (false, false): fastDelegates.localParentNotSampled
            }
        return delegate?.result(parent: parent, traceID: traceID)
    }

    /// The sampler that decides for a span with this parent.
    private func delegate(for parent: OtterSpanContext?) -> any Sampler {
        guard let parent, parent.isValid else { return root }
        switch (parent.isRemote, parent.isSampled) {
        case (true, true): return remoteParentSampled
        case (true, false): return remoteParentNotSampled
        case (false, true): return localParentSampled
        case (false, false): return localParentNotSampled
        }
    }

    /// The delegates that decide from the parent and the trace id alone, found once here rather than per span.
    private struct FastDelegates: Sendable {
        var root: (any ParentAndTraceIDSampler)?
        var remoteParentSampled: (any ParentAndTraceIDSampler)?
        var remoteParentNotSampled: (any ParentAndTraceIDSampler)?
        var localParentSampled: (any ParentAndTraceIDSampler)?
        var localParentNotSampled: (any ParentAndTraceIDSampler)?
    }

    private let fastDelegates: FastDelegates

    /// Decides for a span without a valid parent.
    public let root: any Sampler
    /// Decides for a span whose parent is remote (extracted from a carrier) and sampled.
    public let remoteParentSampled: any Sampler
    /// Decides for a span whose parent is remote (extracted from a carrier) and not sampled.
    public let remoteParentNotSampled: any Sampler
    /// Decides for a span whose parent was started in this process and is sampled.
    public let localParentSampled: any Sampler
    /// Decides for a span whose parent was started in this process and is not sampled.
    public let localParentNotSampled: any Sampler

    /// Makes a sampler that asks `root` for root spans and, by default, samples a span exactly when its parent is
    /// sampled, whether the parent is remote or local.
    public init(
        root: any Sampler,
        remoteParentSampled: any Sampler = AlwaysOnSampler(),
        remoteParentNotSampled: any Sampler = AlwaysOffSampler(),
        localParentSampled: any Sampler = AlwaysOnSampler(),
        localParentNotSampled: any Sampler = AlwaysOffSampler()
    ) {
        self.root = root
        self.remoteParentSampled = remoteParentSampled
        self.remoteParentNotSampled = remoteParentNotSampled
        self.localParentSampled = localParentSampled
        self.localParentNotSampled = localParentNotSampled
        fastDelegates = FastDelegates(
            root: root as? any ParentAndTraceIDSampler,
            remoteParentSampled: remoteParentSampled as? any ParentAndTraceIDSampler,
            remoteParentNotSampled: remoteParentNotSampled as? any ParentAndTraceIDSampler,
            localParentSampled: localParentSampled as? any ParentAndTraceIDSampler,
            localParentNotSampled: localParentNotSampled as? any ParentAndTraceIDSampler)
    }

    /// Passes the parameters to the delegate that matches the parent: ``root`` when there is no valid parent, else the
    /// one for a remote or local, sampled or unsampled parent.
    public func shouldSample(_ parameters: SamplingParameters) -> SamplingResult {
        delegate(for: parameters.parentSpanContext).shouldSample(parameters)
    }

    /// `ParentBased{root:…,remoteParentSampled:…,…}`, listing each delegate's description.
    public var description: String {
        "ParentBased{root:\(root),remoteParentSampled:\(remoteParentSampled),"
            + "remoteParentNotSampled:\(remoteParentNotSampled),localParentSampled:\(localParentSampled),"
            + "localParentNotSampled:\(localParentNotSampled)}"
    }
}
