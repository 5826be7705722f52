import Otter

/// Per service and operation in one trace: how many spans, their total, self, average, shortest and longest
/// durations (nanoseconds). Self time is a span's duration less the time its children cover.
struct TraceStatistics {
    struct Row: Equatable {
        var service: String
        var operation: String
        var count: Int
        var total: UInt64
        var selfTime: UInt64
        var minimum: UInt64
        var maximum: UInt64

        var average: UInt64 { count > 0 ? total / UInt64(count) : 0 }
    }

    /// Rows by total time, longest first (then by service and operation).
    var rows: [Row]

    init<Span>(_ tree: TraceTree<Span>) {
        var byKey: [String: Row] = [:]
        var order: [String] = []
        for index in tree.nodes.indices {
            let node = tree.nodes[index]
            let key = node.service + "\u{0}" + node.span.operationName
            let selfTime = tree.selfTime(of: index)
            if var row = byKey[key] {
                row.count += 1
                row.total = row.total.addingReportingOverflow(node.duration).overflow ? .max : row.total + node.duration
                row.selfTime = row.selfTime.addingReportingOverflow(selfTime).overflow ? .max : row.selfTime + selfTime
                row.minimum = min(row.minimum, node.duration)
                row.maximum = max(row.maximum, node.duration)
                byKey[key] = row
            } else {
                order.append(key)
                byKey[key] = Row(
                    service: node.service, operation: node.span.operationName, count: 1, total: node.duration, selfTime: selfTime,
                    minimum: node.duration, maximum: node.duration)
            }
        }
        rows = order.compactMap { byKey[$0] }.sorted {
            ($1.total, $0.service, $0.operation) < ($0.total, $1.service, $1.operation)
        }
    }
}
