import Otter
import Tracing

/// A stored span without its attributes, events and links: its ids, service, name, kind, times and status, which a
/// store reads without decoding the rest. Search summaries and the trace page of a big trace are built from outlines;
/// the rest of a span is read when it is shown.
struct SpanOutline: Sendable, Equatable {
    var spanID: SpanID
    /// Nil for a root (an all-zero parent id is none).
    var parentSpanID: SpanID?
    var service: String
    var operationName: String
    var kind: SpanKind
    /// Nanoseconds since the epoch.
    var startTimeNanosecondsSinceEpoch: UInt64
    var endTimeNanosecondsSinceEpoch: UInt64
    /// Nil when the status is unset.
    var statusCode: SpanStatus.Code?

    var isError: Bool { statusCode == .error }

    init(
        spanID: SpanID, parentSpanID: SpanID?, service: String, operationName: String, kind: SpanKind,
        startTimeNanosecondsSinceEpoch: UInt64, endTimeNanosecondsSinceEpoch: UInt64, statusCode: SpanStatus.Code?
    ) {
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.service = service
        self.operationName = operationName
        self.kind = kind
        self.startTimeNanosecondsSinceEpoch = startTimeNanosecondsSinceEpoch
        self.endTimeNanosecondsSinceEpoch = endTimeNanosecondsSinceEpoch
        self.statusCode = statusCode
    }

    /// The outline of a span read in full.
    init(_ span: FinishedSpan) {
        self.init(
            spanID: span.spanContext.spanID, parentSpanID: span.parentSpanContext?.spanID, service: span.resource.serviceNameOrUnknown,
            operationName: span.operationName, kind: span.kind, startTimeNanosecondsSinceEpoch: span.startTimeNanosecondsSinceEpoch,
            endTimeNanosecondsSinceEpoch: span.endTimeNanosecondsSinceEpoch, statusCode: span.status?.code)
    }
}
