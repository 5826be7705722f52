import Otter
import Tracing

/// The spans of one trace as a tree, in depth-first order with children by start time. A span whose parent is not
/// stored is a root. Each span's time range is clipped to its parent's (as Jaeger does before finding the critical
/// path), so a child that outlives its parent is measured inside it. Built without recursion: a 100,000-deep chain
/// is a tree like any other.
struct TraceTree {
    struct Node {
        var span: FinishedSpan
        /// Index of the parent in `nodes`; nil for a root.
        var parent: Int?
        var children: [Int] = []
        var depth: Int
        /// The span's start and end (nanoseconds since the epoch), end never before start.
        var start: UInt64
        var end: UInt64
        /// The range clipped to the parent's clipped range; nil when the span lies wholly outside its parent.
        var clipped: (start: UInt64, end: UInt64)?

        var duration: UInt64 { end - start }
        var service: String { span.resource.serviceNameOrUnknown }
    }

    private(set) var nodes: [Node] = []
    private(set) var roots: [Int] = []

    /// The earliest start and latest end of any span; both 0 for an empty trace.
    var start: UInt64 { nodes.map(\.start).min() ?? 0 }
    var end: UInt64 { nodes.map(\.end).max() ?? 0 }

    init(spans: [FinishedSpan]) {
        let sorted = spans.enumerated().sorted {
            ($0.element.startTimeNanosecondsSinceEpoch, $0.offset) < ($1.element.startTimeNanosecondsSinceEpoch, $1.offset)
        }.map(\.element)
        var indexByID: [SpanID: Int] = [:]
        for (index, span) in sorted.enumerated() where indexByID[span.spanContext.spanID] == nil {
            indexByID[span.spanContext.spanID] = index
        }
        var children = [[Int]](repeating: [], count: sorted.count)
        var sortedRoots: [Int] = []
        for (index, span) in sorted.enumerated() {
            if let parent = span.parentSpanContext, let parentIndex = indexByID[parent.spanID], parentIndex != index {
                children[parentIndex].append(index)
            } else {
                sortedRoots.append(index)
            }
        }
        var visited = [Bool](repeating: false, count: sorted.count)
        nodes.reserveCapacity(sorted.count)
        // Roots first, then whatever a parent cycle kept unreached, each walked as a root.
        for first in sortedRoots + Array(sorted.indices) where !visited[first] {
            var stack: [(index: Int, parent: Int?)] = [(first, nil)]
            while let (index, parent) = stack.popLast() {
                guard !visited[index] else { continue }
                visited[index] = true
                let span = sorted[index]
                let start = span.startTimeNanosecondsSinceEpoch
                let end = max(start, span.endTimeNanosecondsSinceEpoch)
                let position = nodes.count
                var node = Node(span: span, parent: parent, depth: parent.map { nodes[$0].depth + 1 } ?? 0, start: start, end: end)
                if let parent {
                    nodes[parent].children.append(position)
                    node.clipped = nodes[parent].clipped.flatMap { bounds in
                        start > bounds.end || end < bounds.start ? nil : (max(start, bounds.start), min(end, bounds.end))
                    }
                } else {
                    node.clipped = (start, end)
                    roots.append(position)
                }
                nodes.append(node)
                for child in children[index].reversed() where !visited[child] { stack.append((child, position)) }
            }
        }
    }

    /// Time a span spends on its own: its duration less the union of its children's clipped ranges.
    func selfTime(of index: Int) -> UInt64 {
        let node = nodes[index]
        var covered: UInt64 = 0
        var reach = node.start
        // Children are in start order, so one pass merges their overlapping ranges.
        for child in node.children {
            guard let range = nodes[child].clipped else { continue }
            let from = max(range.start, reach)
            if range.end > from {
                covered += range.end - from
                reach = range.end
            }
        }
        return node.duration - min(covered, node.duration)
    }
}
