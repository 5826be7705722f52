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
            rootName: rootName, services: services, statistics: statistics, spanCount: spans.count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        var text = String(decoding: (try? encoder.encode(header)) ?? Data("{}".utf8), as: UTF8.self)
            .replacingOccurrences(of: "<", with: #"\u003c"#)
        text.removeLast()  // the closing brace: the outline follows
        text.reserveCapacity(text.utf8.count + spans.count * 72)

        var names: [String] = []
        var nameIndex: [String: Int] = [:]
        var kinds: [String] = []
        var kindIndex: [String: Int] = [:]
        for span in spans {
            if nameIndex[span.name] == nil {
                nameIndex[span.name] = names.count
                names.append(span.name)
            }
            if kindIndex[span.kind] == nil {
                kindIndex[span.kind] = kinds.count
                kinds.append(span.kind)
            }
        }
        text += #","outline":{"names":["#
        text += names.map(Self.scriptSafeQuoted).joined(separator: ",")
        text += #"],"kinds":["#
        text += kinds.map(Self.scriptSafeQuoted).joined(separator: ",")
        text += #"],"spanID":""#
        for span in spans { text += span.spanID }
        text += "\""
        func column(_ name: String, _ value: (Span) -> String) {
            text += ",\"\(name)\":["
            for index in spans.indices {
                if index > 0 { text += "," }
                text += value(spans[index])
            }
            text += "]"
        }
        column("parentIndex") { String($0.parentIndex) }
        column("depth") { String($0.depth) }
        column("serviceIndex") { String($0.serviceIndex) }
        column("nameIndex") { String(nameIndex[$0.name] ?? 0) }
        column("kindIndex") { String(kindIndex[$0.kind] ?? 0) }
        column("startMicros") { Self.number($0.startMicros) }
        column("durationMicros") { Self.number($0.durationMicros) }
        column("selfMicros") { Self.number($0.selfMicros) }
        // 0 unset, 1 ok, 2 error: OTLP's status codes.
        column("status") { $0.status == "error" ? "2" : $0.status == "ok" ? "1" : "0" }
        func sparse(_ name: String, _ value: (Span) -> String?) {
            text += ",\"\(name)\":{"
            var first = true
            for index in spans.indices {
                guard let entry = value(spans[index]) else { continue }
                text += first ? "\"\(index)\":" : ",\"\(index)\":"
                text += entry
                first = false
            }
            text += "}"
        }
        sparse("criticalPath") { span in
            span.criticalPath.isEmpty
                ? nil : "[" + span.criticalPath.map { "[" + $0.map(Self.number).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        }
        sparse("warnings") { span in
            span.warnings.isEmpty ? nil : "[" + span.warnings.map(Self.scriptSafeQuoted).joined(separator: ",") + "]"
        }
        // A parent id that names no span of the trace: the explorer shows it ("not in this trace").
        sparse("missingParentSpanID") { span in
            span.parentIndex < 0 && !span.parentSpanID.isEmpty ? "\"\(span.parentSpanID)\"" : nil
        }
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
        model.fillDetails(try await reader.spans(traceID, withIDs: spanIDs))
        return model
    }

}
