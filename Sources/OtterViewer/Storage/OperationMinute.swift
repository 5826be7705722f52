import Otter
import OtterOTLP
import Tracing

/// What the span metrics are computed from: per operation (service, name, kind) and minute of start time, how many
/// spans, how many failed, and their durations. The store keeps these as it writes spans, so a metrics query reads
/// one row per operation and minute instead of the spans.
package struct OperationMinute: Sendable, Equatable {
    package var service: String
    package var operation: String
    package var kind: SpanKindName
    /// Minutes since the epoch (start time / 60 s).
    package var minute: UInt64
    package var calls: UInt64
    package var errors: UInt64
    var durations: DurationHistogram

    static let nanosecondsPerMinute: UInt64 = 60_000_000_000

    /// The rows of these spans, one per operation and minute.
    package static func rows(of spans: [FinishedSpan]) -> [OperationMinute] {
        struct Key: Hashable {
            var service: String
            var operation: String
            var kind: SpanKindName
            var minute: UInt64
        }
        var rows: [Key: OperationMinute] = [:]
        for span in spans {
            let key = Key(
                service: span.resource.serviceNameOrUnknown, operation: span.operationName, kind: SpanKindName(span.kind),
                minute: span.startTimeNanosecondsSinceEpoch / nanosecondsPerMinute)
            var row =
                rows[key]
                ?? OperationMinute(
                    service: key.service, operation: key.operation, kind: key.kind, minute: key.minute, calls: 0, errors: 0,
                    durations: DurationHistogram())
            row.calls += 1
            if span.status?.code == .error { row.errors += 1 }
            row.durations.record(span.durationNanoseconds)
            rows[key] = row
        }
        return Array(rows.values)
    }

    /// Rows of the same operation and minute merged into one, sorted by service, operation, minute and kind.
    package static func merged(_ rows: [OperationMinute]) -> [OperationMinute] {
        struct Key: Hashable {
            var service: String
            var operation: String
            var kind: SpanKindName
            var minute: UInt64
        }
        var merged: [Key: OperationMinute] = [:]
        for row in rows {
            let key = Key(service: row.service, operation: row.operation, kind: row.kind, minute: row.minute)
            if var existing = merged[key] {
                existing.calls &+= row.calls
                existing.errors &+= row.errors
                existing.durations.merge(row.durations)
                merged[key] = existing
            } else {
                merged[key] = row
            }
        }
        return merged.values.sorted {
            ($0.service, $0.operation, $0.minute, $0.kind.rawValue) < ($1.service, $1.operation, $1.minute, $1.kind.rawValue)
        }
    }
}
