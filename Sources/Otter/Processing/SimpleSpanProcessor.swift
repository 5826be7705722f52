import Logging

/// Exports each sampled span as it ends, one at a time and in order. Meant for the console and for tests;
/// use ``BatchSpanProcessor`` for network exporters.
///
/// `onEnd` does not wait for the export: spans go to a bounded list that one task at a time drains, so the
/// caller never blocks. The exporter is called one span at a time, never concurrently and never after its
/// `shutdown`. ``forceFlush(timeout:)`` waits until every span ended before the call is exported and says whether
/// all of them were delivered.
public final class SimpleSpanProcessor: SpanProcessor {
    /// Where the spans go, one at a time.
    public let exporter: any SpanExporter
    private let queue: SimpleExportQueue<ReadOnlySpan>

    /// - Parameters:
    ///   - exporter: where the spans go, one at a time.
    ///   - maximumPendingCount: most spans waiting for export; more are dropped and counted.
    ///   - exportTimeout: longest one export may run before it is cancelled (zero, less or nil: no limit).
    ///   - logger: says when an export fails or times out.
    public init(
        exporter: any SpanExporter,
        maximumPendingCount: Int = 2048,
        exportTimeout: Duration? = .seconds(30),
        logger: Logger = Logger(label: "otter.simple-span-processor")
    ) {
        self.exporter = exporter
        queue = SimpleExportQueue(
            target: .spans(exporter), maximumPendingCount: maximumPendingCount, exportTimeout: exportTimeout, logger: logger)
    }

    /// Most spans waiting for export; more are dropped and counted.
    public var maximumPendingCount: Int { queue.maximumPendingCount }

    /// Spans dropped because too many were waiting or the processor was shut down.
    public var droppedSpanCount: UInt64 { queue.droppedCount }

    /// Spans whose export failed or timed out.
    public var failedSpanCount: UInt64 { queue.failedCount }

    /// Queues the span for export when it is sampled, without waiting for the export; drops and counts it when
    /// ``maximumPendingCount`` spans are already waiting or the processor is shut down. Unsampled spans are ignored.
    public func onEnd(_ span: ReadOnlySpan) {
        guard span.isSampled else { return }
        queue.enqueue(span)
    }

    /// Waits until every span that ended before the call has been exported (and the exporter has flushed what it
    /// buffers), or `timeout` passes, or the calling task is cancelled. True when all of them were delivered; false when
    /// an export failed or timed out, or the wait ended first.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await queue.forceFlush(timeout: timeout)
    }

    /// Stops accepting spans, exports what is pending, then shuts the exporter down after the last export; waits
    /// for that at most `timeout`, even when the calling task is cancelled. A second call waits for the first
    /// one's work, with its own timeout.
    public func shutdown(timeout: Duration) async {
        await queue.shutdown(timeout: timeout)
    }
}
