import Foundation
import Otter
import Tracing

/// How a recorded trace is written as a golden file: a tree of names and kinds, then each span's status, attributes
/// (sorted by key), events, links and log records (severity and message), with nothing that changes from run to run. Recorded trace and span ids become
/// `<trace id of ROOT NAME>` and `<span id of NAME>` wherever they appear; times are left out; durations are left out
/// or put in buckets; siblings are sorted by their own text, so concurrent children come out the same every run.
public struct GoldenTraceOptions: Sendable {
    /// Whether span durations appear in the golden text.
    public enum Durations: Sendable {
        /// No durations (the default: they change from run to run).
        case omitted
        /// Each span's duration as a power-of-ten bucket (`1 ms..10 ms`); a span near a bucket's edge can move.
        case bucketed
    }

    /// A text replaced wherever it appears in a name, value or message: a literal, or a regular expression.
    public struct Replacement: Sendable {
        /// The text to replace, or with ``isRegularExpression``, the regular expression whose matches are replaced. An empty
        /// literal replaces nothing; an invalid expression makes the comparison throw.
        public var pattern: String
        /// True when ``pattern`` is a regular expression; false when it is literal text.
        public var isRegularExpression: Bool
        /// What each occurrence or match is replaced with.
        public var placeholder: String

        /// Replaces every `text` with `placeholder`.
        public static func text(_ text: String, with placeholder: String) -> Replacement {
            Replacement(pattern: text, isRegularExpression: false, placeholder: placeholder)
        }

        /// Replaces every match of the regular expression `pattern` with `placeholder`.
        public static func matches(of pattern: String, with placeholder: String) -> Replacement {
            Replacement(pattern: pattern, isRegularExpression: true, placeholder: placeholder)
        }
    }

    /// Whether durations are written; ``GoldenTraceOptions/Durations/omitted`` by default.
    public var durations: Durations
    /// Attributes whose values are written as `<redacted>` (a port, a temporary path).
    public var redactedAttributes: Set<String>
    /// Attributes left out altogether.
    public var ignoredAttributes: Set<String>
    /// Texts replaced after ids have become placeholders: first every literal one, then every regular expression, each
    /// group in the order given.
    public var replacements: [Replacement]

    /// Makes options; by default durations are left out and every attribute is written as recorded, with no replacements.
    public init(
        durations: Durations = .omitted, redactedAttributes: Set<String> = [], ignoredAttributes: Set<String> = [],
        replacements: [Replacement] = []
    ) {
        self.durations = durations
        self.redactedAttributes = redactedAttributes
        self.ignoredAttributes = ignoredAttributes
        self.replacements = replacements
    }
}

/// Writes a ``RecordedTrace`` in its stable golden form.
struct GoldenTraceWriter {
    let trace: RecordedTrace
    let options: GoldenTraceOptions
    /// Lower-case hex id (16 or 32 digits) to its placeholder.
    private var placeholders: [String: String] = [:]
    private var regularExpressions: [(Regex<AnyRegexOutput>, String)] = []

    /// A golden file is for a shape a person reads and reviews; bigger traces are refused, not written.
    static let maximumSpans = 10_000
    static let maximumDepth = 100

    init(trace: RecordedTrace, options: GoldenTraceOptions) throws {
        guard trace.count <= Self.maximumSpans else { throw GoldenTraceError.tooLarge(spans: trace.count) }
        if let depth = trace.storage.depths.max(), depth > Self.maximumDepth { throw GoldenTraceError.tooDeep(depth: depth) }
        self.trace = trace
        self.options = options
        var rootNames: [TraceID: String] = [:]
        for root in trace.roots where rootNames[root.traceID] == nil { rootNames[root.traceID] = root.name }
        // Ids from outside the recording (a remote parent, a link) change every run too.
        for span in trace {
            if let parent = span.finishedSpan.parentSpanContext, span.parent == nil {
                placeholders[parent.spanID.hexString] = "<span id outside the recording>"
            }
            for link in span.links {
                placeholders[link.spanContext.spanID.hexString] = "<span id outside the recording>"
                placeholders[link.spanContext.traceID.hexString] = "<trace id outside the recording>"
            }
        }
        for span in trace { placeholders[span.spanID.hexString] = "<span id of \(LineText.escaped(span.name))>" }
        for id in trace.traceIDs { placeholders[id.hexString] = "<trace id of \(LineText.escaped(rootNames[id] ?? "?"))>" }
        for replacement in options.replacements where replacement.isRegularExpression {
            regularExpressions.append((try Regex(replacement.pattern), replacement.placeholder))
        }
    }

    func text() -> String {
        // Children follow their parent in tree order, so walking backwards renders every child before its parent.
        var rendered = [[String]](repeating: [], count: trace.count)
        for index in trace.indices.reversed() {
            let span = trace[index]
            var lines = ownLines(span)
            let children = Self.sortedByText(span.children.map { rendered[$0.index] })
            for child in children { lines += child.map { "  " + $0 } }
            for child in span.children { rendered[child.index] = [] }
            rendered[index] = lines
        }
        let roots = Self.sortedByText(trace.roots.map { rendered[$0.index] })
        return roots.map { $0.joined(separator: "\n") + "\n" }.joined(separator: "\n")
    }

    /// Subtrees in the order of their text (each joined once, not at every comparison).
    private static func sortedByText(_ subtrees: [[String]]) -> [[String]] {
        subtrees.map { ($0.joined(separator: "\n"), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    private func ownLines(_ span: RecordedSpan) -> [String] {
        var head = "\(scrub(LineText.escaped(span.name))) [\("\(span.kind)".lowercased())]"
        if span.hasRemoteParent {
            head += " (remote parent)"
        } else if span.parent == nil, span.finishedSpan.parentSpanContext != nil {
            head += " (parent not recorded)"
        }
        if options.durations == .bucketed { head += " " + Self.bucket(span.finishedSpan.durationNanoseconds) }
        var lines = [head]
        if let status = span.status {
            switch status.code {
            case .ok: lines.append("  status: ok")
            case .error:
                lines.append(
                    "  status: error" + (status.message.map { " " + LineText.escapingInvisibles(JSONText.quoted(scrub($0))) } ?? ""))
            }
        }
        lines += attributeLines(span.attributes, indent: "  ")
        for event in span.events {
            lines.append("  * \(scrub(LineText.escaped(event.name)))")
            lines += attributeLines(event.attributes, indent: "      ")
        }
        for link in span.links {
            lines.append("  -> link to \(scrub(link.spanContext.spanID.hexString))")
            lines += attributeLines(link.attributes, indent: "      ")
        }
        // Log records by severity and message, in the order written (their attributes hold source lines and times).
        for record in span.logs {
            let severity = record.severity.name.isEmpty ? "UNSPECIFIED" : record.severity.name
            lines.append("  log \(severity) " + LineText.escapingInvisibles(JSONText.quoted(scrub(record.body.text))))
        }
        return lines
    }

    private func attributeLines(_ attributes: SpanAttributes, indent: String) -> [String] {
        var pairs: [(String, String)] = []
        attributes.forEach { key, value in
            guard !options.ignoredAttributes.contains(key) else { return }
            let text =
                options.redactedAttributes.contains(key) ? "<redacted>" : LineText.escapingInvisibles(scrub(AttributeText.json(value)))
            pairs.append((scrub(LineText.escaped(key)), text))
        }
        return pairs.sorted { $0.0 < $1.0 }.map { "\(indent)\($0.0) = \($0.1)" }
    }

    /// The text with ids (16 or 32 hex digits) replaced by their placeholders, then the options' replacements. One
    /// pass over the text whatever the number of ids.
    private func scrub(_ text: String) -> String {
        var text = text
        if !placeholders.isEmpty {
            var result: [UInt8] = []
            let bytes = Array(text.utf8)
            result.reserveCapacity(bytes.count)
            var index = 0
            while index < bytes.count {
                guard Self.isHexDigit(bytes[index]) else {
                    result.append(bytes[index])
                    index += 1
                    continue
                }
                var end = index
                while end < bytes.count, Self.isHexDigit(bytes[end]) { end += 1 }
                let run = bytes[index..<end]
                if run.count == 16 || run.count == 32,
                    let placeholder = placeholders[String(decoding: run, as: UTF8.self).lowercased()]
                {
                    result.append(contentsOf: placeholder.utf8)
                } else {
                    result.append(contentsOf: run)
                }
                index = end
            }
            text = String(decoding: result, as: UTF8.self)
        }
        for replacement in options.replacements where !replacement.isRegularExpression && !replacement.pattern.isEmpty {
            text = text.replacingOccurrences(of: replacement.pattern, with: replacement.placeholder)
        }
        for (expression, placeholder) in regularExpressions {
            text = text.replacing(expression, with: placeholder)
        }
        return text
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    /// A power-of-ten bucket: `<1 µs`, `1 µs..10 µs`, … `≥100 s`.
    static func bucket(_ nanoseconds: UInt64) -> String {
        let edges: [(UInt64, String)] = [
            (1_000, "1 µs"), (10_000, "10 µs"), (100_000, "100 µs"), (1_000_000, "1 ms"), (10_000_000, "10 ms"),
            (100_000_000, "100 ms"), (1_000_000_000, "1 s"), (10_000_000_000, "10 s"), (100_000_000_000, "100 s"),
        ]
        guard let upper = edges.firstIndex(where: { nanoseconds < $0.0 }) else { return "(≥100 s)" }
        return upper == 0 ? "(<1 µs)" : "(\(edges[upper - 1].1)..\(edges[upper].1))"
    }
}
