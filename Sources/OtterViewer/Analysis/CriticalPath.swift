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

    /// The segments of every root's critical path, latest first within each root. Each node's blocking children are
    /// sorted once by end time, and the walk only ever moves forward in that order (the point it returns to in a
    /// node moves back in time), so a root with 10,000 children costs a sort, not 10,000 scans.
    static func segments<Span>(of tree: TraceTree<Span>) -> [Segment] {
        let nodes = tree.nodes
        // Blocking children with a clipped range, latest end first.
        var candidates = [[Int]](repeating: [], count: nodes.count)
        for index in nodes.indices {
            candidates[index] = nodes[index].children.filter { child in
                nodes[child].clipped != nil && nodes[child].span.kind != .consumer && nodes[index].span.kind != .producer
            }.sorted { nodes[$0].clipped!.end > nodes[$1].clipped!.end }
        }
        var cursor = [Int](repeating: 0, count: nodes.count)
        var segments: [Segment] = []
        for root in tree.roots {
            var current = root
            // Set when the walk comes back up from a child: only children that ended before this start can precede it.
            var returningChildStart: UInt64?
            while let range = nodes[current].clipped {
                let sectionEnd = returningChildStart ?? range.end
                var next: Int?
                while cursor[current] < candidates[current].count {
                    let child = candidates[current][cursor[current]]
                    cursor[current] += 1
                    if let returningChildStart, nodes[child].clipped!.end >= returningChildStart { continue }
                    next = child
                    break
                }
                if let child = next, let childRange = nodes[child].clipped {
                    if childRange.end < sectionEnd { segments.append(Segment(node: current, start: childRange.end, end: sectionEnd)) }
                    current = child
                    returningChildStart = nil
                } else {
                    segments.append(Segment(node: current, start: range.start, end: max(range.start, sectionEnd)))
                    guard current != root, let parent = nodes[current].parent else { break }
                    returningChildStart = range.start
                    current = parent
                }
            }
        }
        return segments
    }
}
