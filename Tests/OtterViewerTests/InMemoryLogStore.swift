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
            return Stored(record: record, logs: OTLPLogs([record]))
        }
        stored.withLock { $0 += records }
        return rejections
    }

    func logs(_ query: LogQuery) async throws -> OTLPLogs {
        let words = Set(query.words.flatMap(LogQuery.words(in:)))
        let matching = stored.withLock { $0 }.filter { Self.matches($0.record, query, words: words) }
        var seen: [OtterLogRecord] = []
        var result = OTLPLogs()
        for stored in matching.sorted(by: { $0.record.timeNanosecondsSinceEpoch > $1.record.timeNanosecondsSinceEpoch }) {
            guard seen.count < query.limit else { break }
            guard !seen.contains(stored.record) else { continue }
            seen.append(stored.record)
            result.append(stored.logs)
        }
        return result
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
