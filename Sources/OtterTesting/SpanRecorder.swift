import Otter
import Synchronization
import Tracing

/// A span processor that keeps every ended span in memory, in the order they ended, and knows which spans are
/// still open. ``TestTracer`` records through one; use it directly to record from a tracer of your own.
public final class SpanRecorder: SpanProcessor {
    /// Spans kept at most; later ones are counted in ``droppedCount`` (a runaway loop in a test cannot exhaust
    /// memory).
    public let maximumSpans: Int

    private struct State {
        var finished: [FinishedSpan] = []
        var dropped = 0
        /// Started and not yet ended: span id to operation name.
        var open: [SpanID: String] = [:]
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Waiters whose deadline passed before they started waiting.
        var expired: Set<Int> = []
    }

    private let state = Mutex(State())

    public init(maximumSpans: Int = 100_000) {
        self.maximumSpans = max(0, maximumSpans)
    }

    public func onStart(_ span: OtterSpan, parentContext: InstrumentationContext) {
        let id = span.spanContext.spanID
        let name = span.operationName
        state.withLock { $0.open[id] = name }
    }

    public func onEnd(_ span: ReadOnlySpan) {
        let finished = span.finishedSpan
        let resumed: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.open[finished.spanContext.spanID] = nil
            if state.finished.count < maximumSpans {
                state.finished.append(finished)
            } else {
                state.dropped += 1
            }
            guard state.open.isEmpty, !state.waiters.isEmpty else { return [] }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for continuation in resumed { continuation.resume() }
    }

    /// The ended spans, in the order they ended.
    public var finishedSpans: [FinishedSpan] { state.withLock { $0.finished } }

    /// Spans that ended after ``maximumSpans`` were kept.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    /// Every span that ended, kept or dropped: it changes whenever a span ends.
    var endedCount: Int { state.withLock { $0.finished.count + $0.dropped } }

    /// The operation names of spans started and not yet ended, sorted.
    public var openSpanNames: [String] { state.withLock { $0.open.values.sorted() } }

    /// Forgets every recorded span (open spans stay open).
    public func reset() {
        state.withLock {
            $0.finished.removeAll()
            $0.dropped = 0
        }
    }

    /// Waits until no started span is open, or `timeout` passes. Returns whether every span has ended.
    ///
    /// A server's span can end after its client has the response; wait for it before reading the trace.
    @discardableResult
    public func waitUntilAllSpansEnd(timeout: Duration = .seconds(5)) async -> Bool {
        let waiter: Int? = state.withLock { state in
            guard !state.open.isEmpty else { return nil }
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        guard let waiter else { return true }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow: Bool = self.state.withLock { state in
                        if state.open.isEmpty || state.expired.remove(waiter) != nil { return true }
                        state.waiters[waiter] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                // A deadline, not a wait for a result: the other task ends as soon as the last span does.
                try? await Task.sleep(for: timeout)
                let continuation = self.state.withLock { state in
                    guard let continuation = state.waiters.removeValue(forKey: waiter) else {
                        state.expired.insert(waiter)
                        return nil as CheckedContinuation<Void, Never>?
                    }
                    return continuation
                }
                continuation?.resume()
            }
            await group.next()
            group.cancelAll()
        }
        return state.withLock { state in
            state.expired.remove(waiter)
            return state.open.isEmpty
        }
    }
}
