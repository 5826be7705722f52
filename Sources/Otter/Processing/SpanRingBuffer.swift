/// A fixed-capacity first-in, first-out queue of ended spans that never reallocates after creation. Its
/// slots hold ``ReadOnlySpan``s, one reference each, so queueing a span moves one pointer.
struct SpanRingBuffer {
    private var slots: [ReadOnlySpan?]
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
    mutating func append(_ span: ReadOnlySpan) -> Bool {
        guard count < slots.count else { return false }
        var tail = head + count
        if tail >= slots.count { tail -= slots.count }
        slots[tail] = span
        count += 1
        return true
    }

    /// Removes and returns up to `maximumCount` spans from the front.
    mutating func removeFirst(upTo maximumCount: Int) -> [ReadOnlySpan] {
        let taken = min(maximumCount, count)
        var result: [ReadOnlySpan] = []
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
