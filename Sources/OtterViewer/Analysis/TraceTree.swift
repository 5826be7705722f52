import Otter
import Tracing

/// The spans of one trace as a tree (``SpanTree``'s order: depth-first, children by start time, a span whose parent is
/// not stored a root), with time ranges. Each span's time range is clipped to its parent's (as Jaeger does before finding the critical
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
        let tree = SpanTree(spans)
        roots = tree.roots
        nodes.reserveCapacity(tree.nodes.count)
        // Depth-first order: a parent is clipped before its children.
        for treeNode in tree.nodes {
            let start = treeNode.span.startTimeNanosecondsSinceEpoch
            let end = max(start, treeNode.span.endTimeNanosecondsSinceEpoch)
            var node = Node(
                span: treeNode.span, parent: treeNode.parent, children: treeNode.children, depth: treeNode.depth, start: start, end: end)
            if let parent = treeNode.parent {
                node.clipped = nodes[parent].clipped.flatMap { bounds in
                    start > bounds.end || end < bounds.start ? nil : (max(start, bounds.start), min(end, bounds.end))
                }
            } else {
                node.clipped = (start, end)
            }
            nodes.append(node)
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
