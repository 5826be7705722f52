/// The spans of one or more traces as trees, in the order they are shown everywhere (the console's `tree` style,
/// OtterTesting's ``RecordedTrace`` and the viewer's trace page): depth-first, children by start time under their
/// parent (spans that start together keep the order they were given in). A span whose parent is missing is a root;
/// spans caught in a parent cycle (corrupt or hostile data) are walked as roots too, so nothing is hidden. Built
/// without recursion: a parent chain of any length is a tree like any other.
///
/// Generic over what a span is (a ``FinishedSpan``, or the viewer's outline of a stored span): the order only needs
/// each span's id, parent id and start.
package struct SpanTree<Span: TreeOrderedSpan>: Sendable {
    package struct Node: Sendable {
        package var span: Span
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

    package init(_ spans: [Span]) {
        // Each span's keys read once: the sort compares plain integers, not spans (the viewer's outline of a
        // million-span trace spent most of its tree's time copying spans in the comparisons).
        var keyed = spans.indices.map { (start: spans[$0].treeStart, index: $0) }
        keyed.sort { ($0.start, $0.index) < ($1.start, $1.index) }
        let order = keyed.map(\.index)
        keyed = []
        let ids = order.map { spans[$0].treeSpanID }
        var indexByID: [SpanID: Int] = [:]
        indexByID.reserveCapacity(order.count)
        for (index, id) in ids.enumerated() where indexByID[id] == nil {
            indexByID[id] = index
        }
        var children = [[Int]](repeating: [], count: order.count)
        var sortedRoots: [Int] = []
        for (index, original) in order.enumerated() {
            if let parent = spans[original].treeParentSpanID, let parentIndex = indexByID[parent], parentIndex != index {
                children[parentIndex].append(index)
            } else {
                sortedRoots.append(index)
            }
        }
        var visited = [Bool](repeating: false, count: order.count)
        nodes.reserveCapacity(order.count)
        // Roots first, then whatever a parent cycle kept unreached, each walked as a root.
        for first in sortedRoots + Array(order.indices) where !visited[first] {
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
                nodes.append(Node(span: spans[order[index]], parent: parent, depth: parent.map { nodes[$0].depth + 1 } ?? 0))
                for child in children[index].reversed() where !visited[child] { stack.append((child, position)) }
            }
        }
    }
}

/// What ``SpanTree`` orders spans by: the span's id, its parent's id and its start.
package protocol TreeOrderedSpan: Sendable {
    var treeSpanID: SpanID { get }
    var treeParentSpanID: SpanID? { get }
    /// Nanoseconds since the epoch.
    var treeStart: UInt64 { get }
}

extension FinishedSpan: TreeOrderedSpan {
    package var treeSpanID: SpanID { spanContext.spanID }
    package var treeParentSpanID: SpanID? { parentSpanContext?.spanID }
    package var treeStart: UInt64 { startTimeNanosecondsSinceEpoch }
}
