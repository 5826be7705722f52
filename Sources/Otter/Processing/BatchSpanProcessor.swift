import Logging

/// Queues sampled spans and exports them in batches from one background task (``run()``).
///
/// `onEnd` never blocks and never allocates: it takes a lock, stores a reference to the span in a preallocated
/// ring buffer, and wakes the exporting task only when a full batch is waiting. The exporting task sends full
/// batches as they fill, and whatever is queued when the schedule delay passes (as the OpenTelemetry
/// specification says), so a busy application sends few, full requests. When the queue is full, spans are
/// dropped and counted (``droppedSpanCount``); one log line says when loss starts and one when it stops.
///
/// The exporter is called one batch at a time, ever: an export that outlives ``BatchExportConfiguration/exportTimeout`` is
/// cancelled and awaited before the next one starts, so a stuck exporter backs the queue up (and spans are dropped
/// and counted) rather than piling up calls. ``forceFlush(timeout:)`` waits until every span queued before the call
/// has been handed to the exporter and says whether all of them were delivered; ``shutdown(timeout:)`` delivers
/// what is queued, then shuts the exporter down after the last export, even when its task is cancelled. Both work
/// whether or not ``run()`` is running.
public final class BatchSpanProcessor: SpanProcessor {
    /// Queue and batch settings, with the OpenTelemetry defaults (`OTEL_BSP_*`).
    public typealias Configuration = BatchExportConfiguration

    /// Where the batches go; called with one batch at a time.
    public let exporter: any SpanExporter
    private let queue: BatchExportQueue<ReadOnlySpan>

    /// Makes a processor that sends sampled spans to `exporter` in batches, as `configuration` says; `logger` reports
    /// when spans start and stop being dropped. Nothing is exported until ``run()`` runs (or a flush or shutdown).
    public init(
        exporter: any SpanExporter,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "otter.batch-span-processor")
    ) {
        self.exporter = exporter
        queue = BatchExportQueue(target: .spans(exporter), configuration: configuration, logger: logger)
    }

    /// The queue and batch settings in effect, after the initializer clamped sizes into range.
    public var configuration: Configuration { queue.configuration }

    /// Spans dropped so far because the queue was full or the processor was shut down.
    public var droppedSpanCount: UInt64 { queue.droppedCount }

    /// Spans queued so far (sampled spans that were not dropped).
    public var queuedSpanCount: UInt64 { queue.queuedCount }

    /// True while the exporting task waits for a full batch, a flush or the schedule delay.
    var isWaitingForWork: Bool { queue.isWaitingForWork }

    /// Spans whose export has completed (successfully or not).
    public var processedSpanCount: UInt64 { queue.processedCount }

    /// Spans whose export failed or timed out.
    public var failedSpanCount: UInt64 { queue.failedCount }

    /// Queues the span when it is sampled, without blocking; drops and counts it when the queue is full or the
    /// processor is shut down. Unsampled spans are ignored.
    public func onEnd(_ span: ReadOnlySpan) {
        guard span.isSampled else { return }
        queue.enqueue(span)
    }

    /// Exports batches every schedule delay, or as soon as a full batch waits, until shutdown or cancellation.
    /// An export in flight when the task is cancelled runs to its end (or its timeout); ``shutdown(timeout:)``
    /// delivers the rest.
    public func run() async {
        await queue.run()
    }

    /// Waits until every span queued before the call has been handed to the exporter (and the exporter has
    /// flushed what it buffers), or `timeout` passes, or the calling task is cancelled. True when all of those
    /// spans were delivered; false when an export of any of them failed or timed out, or the wait ended first.
    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await queue.forceFlush(timeout: timeout)
    }

    /// Stops accepting spans, exports what is queued, then shuts the exporter down after the last export. Waits
    /// for all of that at most `timeout`, even when the calling task is cancelled (a `ServiceGroup` that is
    /// shutting down because another service failed still gets the spans that explain the failure); what is
    /// still running then finishes in the background, and the exporter is never shut down under an export. A
    /// second call waits for the first one's work, with its own timeout.
    public func shutdown(timeout: Duration) async {
        await queue.shutdown(timeout: timeout)
    }
}
