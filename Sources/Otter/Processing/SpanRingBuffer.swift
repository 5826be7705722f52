/// An ended span waiting in a queue: either a recording span's own storage, turned into a ``FinishedSpan``
/// only when its batch is exported (so ending a span copies nothing), or a finished span handed over by a
/// caller.
protocol EndedSpan: AnyObject, Sendable {
    var finishedSpan: FinishedSpan { get }
}

/// A ``FinishedSpan`` given to ``BatchSpanProcessor/onEnd(_:)`` from outside, boxed for the queue.
final class FinishedSpanBox: EndedSpan {
    let finishedSpan: FinishedSpan

    init(_ finishedSpan: FinishedSpan) {
        self.finishedSpan = finishedSpan
    }
}

/// A fixed-capacity first-in, first-out queue of ended spans that never reallocates after creation. Its
/// slots are references, so queueing a span moves one pointer.
struct SpanRingBuffer {
    private var slots: [(any EndedSpan)?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        slots = Array(repeating: nil, count: max(capacity, 1))
    }

    var capacity: Int { slots.count }
    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == slots.count }

    /// Appends unless full; returns whether the span was taken.
    @inline(__always)
    mutating func append(_ span: any EndedSpan) -> Bool {
        guard count < slots.count else { return false }
        var tail = head + count
        if tail >= slots.count { tail -= slots.count }
        slots[tail] = span
        count += 1
        return true
    }

    /// Removes and returns up to `maximumCount` spans from the front.
    mutating func removeFirst(upTo maximumCount: Int) -> [any EndedSpan] {
        let taken = min(maximumCount, count)
        var result: [any EndedSpan] = []
        result.reserveCapacity(taken)
        for _ in 0..<taken {
            if let span = slots[head].take() { result.append(span) }
            head += 1
            if head == slots.count { head = 0 }
        }
        count -= taken
        return result
    }
}
