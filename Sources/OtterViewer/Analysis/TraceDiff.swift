import Otter

/// Two traces compared by structure and duration. Spans match by position: the roots of both, then under two
/// matched spans the n-th child with a given service and operation in one trace matches the n-th child with the same
/// service and operation in the other (children in start order). A span only in the second trace is added, one only
/// in the first is missing; a matched pair carries both durations.
struct TraceDiff {
    typealias Change = TraceComparison.Row.Change

    struct Row: Equatable {
        var depth: Int
        var service: String
        var operation: String
        /// The node in the first trace (`a`) and in the second (`b`); one is nil for an added or missing span.
        var a: Int?
        var b: Int?
        var durationA: UInt64?
        var durationB: UInt64?
        var change: Change {
            a == nil ? .added : (b == nil ? .missing : .matched)
        }

        /// The second duration less the first, for a matched pair.
        var difference: Int64? {
            guard let durationA, let durationB else { return nil }
            let a = Int64(clamping: durationA)
            let b = Int64(clamping: durationB)
            return b.subtractingReportingOverflow(a).overflow ? nil : b - a
        }

        /// The difference as a percentage of the first duration; nil when it is zero or the span is unmatched.
        var percentChange: Double? {
            guard let difference, let durationA, durationA > 0 else { return nil }
            return Double(difference) / Double(durationA) * 100
        }
    }

    /// Every span of both traces once: matched pairs, missing and added spans, in tree order of the first trace with
    /// added spans after the matched and missing siblings.
    var rows: [Row] = []

    var addedCount: Int { rows.filter { $0.change == .added }.count }
    var missingCount: Int { rows.filter { $0.change == .missing }.count }
    var matchedCount: Int { rows.filter { $0.change == .matched }.count }

    init(_ a: TraceTree<FinishedSpan>, _ b: TraceTree<FinishedSpan>) {
        // Siblings are matched as a group; the rows then come out depth first, each row's children matched when it
        // is emitted (a stack, not recursion).
        func emit(_ childrenA: [Int], _ childrenB: [Int], depth: Int) -> [(row: Row, childrenA: [Int], childrenB: [Int])] {
            var byKeyB: [String: [Int]] = [:]
            for child in childrenB { byKeyB[Self.key(b.nodes[child]), default: []].append(child) }
            var used: [String: Int] = [:]
            var result: [(row: Row, childrenA: [Int], childrenB: [Int])] = []
            var matchedB = Set<Int>()
            for child in childrenA {
                let node = a.nodes[child]
                let key = Self.key(node)
                let occurrence = used[key, default: 0]
                used[key] = occurrence + 1
                let partner = byKeyB[key].flatMap { occurrence < $0.count ? $0[occurrence] : nil }
                if let partner { matchedB.insert(partner) }
                result.append(
                    (
                        Row(
                            depth: depth, service: node.service, operation: node.span.operationName, a: child, b: partner,
                            durationA: node.duration, durationB: partner.map { b.nodes[$0].duration }),
                        node.children, partner.map { b.nodes[$0].children } ?? []
                    ))
            }
            for child in childrenB where !matchedB.contains(child) {
                let node = b.nodes[child]
                result.append(
                    (
                        Row(
                            depth: depth, service: node.service, operation: node.span.operationName, a: nil, b: child,
                            durationA: nil, durationB: node.duration), [], node.children
                    ))
            }
            return result
        }
        var pending = Array(emit(a.roots, b.roots, depth: 0).reversed())
        while let (row, childrenA, childrenB) = pending.popLast() {
            rows.append(row)
            pending.append(contentsOf: emit(childrenA, childrenB, depth: row.depth + 1).reversed())
        }
    }

    static func key(_ node: TraceTree<FinishedSpan>.Node) -> String {
        node.service + "\u{0}" + node.span.operationName
    }
}
