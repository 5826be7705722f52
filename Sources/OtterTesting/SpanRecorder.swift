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
    }

    private let state = Mutex(State())
    /// Counts ended spans, for ``waitUntilAllSpansEnd(timeout:)``.
    private let ended = ProgressTracker()

    /// Makes a recorder that keeps up to `maximumSpans` spans (negative counts as 0).
    public init(maximumSpans: Int = 100_000) {
        self.maximumSpans = max(0, maximumSpans)
    }

    /// Notes the span as open, under its operation name at start (see ``openSpanNames``).
    public func onStart(_ span: OtterSpan, parentContext: InstrumentationContext) {
        let id = span.spanContext.spanID
        let name = span.operationName
        state.withLock { $0.open[id] = name }
    }

    /// Keeps the ended span, sampled or not, or counts it in ``droppedCount`` once ``maximumSpans`` are kept; it is no
    /// longer open. Safe from any thread.
    public func onEnd(_ span: ReadOnlySpan) {
        let finished = span.finishedSpan
        state.withLock { state in
            state.open[finished.spanContext.spanID] = nil
            if state.finished.count < maximumSpans {
                state.finished.append(finished)
            } else {
                state.dropped += 1
            }
        }
        ended.advance(by: 1)
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
        let deadline = ContinuousClock.now + timeout
        while true {
            // Spans open now end by the time as many more spans have ended (or later ones are open instead: look again).
            let (endedNow, openNow) = state.withLock { ($0.finished.count + $0.dropped, $0.open.count) }
            guard openNow > 0 else { return true }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero, await ended.wait(until: UInt64(endedNow + openNow), timeout: remaining)
            else { return state.withLock { $0.open.isEmpty } }
        }
    }
}
