import Foundation
import Otter

/// Two traces compared by structure and duration, for `otter diff`: spans matched as the compare page matches them
/// (service, operation and position under matched parents), spans added and missing, and the matched spans that
/// got slower.
package struct TraceComparison: Sendable {
    /// When the second trace counts as too different from the first.
    package struct Thresholds: Sendable, Equatable {
        /// Added plus missing spans allowed.
        package var maximumSpanChanges: Int
        /// A matched span slower by more than this percentage fails; nil judges no durations.
        package var maximumSlowdownPercent: Double?
        /// Spans shorter than this in the first trace are not judged by duration (their noise is large).
        package var minimumDurationNanoseconds: UInt64
        /// Matched spans that are errors in the second trace and were not in the first.
        package var maximumNewErrors: Int

        package init(
            maximumSpanChanges: Int = 0, maximumSlowdownPercent: Double? = nil, minimumDurationNanoseconds: UInt64 = 1_000_000,
            maximumNewErrors: Int = 0
        ) {
            self.maximumSpanChanges = maximumSpanChanges
            self.maximumSlowdownPercent = maximumSlowdownPercent
            self.minimumDurationNanoseconds = minimumDurationNanoseconds
            self.maximumNewErrors = maximumNewErrors
        }
    }

    /// One span of either trace, in the order of the printed diff.
    package struct Row: Sendable, Equatable {
        package enum Change: String, Sendable { case matched, added, missing }
        package var change: Change
        package var depth: Int
        package var service: String
        package var operation: String
        /// The span's kind in the first trace (the second's for an added span), and in the second.
        package var kind: String
        package var kindB: String?
        /// Whether the span's status is error in each trace (false where it is absent).
        package var isErrorA: Bool
        package var isErrorB: Bool
        package var durationA: UInt64?
        package var durationB: UInt64?
        /// B's duration against A's, in percent; nil for an unmatched span or a zero first duration.
        package var percentChange: Double?
    }

    package let rows: [Row]
    package let spanCountA: Int
    package let spanCountB: Int

    package init(_ a: [FinishedSpan], _ b: [FinishedSpan]) {
        let treeA = TraceTree(spans: a)
        let treeB = TraceTree(spans: b)
        spanCountA = a.count
        spanCountB = b.count
        rows = TraceDiff(treeA, treeB).rows.map { row in
            let nodeA = row.a.map { treeA.nodes[$0] }
            let nodeB = row.b.map { treeB.nodes[$0] }
            return Row(
                change: row.change, depth: row.depth, service: row.service, operation: row.operation,
                kind: (nodeA ?? nodeB).map { "\($0.span.kind)".lowercased() } ?? "internal",
                kindB: nodeB.map { "\($0.span.kind)".lowercased() }, isErrorA: nodeA?.span.status?.code == .error,
                isErrorB: nodeB?.span.status?.code == .error, durationA: row.durationA, durationB: row.durationB,
                percentChange: row.percentChange)
        }
    }

    package var addedCount: Int { rows.count { $0.change == .added } }
    package var missingCount: Int { rows.count { $0.change == .missing } }
    package var matchedCount: Int { rows.count { $0.change == .matched } }

    /// Matched spans that are errors in the second trace and were not in the first.
    package var newErrors: [Row] { rows.filter { $0.change == .matched && $0.isErrorB && !$0.isErrorA } }

    /// Matched spans at least `minimumDurationNanoseconds` long in the first trace and slower by more than
    /// `maximumSlowdownPercent`.
    package func slowdowns(_ thresholds: Thresholds) -> [Row] {
        rows.filter { Self.isSlowdown($0, thresholds) }
    }

    private static func isSlowdown(_ row: Row, _ thresholds: Thresholds) -> Bool {
        guard let limit = thresholds.maximumSlowdownPercent, let durationA = row.durationA, let durationB = row.durationB,
            durationA >= thresholds.minimumDurationNanoseconds
        else { return false }
        // From nothing to something is slower by any percentage.
        guard let percent = row.percentChange else { return durationA == 0 && durationB > 0 }
        return percent > limit
    }

    /// Why the second trace is too different from the first; empty when it is within the thresholds.
    package func violations(_ thresholds: Thresholds) -> [String] {
        var reasons: [String] = []
        let changes = addedCount + missingCount
        if changes > thresholds.maximumSpanChanges {
            reasons.append(
                "\(changes) span\(changes == 1 ? "" : "s") added or missing (at most \(thresholds.maximumSpanChanges) allowed)")
        }
        let errors = newErrors.count
        if errors > thresholds.maximumNewErrors {
            reasons.append(
                "\(errors) span\(errors == 1 ? "" : "s") newly an error (at most \(thresholds.maximumNewErrors) allowed)")
        }
        let slower = slowdowns(thresholds)
        if let limit = thresholds.maximumSlowdownPercent, !slower.isEmpty {
            reasons.append(
                "\(slower.count) span\(slower.count == 1 ? "" : "s") slower by more than \(Self.number(limit)) % "
                    + "(of those taking \(TimestampFormatting.humanDuration(nanoseconds: thresholds.minimumDurationNanoseconds)) or more)")
        }
        return reasons
    }

    /// The diff as text: one line per span, `+` added, `-` missing, `!` slower beyond the threshold; both durations and
    /// the change; then counts per operation and the verdict.
    package func report(_ thresholds: Thresholds, nameA: String = "A", nameB: String = "B") -> String {
        let labels = rows.map { row in
            let kind = row.kindB.map { $0 == row.kind || row.change != .matched ? $0 : "\(row.kind)→\($0)" } ?? row.kind
            return String(repeating: "  ", count: min(row.depth, 20))
                + "\(LineText.escaped(row.operation)) [\(kind)] \(LineText.escaped(row.service))"
        }
        let width = min(72, labels.map(\.count).max() ?? 0)
        func spans(_ count: Int) -> String { "\(count) span\(count == 1 ? "" : "s")" }
        var text = "--- \(LineText.escaped(nameA)): \(spans(spanCountA))\n+++ \(LineText.escaped(nameB)): \(spans(spanCountB))\n"
        for (row, label) in zip(rows, labels) {
            let marker: String
            switch row.change {
            case .added: marker = "+"
            case .missing: marker = "-"
            case .matched: marker = Self.isSlowdown(row, thresholds) ? "!" : " "
            }
            let padded = label.count < width ? label + String(repeating: " ", count: width - label.count) : label
            let a = row.durationA.map { TimestampFormatting.humanDuration(nanoseconds: $0) } ?? "—"
            let b = row.durationB.map { TimestampFormatting.humanDuration(nanoseconds: $0) } ?? "—"
            var line = "\(marker) \(padded)  \(a) → \(b)"
            switch row.change {
            case .added: line += "  added"
            case .missing: line += "  missing"
            case .matched: if let percent = row.percentChange { line += "  \(percent >= 0 ? "+" : "")\(Self.number(percent)) %" }
            }
            if row.isErrorB && !row.isErrorA && row.change == .matched { line += "  now an error" }
            if row.isErrorA && !row.isErrorB && row.change == .matched { line += "  no longer an error" }
            text += line + "\n"
        }
        text += "\n" + summary(thresholds) + "\n"
        return text
    }

    /// Counts, the operations whose number of spans changed, and the verdict.
    func summary(_ thresholds: Thresholds) -> String {
        var text = "\(matchedCount) matched, \(addedCount) added, \(missingCount) missing"
        if !newErrors.isEmpty { text += ", \(newErrors.count) newly an error" }
        var delta: [String: Int] = [:]
        for row in rows where row.change != .matched {
            delta["\(LineText.escaped(row.operation)) (\(LineText.escaped(row.service)))", default: 0] += row.change == .added ? 1 : -1
        }
        // Most added first, then most missing; names in alphabetical order within a count.
        let changed = delta.filter { $0.value != 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        if !changed.isEmpty {
            text += "\n" + changed.map { "  \($0.value > 0 ? "+" : "")\($0.value) \($0.key)" }.joined(separator: "\n")
        }
        let reasons = violations(thresholds)
        text += reasons.isEmpty ? "\nwithin the thresholds" : "\nbeyond the thresholds: " + reasons.joined(separator: "; ")
        return text
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
    }

    /// The traces in a file of OTLP JSON (a request, the viewer's api_v3 answer, or JSON Lines) or Jaeger JSON.
    package static func traces(inFile data: Data) throws -> [[FinishedSpan]] {
        try TraceFile.traces(data)
    }
}
