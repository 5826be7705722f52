import Foundation
import Otter

extension TraceModel {
    /// The model as JSON for the explorer with the spans as columns (`"outline"`: one array per field, operation names
    /// and kinds once, span ids concatenated, critical-path segments, warnings and missing parents' ids only where a
    /// span has them) instead of one object per span: about a fifth of the size, written without an encoder. The
    /// explorer expands it (`model.mjs`) and reads the spans' details as it shows them. Every `<` is written `\u003c`,
    /// so the text can be embedded in a `<script>` block.
    func outlineJSON() -> String {
        struct Header: Encodable {
            var traceID: String
            var startTimeUnixMicros: Double
            var durationMicros: Double
            var rootService: String
            var rootName: String
            var services: [Service]
            var statistics: [Statistic]
            var spanCount: Int
        }
        let header = Header(
            traceID: traceID, startTimeUnixMicros: startTimeUnixMicros, durationMicros: durationMicros, rootService: rootService,
            rootName: rootName, services: services, statistics: statistics, spanCount: spanCount)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        var text = String(decoding: (try? encoder.encode(header)) ?? Data("{}".utf8), as: UTF8.self)
            .replacingOccurrences(of: "<", with: #"\u003c"#)
        text.removeLast()  // the closing brace: the outline follows
        text.reserveCapacity(text.utf8.count + spanCount * 72)

        var names: [String] = []
        var nameIndex: [String: Int] = [:]
        var kinds: [String] = []
        var kindIndex: [String: Int] = [:]
        // One pass over the spans, a text per column (and per sparse map), joined after.
        var spanIDs = ""
        spanIDs.reserveCapacity(spanCount * 16)
        var columns = [String](repeating: "", count: 9)
        var critical = ""
        var warnings = ""
        var missingParents = ""
        func sparse(_ text: inout String, _ index: Int, _ entry: String) {
            text += text.isEmpty ? "\"\(index)\":" : ",\"\(index)\":"
            text += entry
        }
        // Straight from the tree (what ``outlineSpan(at:)`` gives, without making a span object per row).
        let traceStart = startNanoseconds
        func micros(_ nanoseconds: UInt64) -> String { Self.number(Double(nanoseconds) / 1_000) }
        for index in 0..<spanCount {
            let node = tree.nodes[index]
            let outline = node.span
            let nameNumber: Int
            if let known = nameIndex[outline.operationName] {
                nameNumber = known
            } else {
                nameNumber = names.count
                nameIndex[outline.operationName] = nameNumber
                names.append(outline.operationName)
            }
            let kind = SpanKindName(outline.kind).rawValue
            let kindNumber: Int
            if let known = kindIndex[kind] {
                kindNumber = known
            } else {
                kindNumber = kinds.count
                kindIndex[kind] = kindNumber
                kinds.append(kind)
            }
            spanIDs += outline.spanID.hexString
            let separator = index > 0 ? "," : ""
            func add(_ column: Int, _ value: String) {
                columns[column] += separator
                columns[column] += value
            }
            add(0, String(node.parent ?? -1))
            add(1, String(node.depth))
            add(2, String(serviceIndexByName[node.service] ?? 0))
            add(3, String(nameNumber))
            add(4, String(kindNumber))
            add(5, micros(node.start - min(node.start, traceStart)))
            add(6, micros(node.duration))
            add(7, micros(tree.selfTime(of: index)))
            // 0 unset, 1 ok, 2 error: OTLP's status codes.
            add(8, outline.statusCode.map { $0 == .ok ? "1" : "2" } ?? "0")
            if let segments = criticalPaths[index], !segments.isEmpty {
                sparse(
                    &critical, index,
                    "[" + segments.map { "[" + $0.map(Self.number).joined(separator: ",") + "]" }.joined(separator: ",") + "]")
            }
            if let spanWarnings = warningsByIndex[index], !spanWarnings.isEmpty {
                sparse(&warnings, index, "[" + spanWarnings.map(Self.scriptSafeQuoted).joined(separator: ",") + "]")
            }
            // A parent id that names no span of the trace: the explorer shows it ("not in this trace").
            if node.parent == nil, let parent = outline.parentSpanID { sparse(&missingParents, index, "\"\(parent.hexString)\"") }
        }
        text += #","outline":{"names":["#
        text += names.map(Self.scriptSafeQuoted).joined(separator: ",")
        text += #"],"kinds":["#
        text += kinds.map(Self.scriptSafeQuoted).joined(separator: ",")
        text += #"],"spanID":""#
        text += spanIDs
        text += "\""
        let columnNames = [
            "parentIndex", "depth", "serviceIndex", "nameIndex", "kindIndex", "startMicros", "durationMicros", "selfMicros", "status",
        ]
        for (name, column) in zip(columnNames, columns) { text += ",\"\(name)\":[\(column)]" }
        text += ",\"criticalPath\":{\(critical)},\"warnings\":{\(warnings)},\"missingParentSpanID\":{\(missingParents)}"
        text += "}}"
        return text
    }

    /// A JSON string whose `<` is written `\u003c`.
    private static func scriptSafeQuoted(_ value: String) -> String {
        let quoted = JSONText.quoted(value)
        return quoted.utf8.contains(UInt8(ascii: "<")) ? quoted.replacingOccurrences(of: "<", with: #"\u003c"#) : quoted
    }

    /// A finite microsecond count, integral ones without a fraction.
    private static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

extension TraceModel {
    /// The model of a stored trace for its page: read in full when it has at most `spanLimit` spans; beyond that (and
    /// when the store reads outlines) from its outline, with the spans of tree positions `rows` read in full for the
    /// page without JavaScript. Nil when the trace is unknown.
    static func read(
        _ traceID: TraceID, from store: any TraceReader, colors: [String: String], spanLimit: Int, rows: Range<Int>
    ) async throws -> TraceModel? {
        guard let reader = store as? any TraceOutlineReader else {
            return TraceModel(spans: try await store.trace(traceID), colors: colors)
        }
        let outline = try await reader.outline(traceID)
        guard outline.count > spanLimit else { return TraceModel(spans: try await store.trace(traceID), colors: colors) }
        guard var model = TraceModel(traceID: traceID, outline: outline, colors: colors) else { return nil }
        let shown = rows.clamped(to: model.tree.nodes.indices)
        let spanIDs = Set(model.tree.nodes[shown].map(\.span.spanID))
        model.fillDetails(try await reader.spans(traceID, withIDs: spanIDs), at: shown)
        return model
    }

}
