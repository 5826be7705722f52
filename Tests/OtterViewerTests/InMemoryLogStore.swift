import Otter
import OtterOTLP
import OtterViewer
import Synchronization
import Tracing

/// A second log storage engine, for the log store conformance suite: records kept in memory, written with Otter's
/// public API only (no `@testable`, nothing `package`), as a third party would write one. Every read walks every
/// record.
final class InMemoryLogStore: LogStore {
    private struct Stored {
        var record: OtterLogRecord
        var logs: OTLPLogs
        /// Its position in arrival order, from 1.
        var sequence: UInt64
    }

    private let stored = Mutex<[Stored]>([])

    func write(_ logs: OTLPLogs) async throws -> [String] {
        let (valid, rejections) = logs.validated()
        let arrival = DefaultTracerClock.now.nanosecondsSinceEpoch
        let records = valid.records.map { record in
            var record = record
            if record.timeNanosecondsSinceEpoch == 0 {
                record.timeNanosecondsSinceEpoch = arrival
                record.observedTimeNanosecondsSinceEpoch = arrival
            }
            return (record, OTLPLogs([record]))
        }
        stored.withLock { stored in
            for (record, logs) in records { stored.append(Stored(record: record, logs: logs, sequence: UInt64(stored.count + 1))) }
        }
        return rejections
    }

    func logs(_ query: LogQuery) async throws -> OTLPLogs {
        let words = Set(query.words.flatMap(LogQuery.words(in:)))
        let matching = stored.withLock { $0 }.filter {
            $0.sequence > (query.storedAfter ?? 0) && Self.matches($0.record, query, words: words)
        }
        var result = OTLPLogs()
        for stored in matching.sorted(by: { $0.record.timeNanosecondsSinceEpoch > $1.record.timeNanosecondsSinceEpoch }).prefix(query.limit)
        {
            result.append(stored.logs)
        }
        return result
    }

    func logCursor() async throws -> UInt64 {
        UInt64(stored.withLock { $0.count })
    }

    func logServices() async throws -> [String] {
        Set(stored.withLock { $0 }.map { $0.record.resource.serviceName ?? "unknown_service" }).sorted()
    }

    private static func matches(_ record: OtterLogRecord, _ query: LogQuery, words: Set<String>) -> Bool {
        if let service = query.service, (record.resource.serviceName ?? "unknown_service") != service { return false }
        if let traceID = query.traceID, record.spanContext?.traceID != traceID { return false }
        if let spanID = query.spanID, record.spanContext?.spanID != spanID { return false }
        if record.severity < query.minimumSeverity { return false }
        guard (query.startNanoseconds...query.endNanoseconds).contains(record.timeNanosecondsSinceEpoch) else { return false }
        for tag in query.tags
        where record.attributes[tag.key]?.text != tag.value && text(record.resource.attributes.get(tag.key)) != tag.value {
            return false
        }
        let recordWords = Set(([record.body.text] + record.attributes.values.map(\.text)).flatMap(LogQuery.words(in:)))
        return words.isSubset(of: recordWords)
    }

    private static func text(_ attribute: SpanAttribute?) -> String? {
        switch attribute {
        case .string(let string): return string
        case .int64(let int): return String(int)
        case .bool(let bool): return String(bool)
        case .double(let double): return String(double)
        default: return nil
        }
    }
}
