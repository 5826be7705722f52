import Otter
import Tracing

/// Two traces side by side as one tree (``TraceDiff``): each matched span with its duration in both and the
/// difference, spans only in B marked added, spans only in A marked missing.
struct ComparePage {
    struct Row {
        var indent: Int
        var service: String
        var color: String
        var operation: String
        var change: String
        var durationA: String
        var durationB: String
        var difference: String
        var trend: String
    }

    var a = ""
    var b = ""
    var message: String?
    var compared = false
    var rows: [Row] = []
    var summary = ""
    var rootA = ""
    var rootB = ""

    init(_ form: QueryParameters, store: any TraceStore) async throws {
        // `a` and `b`, or two `trace` values (the search page's checkboxes).
        let picked = form.getAll("trace").filter { !$0.isEmpty }
        a = form.get("a") ?? (picked.count > 0 ? picked[0] : "")
        b = form.get("b") ?? (picked.count > 1 ? picked[1] : "")
        if !picked.isEmpty, picked.count != 2 {
            message = "Select exactly two traces to compare (\(picked.count) selected)."
            return
        }
        guard !a.isEmpty, !b.isEmpty else { return }
        guard let idA = TraceIDText.parse(a), let idB = TraceIDText.parse(b) else {
            message = "Trace ids are 32 hexadecimal digits."
            return
        }
        var spansA = try await store.trace(idA)
        var spansB = try await store.trace(idB)
        // Picked on the search page, the earlier trace is the baseline (A).
        if !picked.isEmpty, let startA = spansA.first?.startTimeNanosecondsSinceEpoch,
            let startB = spansB.first?.startTimeNanosecondsSinceEpoch,
            startB < startA
        {
            swap(&spansA, &spansB)
            swap(&a, &b)
        }
        guard !spansA.isEmpty, !spansB.isEmpty else {
            message = "No spans are stored for trace \(spansA.isEmpty ? a : b)."
            return
        }
        compared = true
        let colors = try await store.serviceColors()
        let treeA = TraceTree(spans: spansA)
        let treeB = TraceTree(spans: spansB)
        let diff = TraceDiff(treeA, treeB)
        let text = { (nanoseconds: UInt64?) in nanoseconds.map { TimestampFormatting.humanDuration(nanoseconds: $0) } ?? "" }
        rows = diff.rows.map { row in
            Row(
                indent: 8 + min(row.depth, 16) * 16, service: row.service, color: colors[row.service] ?? "#999", operation: row.operation,
                change: row.change.rawValue, durationA: text(row.durationA), durationB: text(row.durationB),
                difference: Self.differenceText(row), trend: Self.trend(row))
        }
        let totalA = treeA.end - treeA.start
        let totalB = treeB.end - treeB.start
        rootA = "\(treeA.nodes[treeA.roots[0]].service): \(treeA.nodes[treeA.roots[0]].span.operationName)"
        rootB = "\(treeB.nodes[treeB.roots[0]].service): \(treeB.nodes[treeB.roots[0]].span.operationName)"
        summary =
            "\(diff.matchedCount) matched, \(diff.addedCount) added, \(diff.missingCount) missing · duration \(text(totalA)) → \(text(totalB))"
            + (totalA > 0
                ? " (\(Self.signedPercent(Double(Int64(clamping: totalB) - Int64(clamping: totalA)) / Double(totalA) * 100)))" : "")
    }

    static func differenceText(_ row: TraceDiff.Row) -> String {
        guard let difference = row.difference else { return "" }
        let magnitude = TimestampFormatting.humanDuration(nanoseconds: difference.magnitude)
        let sign = difference > 0 ? "+" : (difference < 0 ? "−" : "±")
        return sign + magnitude + (row.percentChange.map { " (\(signedPercent($0)))" } ?? "")
    }

    /// `slower` or `faster` beyond 10 % (what the page colours), else empty.
    static func trend(_ row: TraceDiff.Row) -> String {
        guard let percent = row.percentChange else { return "" }
        return percent > 10 ? "slower" : (percent < -10 ? "faster" : "")
    }

    static func signedPercent(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        let rounded = Int(value.rounded())
        return (rounded > 0 ? "+" : "") + "\(rounded) %"
    }
}
