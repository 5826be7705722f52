import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// `GET /api/otter/logs`: stored log records as OTLP/JSON (`{"resourceLogs":[…]}`, hex ids), newest first; and
/// `GET /api/otter/log-services`: the services that sent records. Parameters of `/api/otter/logs`:
///
/// - `service`; `traceID` (1 to 32 hex digits); `spanID` (16 hex digits);
/// - `minSeverity`: a number from 0 to 24 or a name (`info`, `WARN`, `error`, `warning`, `critical`, …);
/// - `query`: words that must all appear in the body or an attribute value; `tags`: logfmt (`key=value key2="a b"`),
///   attributes of the record or its resource;
/// - `start`/`end` in microseconds since the epoch, or `lookback` (a Go duration such as `15m`, before `end`); without
///   them, the last 48 hours, or all of time for a `traceID`;
/// - `storedAfter`: only records stored after this cursor (the `X-Otter-Log-Cursor` header of an earlier answer), whatever
///   their own times: a live tail's poll; without `start`/`lookback`, it searches all of time;
/// - `limit`: 1 to 10,000, default 100. At most 32 distinct words and 32 tags. `spanID` needs a `traceID`.
///
/// A parameter that cannot be read gets 400 with a message naming it, as the trace API answers.
struct LogsAPI: Sendable {
    let store: any LogStore

    static let defaultLimit = 100
    static let maximumLimit = 10_000
    static let defaultLookbackNanoseconds: UInt64 = 48 * 3600 * 1_000_000_000
    /// The answer's arrival cursor: pass it back as `storedAfter` to get only the records stored since.
    static let cursorHeader = HTTPField.Name("X-Otter-Log-Cursor")!
    /// The most words in `query`, and the most `tags`.
    static let maximumConditions = 32

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/otter/logs") { request, _ -> Response in
            let query: LogQuery
            do {
                query = try Self.parse(QueryParameters(request), nowNanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch)
            } catch let invalid as InvalidParameter {
                return HTTPAnswer.error(.badRequest, invalid.description)
            }
            let logs = try await store.logs(query)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: logs.json())))
        }
        router.get("/api/otter/log-services") { _, _ -> Response in
            HTTPAnswer.json(["data": try await store.logServices()])
        }
    }

    static func parse(_ parameters: QueryParameters, nowNanoseconds: UInt64) throws -> LogQuery {
        var query = LogQuery(limit: defaultLimit)
        if let service = parameters.first("service") { query.service = service }
        if let text = parameters.first("traceID") {
            guard text.utf8.allSatisfy({ $0 < 128 && Character(Unicode.Scalar($0)).isHexDigit }), let traceID = TraceIDText.parse(text)
            else {
                throw InvalidParameter(
                    name: "traceID", detail: "\(UntrustedValue.quoted(text)) is not a trace id (1 to 32 hex digits, not all zero)")
            }
            query.traceID = traceID
        }
        if let text = parameters.first("storedAfter") {
            query.storedAfter = UInt64(try UntrustedValue.integer("storedAfter", text, in: 0...Int.max))
        }
        if let text = parameters.first("spanID") {
            guard text.utf8.count == 16, let spanID = SpanID(hexString: text.lowercased()), spanID.isValid else {
                throw InvalidParameter(
                    name: "spanID", detail: "\(UntrustedValue.quoted(text)) is not a span id (16 hex digits, not all zero)")
            }
            query.spanID = spanID
            // Span ids are not indexed: without its trace, a span's records would be looked for in every record.
            guard query.traceID != nil else {
                throw InvalidParameter(name: "spanID", detail: "give the span's traceID too")
            }
        }
        if let text = parameters.first("minSeverity") {
            guard let severity = LogSeverity(named: text) else {
                throw InvalidParameter(
                    name: "minSeverity",
                    detail: "\(UntrustedValue.quoted(text)) is not a severity (0 to 24, or trace, debug, info, notice, warn, error, fatal)")
            }
            query.minimumSeverity = severity
        }
        if let text = parameters.first("query") {
            var seen = Set<String>()
            query.words = LogQuery.words(in: text).filter { seen.insert($0).inserted }
            guard query.words.count <= maximumConditions else {
                throw InvalidParameter(name: "query", detail: "\(query.words.count) words, at most \(maximumConditions)")
            }
        }
        if let text = parameters.first("tags") {
            do {
                query.tags = try LogfmtTags.parse(text)
            } catch let invalid as InvalidParameter {
                throw InvalidParameter(name: "tags", detail: invalid.detail)
            }
            guard query.tags.count <= maximumConditions else {
                throw InvalidParameter(name: "tags", detail: "\(query.tags.count) tags, at most \(maximumConditions)")
            }
        }
        if let text = parameters.first("limit") {
            query.limit = try UntrustedValue.integer("limit", text, in: 1...maximumLimit)
        }
        let end = try parameters.first("end").map { try UntrustedValue.timestamp("end", $0, unitNanoseconds: 1_000) } ?? nowNanoseconds
        if let text = parameters.first("start") {
            query.startNanoseconds = try UntrustedValue.timestamp("start", text, unitNanoseconds: 1_000)
        } else if let text = parameters.first("lookback") {
            query.startNanoseconds = end - min(end, try UntrustedValue.duration("lookback", text))
        } else if query.traceID == nil, query.storedAfter == nil {
            query.startNanoseconds = end - min(end, defaultLookbackNanoseconds)
        }
        if (query.traceID == nil && query.storedAfter == nil) || parameters.first("end") != nil { query.endNanoseconds = end }
        guard query.startNanoseconds <= query.endNanoseconds else {
            throw InvalidParameter(name: "start", detail: "start is after end")
        }
        return query
    }
}
