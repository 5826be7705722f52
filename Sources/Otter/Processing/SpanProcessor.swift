import Tracing

/// Sees every recorded span start and end. Implement it to enrich, filter or route spans.
///
/// `onStart` and `onEnd` run on the instrumented code's thread: they must not block.
public protocol SpanProcessor: Sendable {
    /// Called when a recorded span starts. The span can still be changed here.
    func onStart(_ span: OtterSpan, parentContext: InstrumentationContext)
    /// Called once when a recorded span ends, with a read-only view of it (``ReadOnlySpan/finishedSpan`` gives
    /// the exporters' value).
    func onEnd(_ span: ReadOnlySpan)
    /// Runs the processor's background work, if it has any, until `shutdown` or cancellation.
    func run() async
    /// Returns once every span that ended before the call has been handed to the exporter, or when `timeout`
    /// passes. Returns whether everything was exported in time.
    @discardableResult
    func forceFlush(timeout: Duration) async -> Bool
    /// Flushes, then shuts down the exporter; spans that end afterwards are dropped.
    func shutdown(timeout: Duration) async
}

extension SpanProcessor {
    /// Does nothing: a processor that only needs ended spans leaves `onStart` out.
    public func onStart(_ span: OtterSpan, parentContext: InstrumentationContext) {}
    /// Returns at once: a processor without background work leaves `run` out.
    public func run() async {}
    /// Returns true at once: a processor that holds no spans leaves `forceFlush` out.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool { true }
    /// Does nothing: a processor with nothing to release leaves `shutdown` out.
    public func shutdown(timeout: Duration) async {}

    /// Hands the processor a span recorded elsewhere (replayed from storage, or made in a test).
    public func onEnd(_ finishedSpan: FinishedSpan) {
        onEnd(ReadOnlySpan(finishedSpan))
    }
}

/// Hands each span to several processors in order.
public struct MultiSpanProcessor: SpanProcessor {
    /// The processors, in the order `onStart` and `onEnd` call them.
    public let processors: [any SpanProcessor]

    /// Makes a processor that hands each span to `processors`, in order.
    public init(_ processors: [any SpanProcessor]) {
        self.processors = processors
    }

    /// Calls each processor's `onStart` in order; a processor sees the changes earlier ones made to the span.
    public func onStart(_ span: OtterSpan, parentContext: InstrumentationContext) {
        for processor in processors { processor.onStart(span, parentContext: parentContext) }
    }

    /// Calls each processor's `onEnd` in order, with the same read-only span.
    public func onEnd(_ span: ReadOnlySpan) {
        for processor in processors { processor.onEnd(span) }
    }

    /// Runs every processor's `run()` concurrently and returns when all of them have returned.
    public func run() async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.run() } })
    }

    /// Flushes every processor concurrently, each with `timeout`; true when all of them flushed everything.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await ProcessorFanOut.allSucceed(processors.map { processor in { await processor.forceFlush(timeout: timeout) } })
    }

    /// Shuts every processor down concurrently, each with `timeout`, and returns when all of them are done.
    public func shutdown(timeout: Duration) async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.shutdown(timeout: timeout) } })
    }
}
