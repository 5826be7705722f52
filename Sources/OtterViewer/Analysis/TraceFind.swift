import Otter

/// Find in a trace as the explorer's find (`find.mjs`) and Jaeger's uiFind: words separated by spaces, a span matching
/// when any word is in its text and no word written `-word` is; the text is the span's name, service, span id,
/// attribute keys and values, event names and attributes and its resource, lower-cased. The explorer of a big trace,
/// which holds only the spans' outline, asks the server (`/api/otter/traces/{id}/find`).
struct TraceFind {
    /// The longest query taken, in characters.
    static let maximumQueryLength = 1_000

    private let wanted: [String]
    private let unwanted: [String]

    /// Nil for a query without words.
    init?(_ query: String) {
        // NUL separates the parts of a span's text: a query cannot hold one (it would match across parts).
        let words = query.lowercased().filter { $0 != "\u{0}" }.split(whereSeparator: \.isWhitespace).map(String.init)
            .filter { $0 != "-" }
        guard !words.isEmpty else { return nil }
        wanted = words.filter { !$0.hasPrefix("-") }
        unwanted = words.filter { $0.hasPrefix("-") }.map { String($0.dropFirst()) }
    }

    func matches(_ span: FinishedSpan) -> Bool {
        var parts = [span.operationName, span.resource.serviceNameOrUnknown, span.spanContext.spanID.hexString]
        for row in AttributeText.displayRows(span.attributes) { parts += [row.key, row.value] }
        for event in span.events {
            parts.append(event.name)
            for row in AttributeText.displayRows(event.attributes) { parts += [row.key, row.value] }
        }
        for row in AttributeText.displayRows(span.resource.attributes) { parts += [row.key, row.value] }
        let haystack = parts.joined(separator: "\u{0}").lowercased()
        return (wanted.isEmpty || wanted.contains { haystack.contains($0) }) && !unwanted.contains { haystack.contains($0) }
    }
}
