import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// Jaeger's api_v3 over HTTP (the grpc-gateway JSON the current Jaeger UI calls): services, operations, a trace
/// by id and trace search as OTLP JSON wrapped in `{"result":...}`, and trace summaries. Errors are
/// `{"error":{"httpCode":N,"message":"..."}}`; a search or trace lookup that finds nothing is a 404.
public struct JaegerQueryAPIv3: Sendable {
    public let store: any TraceStore

    public init(store: any TraceStore) {
        self.store = store
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v3/services") { _, _ -> Response in
            struct Services: Encodable { var services: [String] }
            return JaegerQueryAPI.json(Services(services: try await store.services()))
        }
        router.get("/api/v3/operations") { request, _ -> Response in
            struct Operation: Encodable {
                var name: String
                var spanKind: String
            }
            struct Operations: Encodable { var operations: [Operation] }
            let parameters = request.uri.queryParameters
            let service = parameters.get("service") ?? ""
            let kind = parameters.get("spanKind") ?? parameters.get("span_kind") ?? ""
            let operations = try await store.operations(service: service)
                .filter { kind.isEmpty || $0.kind.rawValue == kind }
                .map { Operation(name: $0.name, spanKind: $0.kind.rawValue) }
            return JaegerQueryAPI.json(Operations(operations: operations))
        }
        router.get("/api/v3/traces/:traceID") { _, context -> Response in
            let raw = context.parameters.get("traceID") ?? ""
            guard let traceID = JaegerQueryAPI.parseTraceID(raw) else {
                return Self.error(.badRequest, "malformed parameter trace_id: \(raw)")
            }
            let spans = try await store.trace(traceID)
            guard !spans.isEmpty else { return Self.error(.notFound, "No traces found") }
            return Self.result(spans)
        }
        router.get("/api/v3/traces") { request, _ -> Response in
            try await Self.answeringSearch(request) { query in
                var spans: [FinishedSpan] = []
                for traceID in try await store.findTraceIDs(query) {
                    spans.append(contentsOf: try await store.trace(traceID))
                }
                guard !spans.isEmpty else { return Self.error(.notFound, "No traces found") }
                return Self.result(spans)
            }
        }
        router.get("/api/v3/trace-summaries") { request, _ -> Response in
            try await Self.answeringSearch(request) { query in
                let summaries = try await store.summaries(store.findTraceIDs(query))
                return JaegerQueryAPI.json(TraceSummaries(summaries: summaries.map(TraceSummaries.Summary.init)))
            }
        }
    }

    /// `answer` for the request's search, or 400 with the message when its parameters are invalid.
    static func answeringSearch(_ request: Request, _ answer: (TraceQuery) async throws -> Response) async throws -> Response {
        let query: TraceQuery
        do {
            query = try parseSearch(request.uri.queryParameters)
        } catch let invalid as JaegerSearch.InvalidParameter {
            return error(.badRequest, invalid.description)
        }
        return try await answer(query)
    }

    /// The v3 search parameters, in their camelCase form or the deprecated snake_case aliases Grafana sends.
    static func parseSearch(_ parameters: Hummingbird.Parameters) throws -> TraceQuery {
        func value(_ names: String...) -> String? {
            for name in names {
                if let value = parameters.get(name), !value.isEmpty { return value }
            }
            return nil
        }
        guard let minimumText = value("query.startTimeMin", "query.start_time_min") else {
            throw JaegerSearch.InvalidParameter(description: "query.startTimeMin is required")
        }
        guard let maximumText = value("query.startTimeMax", "query.start_time_max") else {
            throw JaegerSearch.InvalidParameter(description: "query.startTimeMax is required")
        }
        guard let minimum = RFC3339.nanoseconds(minimumText) else {
            throw JaegerSearch.InvalidParameter(description: "malformed parameter query.startTimeMin: \(minimumText)")
        }
        guard let maximum = RFC3339.nanoseconds(maximumText) else {
            throw JaegerSearch.InvalidParameter(description: "malformed parameter query.startTimeMax: \(maximumText)")
        }
        guard minimum < maximum else {
            throw JaegerSearch.InvalidParameter(description: "query.startTimeMin must be before query.startTimeMax")
        }
        var query = TraceQuery(
            service: value("query.serviceName", "query.service_name"), operation: value("query.operationName", "query.operation_name"),
            startTimeMinimumNanoseconds: minimum, startTimeMaximumNanoseconds: maximum)
        if let text = value("query.durationMin", "query.duration_min") {
            query.durationMinimumNanoseconds = try JaegerSearch.duration("query.durationMin", text)
        }
        if let text = value("query.durationMax", "query.duration_max") {
            query.durationMaximumNanoseconds = try JaegerSearch.duration("query.durationMax", text)
        }
        if let minimum = query.durationMinimumNanoseconds, let maximum = query.durationMaximumNanoseconds, maximum < minimum {
            throw JaegerSearch.InvalidParameter(description: "query.durationMax must be greater than query.durationMin")
        }
        if let text = value("query.searchDepth", "query.search_depth", "query.num_traces") {
            guard let depth = Int(text), depth > 0 else {
                throw JaegerSearch.InvalidParameter(description: "malformed parameter query.searchDepth: \(text)")
            }
            query.limit = depth
        }
        if let json = value("query.attributes") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw JaegerSearch.InvalidParameter(description: "malformed parameter query.attributes, expecting a JSON map: \(json)")
            }
            for key in object.keys.sorted() {
                switch object[key] {
                case let text as String: query.tags.append((key, text))
                case let number as NSNumber: query.tags.append((key, number.stringValue))
                default:
                    throw JaegerSearch.InvalidParameter(description: "malformed parameter query.attributes, values must be strings: \(json)")
                }
            }
        }
        return query
    }

    static func result(_ spans: [FinishedSpan]) -> Response {
        var body = ByteBuffer(string: "{\"result\":")
        body.writeBytes(OTLPJSON.encode(OTLPMapping.request(for: spans)))
        body.writeString("}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        struct ErrorBody: Encodable {
            struct Detail: Encodable {
                var httpCode: Int
                var message: String
            }
            var error: Detail
        }
        return JaegerQueryAPI.json(ErrorBody(error: .init(httpCode: Int(status.code), message: message)), status: status)
    }

    /// The `FindTraceSummaries` response: times as decimal nanosecond strings, as protobuf JSON writes int64.
    struct TraceSummaries: Encodable {
        struct Service: Encodable {
            var name: String
            var spanCount: Int
            var errorSpanCount: Int
        }

        struct Summary: Encodable {
            var traceId: String
            var rootServiceName: String
            var rootOperationName: String
            var minStartTimeUnixNano: String
            var maxEndTimeUnixNano: String
            var spanCount: Int
            var errorSpanCount: Int
            var orphanSpanCount: Int
            var services: [Service]

            init(_ summary: TraceSummary) {
                traceId = summary.traceID.hexString
                rootServiceName = summary.rootServiceName
                rootOperationName = summary.rootOperationName
                minStartTimeUnixNano = String(summary.startTimeNanoseconds)
                maxEndTimeUnixNano = String(summary.endTimeNanoseconds)
                spanCount = summary.spanCount
                errorSpanCount = summary.errorSpanCount
                orphanSpanCount = summary.orphanSpanCount
                services = summary.services.map { Service(name: $0.name, spanCount: $0.spanCount, errorSpanCount: $0.errorSpanCount) }
            }
        }

        var summaries: [Summary]
    }
}

/// RFC 3339 timestamps with up to nanosecond precision: `2026-11-22T05:00:00.123456789Z`, `...+08:00`.
enum RFC3339 {
    static func nanoseconds(_ text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 116, bytes[13] == 58, bytes[16] == 58,
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0
        if bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 9 { fraction = fraction * 10 + Int(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { fraction *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case 90, 122:
            guard index + 1 == bytes.count else { return nil }
        case 43, 45:
            guard index + 6 == bytes.count, bytes[index + 3] == 58, let hours = number(index + 1..<index + 3),
                let minutes = number(index + 4..<index + 6)
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (bytes[index] == 43 ? 1 : -1)
        default:
            return nil
        }
        // Days from the civil date (proleptic Gregorian calendar) to 1970-01-01.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        guard seconds >= 0 else { return nil }
        return UInt64(seconds) * 1_000_000_000 + UInt64(fraction)
    }
}
