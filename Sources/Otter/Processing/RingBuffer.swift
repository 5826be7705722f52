/// A fixed-capacity first-in, first-out queue that never reallocates after creation: the processors' queue of
/// ended spans (``ReadOnlySpan``s, one reference each, so queueing a span moves one pointer) and of log records.
struct RingBuffer<Element> {
    private var slots: [Element?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        slots = Array(repeating: nil, count: max(capacity, 1))
    }

    var capacity: Int { slots.count }
    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == slots.count }

    /// Appends unless full; returns whether the element was taken.
    @inline(__always)
    mutating func append(_ element: Element) -> Bool {
        guard count < slots.count else { return false }
        var tail = head + count
        if tail >= slots.count { tail -= slots.count }
        slots[tail] = element
        count += 1
        return true
    }

    /// Removes and returns up to `maximumCount` elements from the front.
    mutating func removeFirst(upTo maximumCount: Int) -> [Element] {
        let taken = min(maximumCount, count)
        var result: [Element] = []
        result.reserveCapacity(taken)
        for _ in 0..<taken {
            if let element = slots[head].take() { result.append(element) }
            head += 1
            if head == slots.count { head = 0 }
        }
        count -= taken
        return result
    }
}
