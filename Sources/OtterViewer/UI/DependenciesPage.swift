import Foundation
import Otter
import Tracing

/// The services that call each other, as a layered graph: callers left of callees (each service one column right of
/// its furthest caller, cycles cut), services in a column ordered by their callers' positions, edges as curves as
/// thick as the log of their call count, nodes in the services' colours; and the same edges as a table.
struct DependenciesPage {
    struct Node {
        var name: String
        /// The name, shortened to fit its box.
        var label: String
        var searchURL: String
        var x: Int
        var y: Int
        var width: Int
        var color: String
    }

    struct Edge {
        var parent: String
        var child: String
        var parentSearch: String
        var childSearch: String
        var callCount: Int
        var path: String
        var strokeWidth: String
        var labelX: Int
        var labelY: Int
    }

    static let lookbacks: [(value: String, label: String, seconds: UInt64)] = [
        ("1h", "Last hour", 3600), ("6h", "Last 6 hours", 6 * 3600), ("24h", "Last 24 hours", 24 * 3600), ("48h", "Last 2 days", 48 * 3600),
        ("168h", "Last 7 days", 168 * 3600),
    ]

    var lookbacks: [FormOption]
    var nodes: [Node] = []
    var edges: [Edge] = []
    var hasEdges = false
    var width = 0
    var height = 0

    static let columnWidth = 230
    static let rowHeight = 80
    static let nodeHeight = 34

    init(lookback: String, store: any TraceStore, nowNanoseconds: UInt64) async throws {
        let choice = Self.lookbacks.first { $0.value == lookback } ?? Self.lookbacks[2]
        lookbacks = Self.lookbacks.map { FormOption(value: $0.value, label: $0.label, selected: $0.value == choice.value) }
        let dependencies = try await store.dependencies(
            startNanoseconds: nowNanoseconds - min(nowNanoseconds, choice.seconds * 1_000_000_000), endNanoseconds: nowNanoseconds)
        let colors = try await store.serviceColors()
        let layout = Self.layers(dependencies)
        var position: [String: (x: Int, y: Int)] = [:]
        for (column, names) in layout.enumerated() {
            for (row, name) in names.enumerated() {
                position[name] = (20 + column * Self.columnWidth, 20 + row * Self.rowHeight)
                nodes.append(
                    Node(
                        name: name, label: name.count > 22 ? String(name.prefix(21)) + "…" : name,
                        searchURL: "/search?service=" + ViewerUI.queryValue(name), x: 20 + column * Self.columnWidth,
                        y: 20 + row * Self.rowHeight, width: Self.columnWidth - 70, color: colors[name] ?? "#999"))
            }
        }
        width = 40 + max(layout.count, 1) * Self.columnWidth - 70
        height = 40 + (layout.map(\.count).max() ?? 1) * Self.rowHeight - (Self.rowHeight - Self.nodeHeight)
        let nodeWidth = Self.columnWidth - 70
        edges = dependencies.compactMap { dependency in
            guard let from = position[dependency.parent], let to = position[dependency.child] else { return nil }
            let startX = from.x + nodeWidth
            let startY = from.y + Self.nodeHeight / 2
            let endY = to.y + Self.nodeHeight / 2
            let path: String
            if to.x > from.x {
                let endX = to.x - 4
                let bend = (endX - startX) / 2
                path = "M \(startX) \(startY) C \(startX + bend) \(startY), \(endX - bend) \(endY), \(endX) \(endY)"
            } else {
                // A call back to the same or an earlier column (a cycle): a loop below the nodes.
                let endX = to.x + nodeWidth / 2
                let below = max(from.y, to.y) + Self.nodeHeight + 30
                path = "M \(startX) \(startY) C \(startX + 40) \(below), \(endX) \(below), \(endX) \(to.y + Self.nodeHeight + 4)"
            }
            let thickness = min(1.5 + 1.5 * log10(Double(max(dependency.callCount, 1))), 8)
            return Edge(
                parent: dependency.parent, child: dependency.child,
                parentSearch: "/search?service=" + ViewerUI.queryValue(dependency.parent),
                childSearch: "/search?service=" + ViewerUI.queryValue(dependency.child), callCount: dependency.callCount, path: path,
                strokeWidth: String((thickness * 10).rounded() / 10), labelX: (startX + max(to.x, startX)) / 2,
                labelY: (startY + endY) / 2 - 6)
        }
        hasEdges = !edges.isEmpty
        height = max(height, (nodes.map(\.y).max() ?? 0) + Self.nodeHeight + 80)
    }

    /// Services in columns: a service sits one column right of its furthest caller (longest path from a service no
    /// one calls); an edge that would close a cycle is not followed. Within a column, services are ordered by the mean
    /// row of their callers, then by name.
    static func layers(_ dependencies: [ServiceDependency]) -> [[String]] {
        let names = Set(dependencies.flatMap { [$0.parent, $0.child] }).sorted()
        var callers: [String: [String]] = [:]
        var callees: [String: [String]] = [:]
        for dependency in dependencies where dependency.parent != dependency.child {
            callers[dependency.child, default: []].append(dependency.parent)
            callees[dependency.parent, default: []].append(dependency.child)
        }
        // Depth-first from each service no one calls (then from any left, for pure cycles), iteratively; an edge to a
        // service on the current path is a back edge and is ignored.
        var column: [String: Int] = [:]
        var order: [String] = []
        var state: [String: Int] = [:]  // 1 on the path, 2 done
        let starts = names.filter { callers[$0] == nil } + names
        for start in starts where state[start] == nil {
            var stack: [(name: String, next: Int)] = [(start, 0)]
            state[start] = 1
            while let top = stack.last {
                let children = callees[top.name] ?? []
                if top.next < children.count {
                    stack[stack.count - 1].next += 1
                    let child = children[top.next]
                    if state[child] == nil {
                        state[child] = 1
                        stack.append((child, 0))
                    }
                } else {
                    state[top.name] = 2
                    order.append(top.name)
                    stack.removeLast()
                }
            }
        }
        // Reverse post-order is a topological order of the graph without its back edges.
        let topological = Array(order.reversed())
        let rank = Dictionary(uniqueKeysWithValues: topological.enumerated().map { ($1, $0) })
        for name in topological {
            let forwardCallers = (callers[name] ?? []).filter { (rank[$0] ?? 0) < (rank[name] ?? 0) }
            column[name] = (forwardCallers.compactMap { column[$0] }.max() ?? -1) + 1
        }
        var layers = [[String]](repeating: [], count: (column.values.max() ?? 0) + 1)
        var row: [String: Double] = [:]
        for index in layers.indices {
            let members = names.filter { column[$0] == index }
            let placed = members.map { name -> (String, Double) in
                let rows = (callers[name] ?? []).compactMap { row[$0] }
                return (name, rows.isEmpty ? 0 : rows.reduce(0, +) / Double(rows.count))
            }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            layers[index] = placed.map(\.0)
            for (position, name) in layers[index].enumerated() { row[name] = Double(position) }
        }
        return layers.filter { !$0.isEmpty }
    }
}
