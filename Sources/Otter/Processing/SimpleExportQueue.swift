import Logging
import Synchronization

/// The simple processors' queue, for spans and log records alike: each item is exported on its own, in order,
/// as soon as possible. `enqueue` does not wait for the export: items go to a bounded list that one task at a time
/// drains through an ``ExportLane``, so the caller never blocks; when too many wait, items are dropped and counted.
final class SimpleExportQueue<Item: Sendable>: Sendable {
    private struct State {
        var pending: RingBuffer<Item>
        var enqueuedCount: UInt64 = 0
        var droppedCount: UInt64 = 0
        var isExporting = false
        var isShutdown = false
    }

    let maximumPendingCount: Int
    private let state: Mutex<State>
    private let lane: ExportLane<Item>

    init(target: ExportTarget<Item>, maximumPendingCount: Int, exportTimeout: Duration?, logger: Logger) {
        self.maximumPendingCount = max(1, maximumPendingCount)
        state = Mutex(State(pending: RingBuffer<Item>(capacity: self.maximumPendingCount)))
        lane = ExportLane(target: target, exportTimeout: exportTimeout.flatMap { $0 > .zero ? $0 : nil }, logger: logger)
    }

    /// Items dropped because too many were waiting or the queue was shut down.
    var droppedCount: UInt64 { state.withLock { $0.droppedCount } }

    /// Items whose export failed or timed out.
    var failedCount: UInt64 { lane.progress.failed }

    func enqueue(_ item: Item) {
        let startExporting = state.withLock { state -> Bool in
            guard !state.isShutdown, state.pending.append(item) else {
                state.droppedCount += 1
                return false
            }
            state.enqueuedCount += 1
            guard !state.isExporting else { return false }
            state.isExporting = true
            return true
        }
        if startExporting {
            lane.exportBatches { self.nextItem() }
        }
    }

    /// The oldest pending item, alone; or nothing, which ends the exporting task's turn.
    private func nextItem() -> [Item] {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.isExporting = false
                return []
            }
            return state.pending.removeFirst(upTo: 1)
        }
    }

    /// Waits until every item queued before the call is exported (or `timeout` passes, or the caller is
    /// cancelled); says whether all of them were delivered.
    func forceFlush(timeout: Duration) async -> Bool {
        await lane.forceFlush(through: state.withLock { $0.enqueuedCount }, timeout: timeout) { self.nextItem() }
    }

    /// Stops accepting items, exports what is pending, then shuts the exporter down after the last export; waits
    /// for that at most `timeout`, even when the calling task is cancelled.
    func shutdown(timeout: Duration) async {
        state.withLock { $0.isShutdown = true }
        _ = await lane.shutDown(timeout: timeout) { self.nextItem() }
    }
}
