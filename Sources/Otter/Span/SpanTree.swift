/// The order in which a trace is shown as a tree, in one place for the console's `tree` style and the viewer's
/// trace page.
package enum SpanTree {
    /// Spans in depth-first order, children by start time under their parent, with their depth. Iterative, so a
    /// parent chain of any length is fine; spans whose parent is missing are roots; spans caught in a parent cycle
    /// (corrupt or hostile data) are shown as roots too, so nothing stored is hidden.
    package static func depthFirst(_ spans: [FinishedSpan]) -> [(span: FinishedSpan, depth: Int)] {
        let sorted = spans.sorted { $0.startTimeNanosecondsSinceEpoch < $1.startTimeNanosecondsSinceEpoch }
        var indexByID: [SpanID: Int] = [:]
        for (index, span) in sorted.enumerated() where indexByID[span.spanContext.spanID] == nil {
            indexByID[span.spanContext.spanID] = index
        }
        var children: [[Int]] = Array(repeating: [], count: sorted.count)
        var roots: [Int] = []
        for (index, span) in sorted.enumerated() {
            if let parent = span.parentSpanContext, let parentIndex = indexByID[parent.spanID], parentIndex != index {
                children[parentIndex].append(index)
            } else {
                roots.append(index)
            }
        }
        var visited = [Bool](repeating: false, count: sorted.count)
        var order: [(span: FinishedSpan, depth: Int)] = []
        order.reserveCapacity(sorted.count)
        func walk(from root: Int) {
            var stack = [(root, 0)]
            while let (index, depth) = stack.popLast() {
                guard !visited[index] else { continue }
                visited[index] = true
                order.append((sorted[index], depth))
                for child in children[index].reversed() where !visited[child] { stack.append((child, depth + 1)) }
            }
        }
        for root in roots { walk(from: root) }
        for index in sorted.indices where !visited[index] { walk(from: index) }
        return order
    }
}
