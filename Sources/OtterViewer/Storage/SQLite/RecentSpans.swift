import Otter

/// The last 262,144 spans stored, by trace id, span id, start and end: an exporter that timed out and sends the same
/// batch again (OTLP's at-least-once delivery) is recognised, so its spans count once in the span metrics and call
/// counts. Both copies are stored (reads show one). A retry older than the window counts again; memory stays bounded.
struct RecentSpans {
    struct Key: Hashable {
        var traceID: TraceID
        var spanID: SpanID
        var start: UInt64
        var end: UInt64
    }

    static let capacity = 1 << 18
    private var keys = Set<Key>()
    private var order: [Key] = []
    private var next = 0

    /// True the first time `span` is seen within the window; false for a repeat.
    mutating func firstSight(of span: FinishedSpan) -> Bool {
        let key = Key(
            traceID: span.spanContext.traceID, spanID: span.spanContext.spanID, start: span.startTimeNanosecondsSinceEpoch,
            end: span.endTimeNanosecondsSinceEpoch)
        guard keys.insert(key).inserted else { return false }
        if order.count < Self.capacity {
            order.append(key)
        } else {
            keys.remove(order[next])
            order[next] = key
            next = (next + 1) % Self.capacity
        }
        return true
    }
}
