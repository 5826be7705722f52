import Otter
import Tracing

/// The spans of one trace as a tree (``SpanTree``'s order: depth-first, children by start time, a span whose parent is
/// not stored a root), with time ranges. Each span's time range is clipped to its parent's (as Jaeger does before finding the critical
/// path), so a child that outlives its parent is measured inside it. Built without recursion: a 100,000-deep chain
/// is a tree like any other. Its spans are read in full (``FinishedSpan``) or outlined (``SpanOutline``, a big trace).
struct TraceTree<Span: TraceTreeSpan> {
    struct Node {
        var span: Span
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
        var service: String { span.treeService }
    }

    private(set) var nodes: [Node] = []
    private(set) var roots: [Int] = []

    /// The earliest start and latest end of any span; both 0 for an empty trace.
    var start: UInt64 { nodes.map(\.start).min() ?? 0 }
    var end: UInt64 { nodes.map(\.end).max() ?? 0 }

    init(spans: [Span]) {
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

    private init(nodes: [Node], roots: [Int]) {
        self.nodes = nodes
        self.roots = roots
    }

    /// The same tree with each span replaced by `transform`'s value for it.
    func mapSpans<Other>(_ transform: (Span) -> Other) -> TraceTree<Other> {
        TraceTree<Other>(
            nodes: nodes.map { node in
                TraceTree<Other>.Node(
                    span: transform(node.span), parent: node.parent, children: node.children, depth: node.depth, start: node.start,
                    end: node.end, clipped: node.clipped)
            }, roots: roots)
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

/// What a ``TraceTree`` and what is computed from it (critical path, statistics) need of a span.
protocol TraceTreeSpan: TreeOrderedSpan {
    var treeService: String { get }
    var operationName: String { get }
    var kind: SpanKind { get }
    var startTimeNanosecondsSinceEpoch: UInt64 { get }
    var endTimeNanosecondsSinceEpoch: UInt64 { get }
}

extension FinishedSpan: TraceTreeSpan {
    var treeService: String { resource.serviceNameOrUnknown }
}

extension SpanOutline: TraceTreeSpan {
    var treeSpanID: SpanID { spanID }
    var treeParentSpanID: SpanID? { parentSpanID }
    var treeStart: UInt64 { startTimeNanosecondsSinceEpoch }
    var treeService: String { service }
}
