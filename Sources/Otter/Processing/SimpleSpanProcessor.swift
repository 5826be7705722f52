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

    /// - Parameter exportTimeout: longest one export may run before it is cancelled; nil: no limit.
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
            let lane = self.lane
            Task { await lane.exportBatches { self.nextSpan() } }
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
        let ticket = state.withLock { self.lane.progress.ticket(through: $0.enqueuedCount) }
        let lane = self.lane
        Task { await lane.flushExporter() }
        return await lane.progress.wait(for: ticket, timeout: timeout, honoringCancellation: true)
    }

    /// Stops accepting spans, exports what is pending, then shuts the exporter down after the last export; waits
    /// for that at most `timeout`, even when the calling task is cancelled.
    public func shutdown(timeout: Duration) async {
        let alreadyShutdown = state.withLock { state -> Bool in
            defer { state.isShutdown = true }
            return state.isShutdown
        }
        guard !alreadyShutdown else { return }
        _ = await lane.finish { self.nextSpan() }.completes(within: timeout)
    }
}
