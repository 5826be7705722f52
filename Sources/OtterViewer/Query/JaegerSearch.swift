import Foundation
import Otter

/// Jaeger v2.20's `/api/traces` search grammar: `service`, `operation`, `limit` (default 100), `start`/`end`
/// (µs; default the last 48 hours), `minDuration`/`maxDuration` (Go durations such as `1.2s`, `500us`),
/// `tag=key:value` (repeatable), `tags={json map}` (repeatable), and `traceID=` (repeatable, no service needed).
public enum JaegerSearch {
    public enum Request: Equatable, Sendable {
        case traceIDs([TraceID])
        case query(TraceQuery)
    }

    public struct InvalidParameter: Error, CustomStringConvertible {
        public let description: String
    }

    /// Jaeger's default lookback when `start` is missing.
    public static let defaultLookbackNanoseconds: UInt64 = 48 * 3600 * 1_000_000_000

    public static func parse(
        value: (String) -> String?, values: (String) -> [String], nowNanoseconds: UInt64
    ) throws -> Request {
        let traceIDs = values("traceID")
        if !traceIDs.isEmpty {
            return .traceIDs(try traceIDs.map { text in
                guard let id = JaegerQueryAPI.parseTraceID(text) else {
                    throw InvalidParameter(description: "cannot parse traceID param: \(text)")
                }
                return id
            })
        }
        guard let service = value("service"), !service.isEmpty else {
            throw InvalidParameter(description: "parameter 'service' is required")
        }
        var query = TraceQuery(service: service)
        if let operation = value("operation"), !operation.isEmpty { query.operation = operation }
        if let limit = value("limit"), !limit.isEmpty {
            guard let parsed = Int(limit), parsed >= 0 else { throw InvalidParameter(description: "unable to parse param 'limit': \(limit)") }
            query.limit = parsed == 0 ? 100 : parsed
        }
        let end = try microseconds("end", value("end")) ?? nowNanoseconds
        let start = try microseconds("start", value("start")) ?? (end > defaultLookbackNanoseconds ? end - defaultLookbackNanoseconds : 0)
        query.startTimeMinimumNanoseconds = start
        query.startTimeMaximumNanoseconds = end
        query.durationMinimumNanoseconds = try value("minDuration").flatMap { $0.isEmpty ? nil : try duration("minDuration", $0) }
        query.durationMaximumNanoseconds = try value("maxDuration").flatMap { $0.isEmpty ? nil : try duration("maxDuration", $0) }
        if let minimum = query.durationMinimumNanoseconds, let maximum = query.durationMaximumNanoseconds, maximum < minimum {
            throw InvalidParameter(description: "'maxDuration' should be greater than 'minDuration'")
        }
        for tag in values("tag") {
            guard let colon = tag.firstIndex(of: ":") else {
                throw InvalidParameter(description: "malformed 'tag' parameter, expecting key:value, received: \(tag)")
            }
            query.tags.append((String(tag[..<colon]), String(tag[tag.index(after: colon)...])))
        }
        for json in values("tags") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw InvalidParameter(description: "malformed 'tags' parameter, cannot unmarshal JSON: \(json)")
            }
            for key in object.keys.sorted() {
                guard let text = object[key] as? String else {
                    throw InvalidParameter(description: "malformed 'tags' parameter, values must be strings: \(json)")
                }
                query.tags.append((key, text))
            }
        }
        return .query(query)
    }

    private static func microseconds(_ name: String, _ text: String?) throws -> UInt64? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = UInt64(text) else { throw InvalidParameter(description: "unable to parse param '\(name)': \(text)") }
        return value.multipliedReportingOverflow(by: 1000).overflow ? .max : value * 1000
    }

    /// Parses a Go duration (`72h`, `1.5s`) into nanoseconds.
    public static func parseDuration(_ text: String) throws -> UInt64 {
        try duration("duration", text)
    }

    /// Go's `time.ParseDuration`: a sequence of decimal numbers with units ns, us, µs, ms, s, m, h.
    static func duration(_ name: String, _ text: String) throws -> UInt64 {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { throw InvalidParameter(description: "unable to parse param '\(name)': \(text)") }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { throw InvalidParameter(description: "unable to parse param '\(name)': \(text)") }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isNumber || $0 == ".") }
            // The longest matching unit wins ("ms" before "m").
            guard let unit = units.filter({ unitText == $0.0 }).first else {
                throw InvalidParameter(description: "unable to parse param '\(name)': \(text)")
            }
            total += value * unit.1
            rest = rest.dropFirst(unitText.count)
        }
        return UInt64(total.rounded())
    }
}
