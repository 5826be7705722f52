import Logging
import Otter
import OtterOTLP
import ServiceLifecycle
import Synchronization

// What a store can do beyond reading and writing, each a protocol the viewer asks for (`store as? any …`) instead of
// knowing the store's type. They are `package` for now: ``SQLiteTraceStore`` offers all three, and a store from outside
// the package offers none (the viewer then answers span metrics with 501 and refuses retention, a size bound and
// forwarding at start).

/// A store that keeps itself within bounds: it deletes what is older than a retention, and its oldest data while it is
/// larger than a size. The viewer's `retention` and `maximumStoreBytes` need one.
package protocol SelfBoundingStore: Sendable {
    /// The service that enforces the bounds while it runs; the size bound applies to every write from now on.
    func boundingService(retention: Duration?, maximumBytes: Int?, logger: Logger) -> any Service
}

/// A store that keeps per-operation, per-minute counts, which the span metrics (Jaeger's Monitor tab, `/api/metrics`,
/// `/monitor`) are computed from. Jaeger keeps them in Prometheus; without one the metrics answer 501.
package protocol SpanMetricsReader: Sendable {
    /// The rows of these services' operations of these kinds whose minute is in `minutes`, one per operation and
    /// minute.
    func operationMinutes(services: [String], kinds: Set<SpanKindName>, minutes: ClosedRange<UInt64>) async throws -> [OperationMinute]
}

/// A store that is the forwarding queue: what it stores is kept in blocks with ascending ids, and it remembers, across
/// restarts, the last block upstream acknowledged per signal. `otter viewer --forward` needs one.
package protocol ForwardingQueue: TraceReader {
    /// Starts (or resumes) forwarding `signal`: the first time, from what arrives next; later, after the last
    /// acknowledged block.
    func startForwarding(_ signal: ForwardedSignal) async throws -> ForwardProgress
    /// Where forwarding `signal` stands.
    func forwardProgress(_ signal: ForwardedSignal) async throws -> ForwardProgress
    /// The id of the newest stored block of `signal` (0 when there is none).
    func newestBlockID(_ signal: ForwardedSignal) async throws -> Int64
    /// The blocks after `blockID`, oldest first, up to about `maximumBytes`; nil when there are none.
    func forwardBatch(_ signal: ForwardedSignal, after blockID: Int64, maximumBytes: Int) async throws -> ForwardBatch?
    /// Records that upstream has every block of `signal` up to `blockID`.
    func acknowledgeForwarded(_ signal: ForwardedSignal, through blockID: Int64) async throws
}

/// What the viewer forwards upstream: the blocks of one signal in arrival order.
package enum ForwardedSignal: String, Sendable, CaseIterable {
    case spans
    case logs

}

/// Stored blocks not yet acknowledged upstream, oldest first: each block is one encoded OTLP export request.
package struct ForwardBatch: Sendable {
    package struct Block: Sendable {
        package var id: Int64
        /// The block's request bytes (protobuf, inflated); empty for a damaged block (skipped, never resent forever).
        package var request: [UInt8]
        /// Spans or log records in the block.
        package var itemCount: Int
    }

    /// Ascending ids.
    package var blocks: [Block]
    package var lastBlockID: Int64 { blocks.last?.id ?? 0 }
    package var itemCount: Int { blocks.reduce(0) { $0 + $1.itemCount } }
    package var requests: [[UInt8]] { blocks.map(\.request).filter { !$0.isEmpty } }
}

/// Where forwarding stands for one signal, as the store keeps it across restarts.
package struct ForwardProgress: Sendable, Equatable {
    /// The last block upstream acknowledged (every block up to it was sent or given up on).
    package var acknowledgedBlockID: Int64
    /// Spans or log records that retention or the size bound deleted before they were forwarded.
    package var lostItems: Int64
    /// Spans or log records stored and not yet acknowledged.
    package var pendingItems: Int64
}

/// A store that reads a trace's outline (``SpanOutline``: ids, names, times, status) without decoding its spans'
/// attributes, events and links, and chosen spans in full: the page of a big trace is drawn from the outline and reads
/// a span's details when they are shown. Other stores are read whole (``TraceReader/traceOutline(_:)``).
protocol TraceOutlineReader: TraceReader {
    /// The outline of every stored span of one trace (a retry once); empty when none is stored.
    func outline(_ traceID: TraceID) async throws -> [SpanOutline]
    /// The spans of one trace whose ids are in `spanIDs`, in full.
    func spans(_ traceID: TraceID, withIDs spanIDs: Set<SpanID>) async throws -> [FinishedSpan]
    /// The spans of one trace in parts (a retry once), holding only a part of the trace decoded at a time.
    func parts(of traceID: TraceID) async throws -> any TraceParts
}

/// A trace's spans read a part at a time (``TraceOutlineReader/parts(of:)``), by one reader.
protocol TraceParts: AnyObject, Sendable {
    /// The next part, never empty; nil after the last.
    func next() async throws -> OTLPTraces?
}

/// A trace read whole, as one part.
final class WholeTraceParts: TraceParts, Sendable {
    private let whole: Mutex<OTLPTraces?>

    init(_ traces: OTLPTraces) { whole = Mutex(traces.request.resourceSpans.isEmpty ? nil : traces) }

    func next() async throws -> OTLPTraces? {
        whole.withLock { whole in
            defer { whole = nil }
            return whole
        }
    }
}

extension TraceReader {
    /// The outline of a trace's spans, without decoding the rest where the store can.
    func traceOutline(_ traceID: TraceID) async throws -> [SpanOutline] {
        if let reader = self as? any TraceOutlineReader { return try await reader.outline(traceID) }
        return try await trace(traceID).map(SpanOutline.init)
    }

    /// The spans of one trace whose ids are in `spanIDs`, in full.
    func spans(of traceID: TraceID, withIDs spanIDs: Set<SpanID>) async throws -> [FinishedSpan] {
        if let reader = self as? any TraceOutlineReader { return try await reader.spans(traceID, withIDs: spanIDs) }
        return try await trace(traceID).filter { spanIDs.contains($0.spanContext.spanID) }
    }

    /// The spans of one trace in parts: a block at a time where the store can, else whole.
    func traceParts(_ traceID: TraceID) async throws -> any TraceParts {
        if let reader = self as? any TraceOutlineReader { return try await reader.parts(of: traceID) }
        return WholeTraceParts(try await traces([traceID]))
    }

    /// Calls `body` with every stored span of one trace, in full; a part at a time where the store can.
    func forEachSpan(of traceID: TraceID, _ body: (FinishedSpan) throws -> Void) async throws {
        let parts = try await traceParts(traceID)
        while let part = try await parts.next() {
            for span in part.spans { try body(span) }
        }
    }
}

extension SQLiteTraceStore: TraceOutlineReader {}
