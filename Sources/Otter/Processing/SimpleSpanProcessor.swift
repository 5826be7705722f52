import Logging
import Synchronization

/// Exports each sampled span as it ends, one at a time and in order. Meant for the console and for tests;
/// use ``BatchSpanProcessor`` for network exporters.
///
/// `onEnd` does not wait for the export: spans go to a bounded list that one task at a time drains, so the
/// caller never blocks. The exporter is called one span at a time, never concurrently and never after its
/// `shutdown`. ``forceFlush(timeout:)`` waits until every span ended before the call is exported and says whether
/// all of them were delivered.
public final class SimpleSpanProcessor: SpanProcessor {
    private struct State {
        var pending: SpanRingBuffer
        var enqueuedCount: UInt64 = 0
        var droppedCount: UInt64 = 0
        var isExporting = false
        var isShutdown = false
    }

    /// Most spans waiting for export; more are dropped and counted.
    public let maximumPendingCount: Int
    private let state: Mutex<State>
    private let lane: SpanExportLane

    public var exporter: any SpanExporter { lane.exporter }

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
        self.maximumPendingCount = max(1, maximumPendingCount)
        state = Mutex(State(pending: SpanRingBuffer(capacity: self.maximumPendingCount)))
        lane = SpanExportLane(
            exporter: exporter, exportTimeout: exportTimeout.flatMap { $0 > .zero ? $0 : nil }, logger: logger)
    }

    /// Spans dropped because too many were waiting or the processor was shut down.
    public var droppedSpanCount: UInt64 { state.withLock { $0.droppedCount } }

    /// Spans whose export failed or timed out.
    public var failedSpanCount: UInt64 { lane.progress.failed }

    public func onEnd(_ span: ReadOnlySpan) {
        guard span.isSampled else { return }
        let startExporting = state.withLock { state -> Bool in
            guard !state.isShutdown, state.pending.append(span) else {
                state.droppedCount += 1
                return false
            }
            state.enqueuedCount += 1
            guard !state.isExporting else { return false }
            state.isExporting = true
            return true
        }
        if startExporting {
            lane.exportBatches { self.nextSpan() }
        }
    }

    /// The oldest pending span, alone; or nothing, which ends the exporting task's turn.
    private func nextSpan() -> [ReadOnlySpan] {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.isExporting = false
                return []
            }
            return state.pending.removeFirst(upTo: 1)
        }
    }

    @discardableResult
    public func forceFlush(timeout: Duration) async -> Bool {
        await lane.forceFlush(through: state.withLock { $0.enqueuedCount }, timeout: timeout) { self.nextSpan() }
    }

    /// Stops accepting spans, exports what is pending, then shuts the exporter down after the last export; waits
    /// for that at most `timeout`, even when the calling task is cancelled. A second call waits for the first
    /// one's work, with its own timeout.
    public func shutdown(timeout: Duration) async {
        state.withLock { $0.isShutdown = true }
        _ = await lane.shutDown(timeout: timeout) { self.nextSpan() }
    }
}
