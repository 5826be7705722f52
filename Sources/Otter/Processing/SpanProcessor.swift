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
    public func onStart(_ span: OtterSpan, parentContext: InstrumentationContext) {}
    public func run() async {}
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool { true }
    public func shutdown(timeout: Duration) async {}

    /// Hands the processor a span recorded elsewhere (replayed from storage, or made in a test).
    public func onEnd(_ finishedSpan: FinishedSpan) {
        onEnd(ReadOnlySpan(finishedSpan))
    }
}

/// Hands each span to several processors in order.
public struct MultiSpanProcessor: SpanProcessor {
    public let processors: [any SpanProcessor]

    public init(_ processors: [any SpanProcessor]) {
        self.processors = processors
    }

    public func onStart(_ span: OtterSpan, parentContext: InstrumentationContext) {
        for processor in processors { processor.onStart(span, parentContext: parentContext) }
    }

    public func onEnd(_ span: ReadOnlySpan) {
        for processor in processors { processor.onEnd(span) }
    }

    public func run() async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.run() } })
    }

    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await ProcessorFanOut.allSucceed(processors.map { processor in { await processor.forceFlush(timeout: timeout) } })
    }

    public func shutdown(timeout: Duration) async {
        await ProcessorFanOut.all(processors.map { processor in { await processor.shutdown(timeout: timeout) } })
    }
}
