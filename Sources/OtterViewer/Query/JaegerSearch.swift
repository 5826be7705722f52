import Foundation
import Otter

/// Jaeger v2.20's `/api/traces` search grammar: `service`, `operation`, `limit` (default 100), `start`/`end`
/// (µs; default the last 48 hours), `minDuration`/`maxDuration` (Go durations such as `1.2s`, `500us`),
/// `tag=key:value` (repeatable), `tags={json map}` (repeatable), and `traceID=` (repeatable, no service needed).
enum JaegerSearch {
    enum Request: Equatable, Sendable {
        case traceIDs([TraceID])
        case query(TraceQuery)
    }

    /// Jaeger's default lookback when `start` is missing.
    static let defaultLookbackNanoseconds: UInt64 = 48 * 3600 * 1_000_000_000

    /// The most traces one search returns.
    static let maximumLimit = 10_000

    /// The most trace ids one `/api/traces?traceID=...` names (the Jaeger UI's compare view sends two).
    static let maximumTraceIDs = 100

    static func parse(_ parameters: QueryParameters, nowNanoseconds: UInt64) throws -> Request {
        // Checked as Jaeger checks them, whatever the kind of search (`raw` changes nothing here: see JaegerQueryAPI).
        if let raw = parameters.get("raw"), !raw.isEmpty { _ = try UntrustedValue.bool("raw", raw) }
        let traceIDs = parameters.getAll("traceID")
        if !traceIDs.isEmpty {
            // Each trace once, however often it is named, and a bounded number of them: one request, bounded work.
            var seen = Set<TraceID>()
            var ids: [TraceID] = []
            for text in traceIDs {
                guard let id = TraceIDText.parse(text) else { throw InvalidParameter("cannot parse traceID param: \(text.prefix(80))") }
                if seen.insert(id).inserted { ids.append(id) }
            }
            guard ids.count <= maximumTraceIDs else {
                throw InvalidParameter("too many traceID params: \(ids.count) (at most \(maximumTraceIDs))")
            }
            return .traceIDs(ids)
        }
        guard let service = parameters.get("service"), !service.isEmpty else {
            throw InvalidParameter("parameter 'service' is required")
        }
        var query = TraceQuery(service: service)
        if let operation = parameters.get("operation"), !operation.isEmpty { query.operation = operation }
        if let limit = parameters.get("limit"), !limit.isEmpty {
            let parsed = try UntrustedValue.integer("limit", limit, in: 0...maximumLimit)
            query.limit = parsed == 0 ? 100 : parsed
        }
        let end =
            try parameters.get("end").flatMap { $0.isEmpty ? nil : try UntrustedValue.timestamp("end", $0, unitNanoseconds: 1_000) }
            ?? nowNanoseconds
        let start =
            try parameters.get("start").flatMap { $0.isEmpty ? nil : try UntrustedValue.timestamp("start", $0, unitNanoseconds: 1_000) }
            ?? end - min(end, defaultLookbackNanoseconds)
        query.startTimeMinimumNanoseconds = start
        query.startTimeMaximumNanoseconds = end
        query.durationMinimumNanoseconds = try parameters.get("minDuration").flatMap {
            $0.isEmpty ? nil : try UntrustedValue.duration("minDuration", $0)
        }
        query.durationMaximumNanoseconds = try parameters.get("maxDuration").flatMap {
            $0.isEmpty ? nil : try UntrustedValue.duration("maxDuration", $0)
        }
        if let minimum = query.durationMinimumNanoseconds, let maximum = query.durationMaximumNanoseconds, maximum < minimum {
            throw InvalidParameter("'maxDuration' should be greater than 'minDuration'")
        }
        for tag in parameters.getAll("tag") {
            guard let colon = tag.firstIndex(of: ":") else {
                throw InvalidParameter("malformed 'tag' parameter, expecting key:value, received: \(tag.prefix(200))")
            }
            query.tags.append((String(tag[..<colon]), String(tag[tag.index(after: colon)...])))
        }
        for json in parameters.getAll("tags") {
            do {
                query.tags += try JSONTags.pairs(json, stringsOnly: true)
            } catch .notAnObject {
                throw InvalidParameter("malformed 'tags' parameter, cannot unmarshal JSON: \(json.prefix(200))")
            } catch .notText {
                throw InvalidParameter("malformed 'tags' parameter, values must be strings: \(json.prefix(200))")
            }
        }
        return .query(query)
    }
}
