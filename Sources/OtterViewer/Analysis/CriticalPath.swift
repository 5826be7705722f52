import Otter
import Tracing

/// The critical path of a trace: the parts of spans that determine its duration. From the root's end, time goes
/// backwards: the child that finished last before the current point is what the parent waited for, the parent's own
/// time between children is on the path, and the walk repeats inside that child. This is jaeger-ui's algorithm
/// (children clipped to their parent), with its asynchronous rule: a CONSUMER span, or any child of a PRODUCER, does
/// not block its parent.
enum CriticalPath {
    /// A part of one span on the critical path, in nanoseconds since the epoch.
    struct Segment: Equatable {
        var node: Int
        var start: UInt64
        var end: UInt64
    }

    /// The segments of every root's critical path, latest first within each root.
    static func segments(of tree: TraceTree) -> [Segment] {
        tree.roots.flatMap { segments(of: tree, from: $0) }
    }

    /// The segments of the critical path under `root`, walked without recursion.
    static func segments(of tree: TraceTree, from root: Int) -> [Segment] {
        var segments: [Segment] = []
        var current = root
        // Set when the walk comes back up from a child: only children that ended before this start can precede it.
        var returningChildStart: UInt64?
        // Each step either descends to a child that ends strictly earlier or climbs; this bounds a walk over bad data.
        var steps = 0
        while steps <= 4 * tree.nodes.count + 4, let range = tree.nodes[current].clipped {
            steps += 1
            let sectionEnd = returningChildStart ?? range.end
            var lastFinishing: Int?
            for child in tree.nodes[current].children where blocks(child, parent: current, in: tree) {
                guard let childRange = tree.nodes[child].clipped else { continue }
                if let returningChildStart, childRange.end >= returningChildStart { continue }
                if let best = lastFinishing, let bestRange = tree.nodes[best].clipped, bestRange.end >= childRange.end { continue }
                lastFinishing = child
            }
            if let child = lastFinishing, let childRange = tree.nodes[child].clipped {
                if childRange.end < sectionEnd { segments.append(Segment(node: current, start: childRange.end, end: sectionEnd)) }
                current = child
                returningChildStart = nil
            } else {
                segments.append(Segment(node: current, start: range.start, end: max(range.start, sectionEnd)))
                guard current != root, let parent = tree.nodes[current].parent else { break }
                returningChildStart = range.start
                current = parent
            }
        }
        return segments
    }

    /// Whether the parent waits for this child: not when the child is a CONSUMER or the parent a PRODUCER.
    static func blocks(_ child: Int, parent: Int, in tree: TraceTree) -> Bool {
        tree.nodes[child].span.kind != .consumer && tree.nodes[parent].span.kind != .producer
    }
}
