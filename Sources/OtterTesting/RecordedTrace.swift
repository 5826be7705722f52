import Otter
import Testing
import Tracing

/// What a test recorded: its ended spans as trees, in depth-first order with children by start time. Usually one
/// trace; a test that starts several root spans records several, each root heading its own tree.
///
/// It is a collection of ``RecordedSpan``s, so `count`, `first`, `filter` and `contains` work on it, and it reads
/// like the domain:
///
/// ```swift
/// #expect(trace.span("parent")?.parent?.name == "GET /")
/// #expect(trace.spans(ofKind: .client).count == 2)
/// ```
///
/// Its description is the trace as an indented tree (the console exporter's `tree` style).
public struct RecordedTrace: RandomAccessCollection, Sendable {
    final class Storage: Sendable {
        let spans: [FinishedSpan]
        let parents: [Int?]
        let children: [[Int]]
        let depths: [Int]
        let openSpanNames: [String]
        let droppedCount: Int
        /// Log records in time order.
        let logs: [OtterLogRecord]

        init(_ finished: [FinishedSpan], logs: [OtterLogRecord], openSpanNames: [String], droppedCount: Int) {
            self.logs = logs.enumerated().sorted {
                ($0.element.timeNanosecondsSinceEpoch, $0.offset) < ($1.element.timeNanosecondsSinceEpoch, $1.offset)
            }.map(\.element)
            let tree = SpanTree(finished)
            spans = tree.nodes.map(\.span)
            depths = tree.nodes.map(\.depth)
            parents = tree.nodes.map(\.parent)
            children = tree.nodes.map(\.children)
            self.openSpanNames = openSpanNames
            self.droppedCount = droppedCount
        }
    }

    let storage: Storage

    /// A trace of the given spans (ended spans from anywhere: a ``SpanRecorder``, a file, an exporter) and the log
    /// records written while it ran.
    public init(_ spans: [FinishedSpan], logs: [OtterLogRecord] = [], openSpanNames: [String] = [], droppedCount: Int = 0) {
        storage = Storage(spans, logs: logs, openSpanNames: openSpanNames, droppedCount: droppedCount)
    }

    /// Every log record the test wrote, in time order: those written inside a span (``RecordedSpan/logs``) and those
    /// written outside any. Query them with `atLeast(.error)`, `containing("declined")`, `messages`.
    public var logs: [OtterLogRecord] { storage.logs }

    /// 0, the position of the first span.
    public var startIndex: Int { 0 }
    /// The number of spans: one past the last position.
    public var endIndex: Int { storage.spans.count }
    /// The span at `position`, in depth-first order; `position` must be in `startIndex..<endIndex`.
    public subscript(position: Int) -> RecordedSpan { RecordedSpan(storage: storage, index: position) }

    /// Spans that had started and not ended when the trace was read; they are not in the trace.
    public var openSpanNames: [String] { storage.openSpanNames }

    /// Spans that ended after the recorder's bound (``SpanRecorder/maximumSpans``) was reached; not in the trace.
    public var droppedCount: Int { storage.droppedCount }

    /// The spans without a recorded parent.
    public var roots: [RecordedSpan] { filter { $0.parent == nil } }

    /// The first span named `name`, in tree order.
    public func span(_ name: String) -> RecordedSpan? { first { $0.name == name } }

    /// Every span named `name`, in tree order.
    public func spans(named name: String) -> [RecordedSpan] { filter { $0.name == name } }

    /// Every span of the given kind, in tree order.
    public func spans(ofKind kind: SpanKind) -> [RecordedSpan] { filter { $0.kind == kind } }

    /// Every span with the attribute `key`, or with `key` equal to `value` when a value is given.
    public func spans(withAttribute key: String, equalTo value: SpanAttribute? = nil) -> [RecordedSpan] {
        filter { span in
            guard let found = span.attribute(key) else { return false }
            return value.map { $0 == found } ?? true
        }
    }

    /// Spans whose status is error.
    public var errors: [RecordedSpan] { filter(\.isError) }

    /// The distinct trace ids, in tree order.
    public var traceIDs: [TraceID] {
        var seen = Set<TraceID>()
        return storage.spans.map(\.spanContext.traceID).filter { seen.insert($0).inserted }
    }

    /// The recorded spans as the exporters see them, in tree order.
    public var finishedSpans: [FinishedSpan] { storage.spans }

    /// The trace as an indented tree with kinds, durations, status, attributes and events.
    public var tree: String { tree(maximumLines: .max) }

    /// The tree's first `maximumLines` lines, then a line saying how many were left out.
    public func tree(maximumLines: Int) -> String {
        guard !isEmpty else {
            return openSpanNames.isEmpty ? "no spans recorded\n" : "no spans ended; still open: \(openNames)\n"
        }
        var grouped: [TraceID: [FinishedSpan]] = [:]
        for span in storage.spans { grouped[span.spanContext.traceID, default: []].append(span) }
        var logsByTrace: [TraceID: [OtterLogRecord]] = [:]
        for record in storage.logs {
            if let traceID = record.spanContext?.traceID { logsByTrace[traceID, default: []].append(record) }
        }
        var text = ""
        var lines = 0
        var omitted = 0
        for id in traceIDs {
            let spans = grouped[id] ?? []
            guard lines < maximumLines else {
                omitted += spans.count + spans.reduce(0) { $0 + $1.events.count } + 1
                continue
            }
            let part = ConsoleSpanExporter.tree(for: spans, maximumLines: maximumLines - lines, logs: logsByTrace[id] ?? [])
            text += part.text
            omitted += part.omittedLines
            lines += part.text.utf8.count { $0 == UInt8(ascii: "\n") }
        }
        if omitted > 0 { text += "… \(omitted) more lines\n" }
        let spanIDs = Set(storage.spans.map(\.spanContext.spanID))
        let outside = storage.logs.filter { record in record.spanContext.map { !spanIDs.contains($0.spanID) } ?? true }
        if !outside.isEmpty {
            text += "logs outside the recorded spans:\n"
            for record in outside.prefix(20) {
                text += "  - \(ConsoleSpanExporter.logLine(record, after: record.timeNanosecondsSinceEpoch))\n"
            }
            if outside.count > 20 { text += "  … \(outside.count - 20) more\n" }
        }
        if !openSpanNames.isEmpty { text += "still open (not shown): \(openNames)\n" }
        if droppedCount > 0 { text += "\(droppedCount) more spans ended after the recorder's bound and were dropped\n" }
        return text
    }

    private var openNames: String { openSpanNames.map(LineText.escaped).joined(separator: ", ") }
}

extension RecordedTrace: CustomStringConvertible, CustomTestStringConvertible {
    /// The trace as an indented tree (``tree``).
    public var description: String { tree }
    /// Short, because a failure in a traced test already carries the tree: `RecordedTrace(5 spans: checkout, …)`.
    public var testDescription: String {
        let names = prefix(3).map { LineText.escaped($0.name) }.joined(separator: ", ") + (count > 3 ? ", …" : "")
        return "RecordedTrace(\(count) span\(count == 1 ? "" : "s")\(isEmpty ? "" : ": " + names))"
    }
}
