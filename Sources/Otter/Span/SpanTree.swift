/// The spans of one or more traces as trees, in the order they are shown everywhere (the console's `tree` style,
/// OtterTesting's ``RecordedTrace`` and the viewer's trace page): depth-first, children by start time under their
/// parent (spans that start together keep the order they were given in). A span whose parent is missing is a root;
/// spans caught in a parent cycle (corrupt or hostile data) are walked as roots too, so nothing is hidden. Built
/// without recursion: a parent chain of any length is a tree like any other.
package struct SpanTree: Sendable {
    package struct Node: Sendable {
        package var span: FinishedSpan
        /// Index of the parent in ``SpanTree/nodes``; nil for a root.
        package var parent: Int?
        /// Indexes of the children in ``SpanTree/nodes``, by start time.
        package var children: [Int] = []
        package var depth: Int
    }

    /// Every span once, in depth-first order: a node's parent always comes before it.
    package private(set) var nodes: [Node] = []
    /// Indexes of the roots in ``nodes``, in order.
    package private(set) var roots: [Int] = []

    package init(_ spans: [FinishedSpan]) {
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
                let position = nodes.count
                if let parent {
                    nodes[parent].children.append(position)
                } else {
                    roots.append(position)
                }
                nodes.append(Node(span: sorted[index], parent: parent, depth: parent.map { nodes[$0].depth + 1 } ?? 0))
                for child in children[index].reversed() where !visited[child] { stack.append((child, position)) }
            }
        }
    }
}
