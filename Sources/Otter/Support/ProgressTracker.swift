import Synchronization

/// Counts the queued spans whose export has completed, in queue order, and lets a flush wait until the spans queued
/// before it are done: true when all of them were exported, false when an export of any of them failed or timed out,
/// or the flush's own timeout passed first. This is what makes `forceFlush` and `shutdown` wait and tell the truth.
package final class ProgressTracker: Sendable {
    /// A flush waiting for the spans numbered `(start, target]` in queue order.
    package struct Ticket: Sendable {
        fileprivate let id: UInt64
    }

    private struct Flush {
        var start: UInt64
        var target: UInt64
        var anyFailed = false
        var outcome: Bool?
        var continuation: CheckedContinuation<Bool, Never>?
    }

    private struct State {
        var processed: UInt64 = 0
        var failed: UInt64 = 0
        var nextID: UInt64 = 0
        var flushes: [UInt64: Flush] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Spans whose export has completed, successfully or not.
    package var processed: UInt64 { state.withLock { $0.processed } }

    /// Spans whose export failed or timed out.
    package var failed: UInt64 { state.withLock { $0.failed } }

    /// Registers a flush of the first `target` spans ever queued; call it before asking for the export.
    package func ticket(through target: UInt64) -> Ticket {
        state.withLock { state in
            state.nextID += 1
            var flush = Flush(start: state.processed, target: target)
            if target <= state.processed { flush.outcome = true }
            state.flushes[state.nextID] = flush
            return Ticket(id: state.nextID)
        }
    }

    /// Records that the next `count` spans in queue order were handled: exported, or `failed`.
    package func advance(by count: Int, failed: Bool = false) {
        guard count > 0 else { return }
        let ready: [(CheckedContinuation<Bool, Never>, Bool)] = state.withLock { state in
            let before = state.processed
            state.processed += UInt64(count)
            if failed { state.failed += UInt64(count) }
            let after = state.processed
            var ready: [(CheckedContinuation<Bool, Never>, Bool)] = []
            for id in Array(state.flushes.keys) {
                guard var flush = state.flushes[id], flush.outcome == nil else { continue }
                if failed, before < flush.target, after > flush.start { flush.anyFailed = true }
                if after >= flush.target {
                    flush.outcome = !flush.anyFailed
                    if let continuation = flush.continuation {
                        ready.append((continuation, !flush.anyFailed))
                        flush.continuation = nil
                    }
                }
                state.flushes[id] = flush
            }
            return ready
        }
        for (continuation, outcome) in ready { continuation.resume(returning: outcome) }
    }

    /// Waits until `target` spans have been handled (exported or not) or `timeout` passes; a cancelled caller stops
    /// waiting. True when the target was reached and none of the spans it covers failed.
    package func wait(until target: UInt64, timeout: Duration) async -> Bool {
        await wait(for: ticket(through: target), timeout: timeout, honoringCancellation: true)
    }

    /// Waits until the ticket's spans are handled or `timeout` passes; a cancelled caller stops waiting when
    /// `honoringCancellation`. True when every one of them was exported.
    package func wait(for ticket: Ticket, timeout: Duration, honoringCancellation: Bool) async -> Bool {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resolve(ticket, false)
        }
        defer {
            timer.cancel()
            state.withLock { _ = $0.flushes.removeValue(forKey: ticket.id) }
        }
        if honoringCancellation {
            return await withTaskCancellationHandler {
                await outcome(of: ticket)
            } onCancel: {
                self.resolve(ticket, false)
            }
        }
        return await outcome(of: ticket)
    }

    private func outcome(of ticket: Ticket) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let ready = state.withLock { state -> Bool? in
                guard let outcome = state.flushes[ticket.id]?.outcome else {
                    state.flushes[ticket.id]?.continuation = continuation
                    return nil
                }
                return outcome
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Settles the flush with `outcome` unless it is settled already.
    private func resolve(_ ticket: Ticket, _ outcome: Bool) {
        let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard var flush = state.flushes[ticket.id], flush.outcome == nil else { return nil }
            let continuation = flush.continuation
            flush.outcome = outcome
            flush.continuation = nil
            state.flushes[ticket.id] = flush
            return continuation
        }
        continuation?.resume(returning: outcome)
    }
}
