import Otter
import OtterOTLP
import Tracing

/// What the indexes learn from one block of spans, computed without a database: the traces it holds, the attribute
/// terms, per-operation time and duration ranges, and the calls between services (resolved when both spans are in
/// the block, otherwise kept as the remote halves that the dependency query joins).
struct SpanBlockIndex: Equatable {
    struct Operation: Hashable {
        var service: String
        var name: String
        /// The OTLP span kind number.
        var kind: Int
    }

    struct OperationStatistics: Equatable {
        var minimumStart: UInt64 = .max
        var maximumStart: UInt64 = 0
        var minimumDuration: UInt64 = .max
        var maximumDuration: UInt64 = 0
        var errorCount = 0
        /// Per minute of start time: the span metrics' counts (``OperationMinute``).
        var minutes: [UInt64: MinuteCounts] = [:]
    }

    struct MinuteCounts: Equatable {
        var calls: UInt64 = 0
        var errors: UInt64 = 0
        var durations = DurationHistogram()
    }

    struct Call: Hashable {
        var parentService: String
        var childService: String
    }

    struct CallStatistics: Equatable {
        var count: Int
        var minimumStart: UInt64
        var maximumStart: UInt64
    }

    /// A CLIENT or PRODUCER span: a parent that a span of another block may name.
    struct RemoteParent: Equatable {
        var start: UInt64
        var traceID: TraceID
        var spanID: SpanID
        var operation: Operation
    }

    /// A span whose parent is not in the block.
    struct RemoteChild: Equatable {
        var start: UInt64
        var traceID: TraceID
        var parentSpanID: SpanID
        var operation: Operation
    }

    var traceIDs: Set<TraceID> = []
    var terms: Set<Int64> = []
    var operations: [Operation: OperationStatistics] = [:]
    var calls: [Call: CallStatistics] = [:]
    var remoteParents: [RemoteParent] = []
    var remoteChildren: [RemoteChild] = []

    /// The index of `spans`; those with `counted[i]` false (an exporter's retry of spans already stored) are indexed but
    /// add nothing to the span metrics and call counts.
    init(spans: [FinishedSpan], counted: [Bool]? = nil) {
        var spansByID: [SpanID: Int] = [:]
        for (index, span) in spans.enumerated() { spansByID[span.spanContext.spanID] = index }
        var resourcesSeen = Set<Resource>()
        for (spanIndex, span) in spans.enumerated() {
            let counts = counted?[spanIndex] ?? true
            let service = span.resource.serviceNameOrUnknown
            let traceID = span.spanContext.traceID
            traceIDs.insert(traceID)
            if resourcesSeen.insert(span.resource).inserted {
                span.resource.attributes.forEach { key, value in
                    terms.insert(SearchTerm.hash(service: service, key: key, value: AttributeText.searchText(value)))
                }
            }
            span.attributes.forEach { key, value in
                terms.insert(SearchTerm.hash(service: service, key: key, value: AttributeText.searchText(value)))
            }
            for attributes in span.events.map(\.attributes) + span.links.map(\.attributes) {
                attributes.forEach { key, value in
                    terms.insert(SearchTerm.hash(service: service, key: key, value: AttributeText.searchText(value)))
                }
            }

            let operation = Operation(service: service, name: span.operationName, kind: OTLPMapping.kind(span.kind).rawValue)
            let start = span.startTimeNanosecondsSinceEpoch
            let duration = span.durationNanoseconds
            var statistics = operations[operation] ?? OperationStatistics()
            statistics.minimumStart = min(statistics.minimumStart, start)
            statistics.maximumStart = max(statistics.maximumStart, start)
            statistics.minimumDuration = min(statistics.minimumDuration, duration)
            statistics.maximumDuration = max(statistics.maximumDuration, duration)
            if span.status?.code == .error { statistics.errorCount += 1 }
            if counts {
                let minute = start / OperationMinute.nanosecondsPerMinute
                statistics.minutes[minute, default: MinuteCounts()].calls += 1
                if span.status?.code == .error { statistics.minutes[minute, default: MinuteCounts()].errors += 1 }
                statistics.minutes[minute, default: MinuteCounts()].durations.record(duration)
            }
            operations[operation] = statistics

            if span.kind == .client || span.kind == .producer {
                remoteParents.append(RemoteParent(start: start, traceID: traceID, spanID: span.spanContext.spanID, operation: operation))
            }
            guard let parent = span.parentSpanContext else { continue }
            if let parentIndex = spansByID[parent.spanID], spans[parentIndex].spanContext.traceID == traceID {
                let parentService = spans[parentIndex].resource.serviceNameOrUnknown
                guard parentService != service, counts else { continue }
                let call = Call(parentService: parentService, childService: service)
                let known = calls[call] ?? CallStatistics(count: 0, minimumStart: start, maximumStart: start)
                calls[call] = CallStatistics(
                    count: known.count + 1, minimumStart: min(known.minimumStart, start), maximumStart: max(known.maximumStart, start))
            } else {
                remoteChildren.append(RemoteChild(start: start, traceID: traceID, parentSpanID: parent.spanID, operation: operation))
            }
        }
    }
}
