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
package struct JaegerQueryAPIv3: Sendable {
    package let store: any TraceStore

    package init(store: any TraceStore) {
        self.store = store
    }

    package func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v3/services") { _, _ -> Response in
            struct Services: Encodable { var services: [String] }
            return HTTPAnswer.json(Services(services: try await store.services()))
        }
        router.get("/api/v3/operations") { request, _ -> Response in
            struct Operation: Encodable {
                var name: String
                var spanKind: String
            }
            struct Operations: Encodable { var operations: [Operation] }
            let parameters = QueryParameters(request)
            let service = parameters.get("service") ?? ""
            let kind = parameters.first("spanKind", "span_kind") ?? ""
            let operations = try await store.operationsWithKindNames(service: service)
                .filter { kind.isEmpty || $0.kind.rawValue == kind }
                .map { Operation(name: $0.name, spanKind: $0.kind.rawValue) }
            return HTTPAnswer.json(Operations(operations: operations))
        }
        router.get("/api/v3/traces/:traceID") { request, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else {
                return Self.error(.badRequest, "malformed parameter trace_id: \(TraceIDText.parseError(raw))")
            }
            do {
                let parameters = QueryParameters(request)
                for names in [["startTime", "start_time"], ["endTime", "end_time"]] {
                    if let name = names.first(where: { parameters.get($0)?.isEmpty == false }) {
                        _ = try RFC3339.parameter(name, parameters.get(name)!)
                    }
                }
                if let name = ["rawTraces", "raw_traces"].first(where: { parameters.get($0)?.isEmpty == false }) {
                    _ = try UntrustedValue.bool(name, parameters.get(name)!)
                }
            } catch let invalid as InvalidParameter {
                return Self.error(.badRequest, invalid.apiV3Description)
            }
            guard let answer = try await WholeTraceAnswer.otlpJSON(traceID, store: store) else {
                return Self.error(.notFound, "No traces found")
            }
            return answer
        }
        router.get("/api/v3/traces") { request, _ -> Response in
            try await Self.answeringSearch(request) { query in
                let traces = try await store.traces(try await store.findTraceIDs(query)).request
                guard !traces.resourceSpans.isEmpty else { return Self.error(.notFound, "No traces found") }
                return Self.result(traces)
            }
        }
        router.get("/api/v3/trace-summaries") { request, _ -> Response in
            try await Self.answeringSearch(request) { query in
                let summaries = try await store.summaries(store.findTraceIDs(query))
                return HTTPAnswer.json(TraceSummaries(summaries: summaries.map(TraceSummaries.Summary.init)))
            }
        }
    }

    /// `answer` for the request's search, or 400 with the message when its parameters are invalid.
    static func answeringSearch(_ request: Request, _ answer: (TraceQuery) async throws -> Response) async throws -> Response {
        let query: TraceQuery
        do {
            query = try parseSearch(QueryParameters(request))
        } catch let invalid as InvalidParameter {
            return error(.badRequest, invalid.apiV3Description)
        }
        return try await answer(query)
    }

    /// The v3 search parameters, in their camelCase form or the deprecated snake_case aliases Grafana sends; messages
    /// as Jaeger's gateway words them.
    static func parseSearch(_ parameters: QueryParameters) throws -> TraceQuery {
        /// The value and the name it was given under.
        func value(_ names: String...) -> (name: String, text: String)? {
            names.lazy.compactMap { name in parameters.get(name).flatMap { $0.isEmpty ? nil : (name, $0) } }.first
        }
        if let attributes = value("query.attributes") {
            _ = try attributeTags(attributes)
        }
        guard let minimum = value("query.startTimeMin", "query.start_time_min"),
            let maximum = value("query.startTimeMax", "query.start_time_max")
        else {
            throw InvalidParameter("query.startTimeMin and query.startTimeMax are required")
        }
        let start = try RFC3339.parameter(minimum.name, minimum.text)
        let end = try RFC3339.parameter(maximum.name, maximum.text)
        guard start < end else {
            throw InvalidParameter("query.startTimeMin must be before query.startTimeMax")
        }
        var query = TraceQuery(
            service: value("query.serviceName", "query.service_name")?.text,
            operation: value("query.operationName", "query.operation_name")?.text,
            startTimeMinimumNanoseconds: start, startTimeMaximumNanoseconds: end)
        if let (name, text) = value("query.durationMin", "query.duration_min") {
            query.durationMinimumNanoseconds = try UntrustedValue.duration(name, text)
        }
        if let (name, text) = value("query.durationMax", "query.duration_max") {
            query.durationMaximumNanoseconds = try UntrustedValue.duration(name, text)
        }
        if let (name, text) = value("query.searchDepth", "query.search_depth", "query.num_traces") {
            query.limit = try UntrustedValue.integer(name, text, in: 1...JaegerSearch.maximumLimit)
        }
        if let (name, text) = value("query.rawTraces", "query.raw_traces") {
            _ = try UntrustedValue.bool(name, text)
        }
        if let attributes = value("query.attributes") {
            query.tags = try attributeTags(attributes)
        }
        return query
    }

    /// `query.attributes`: a JSON object of strings (numbers and booleans are taken as their text).
    static func attributeTags(_ parameter: (name: String, text: String)) throws -> [(key: String, value: String)] {
        do {
            return try JSONTags.pairs(parameter.text)
        } catch .notAnObject {
            throw InvalidParameter(name: parameter.name, detail: "expecting a JSON map: \(parameter.text.prefix(200))")
        } catch .notText {
            throw InvalidParameter(name: parameter.name, detail: "values must be strings: \(parameter.text.prefix(200))")
        }
    }

    static func result(_ request: OTLPExportTraceServiceRequest) -> Response {
        var body = ByteBuffer(string: "{\"result\":")
        body.writeBytes(OTLPJSON.encode(request, omittingDefaults: true))
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
        return HTTPAnswer.json(ErrorBody(error: .init(httpCode: Int(status.code), message: message)), status: status)
    }

    /// The `FindTraceSummaries` response: times as decimal nanosecond strings, as protobuf JSON writes int64.
    struct TraceSummaries: Encodable {
        struct Service: Encodable {
            var name: String
            var spanCount: Int
            var errorSpanCount: Int

            enum CodingKeys: String, CodingKey { case name, spanCount, errorSpanCount }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)
                if spanCount != 0 { try container.encode(spanCount, forKey: .spanCount) }
                if errorSpanCount != 0 { try container.encode(errorSpanCount, forKey: .errorSpanCount) }
            }
        }

        struct Summary: Encodable {
            enum CodingKeys: String, CodingKey {
                case traceId, rootServiceName, rootOperationName, minStartTimeUnixNano, maxEndTimeUnixNano, spanCount, errorSpanCount
                case orphanSpanCount, services
            }

            /// As protobuf's JSON mapping writes it: zero counts left out.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(traceId, forKey: .traceId)
                try container.encode(rootServiceName, forKey: .rootServiceName)
                try container.encode(rootOperationName, forKey: .rootOperationName)
                try container.encode(minStartTimeUnixNano, forKey: .minStartTimeUnixNano)
                try container.encode(maxEndTimeUnixNano, forKey: .maxEndTimeUnixNano)
                if spanCount != 0 { try container.encode(spanCount, forKey: .spanCount) }
                if errorSpanCount != 0 { try container.encode(errorSpanCount, forKey: .errorSpanCount) }
                if orphanSpanCount != 0 { try container.encode(orphanSpanCount, forKey: .orphanSpanCount) }
                try container.encode(services, forKey: .services)
            }

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
