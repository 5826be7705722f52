import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// The Jaeger HTTP query API (`/api/...`) that the Jaeger UI and Grafana's Jaeger data source call, with
/// Jaeger's envelope `{"data","total","limit","offset","errors"}`, its status codes and its messages. Where the
/// viewer answers differently on purpose, `docs/jaeger-conformance.md` says so.
package struct JaegerQueryAPI: Sendable {
    package let store: any TraceStore

    package init(store: any TraceStore) {
        self.store = store
    }

    package func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/services") { _, _ -> Response in
            let services = try await store.services()
            return HTTPAnswer.json(JaegerEnvelope(data: services, total: services.count))
        }
        router.get("/api/services/:service/operations") { _, context -> Response in
            let service = context.parameters.get("service")?.removingPercentEncoding ?? ""
            var names: [String] = []
            for operation in try await store.operationsWithKindNames(service: service) where names.last != operation.name {
                names.append(operation.name)
            }
            return HTTPAnswer.json(JaegerEnvelope(data: names, total: names.count))
        }
        router.get("/api/operations") { request, _ -> Response in
            let parameters = QueryParameters(request)
            guard let service = parameters.get("service"), !service.isEmpty else {
                return HTTPAnswer.error(.badRequest, "parameter 'service' is required")
            }
            let kind = parameters.get("spanKind")
            struct Operation: Encodable {
                var name: String
                var spanKind: String
            }
            let operations = try await store.operationsWithKindNames(service: service)
                .filter { kind == nil || kind == "" || $0.kind.rawValue == kind }
                .map { Operation(name: $0.name, spanKind: $0.kind.rawValue) }
            return HTTPAnswer.json(JaegerEnvelope(data: operations, total: operations.count))
        }
        router.get("/api/dependencies") { request, _ -> Response in
            let parameters = QueryParameters(request)
            let end: UInt64
            let lookback: UInt64
            do {
                end =
                    try parameters.get("endTs").flatMap {
                        $0.isEmpty ? nil : try UntrustedValue.timestamp("endTs", $0, unitNanoseconds: 1_000_000)
                    }
                    ?? DefaultTracerClock.now.nanosecondsSinceEpoch
                lookback =
                    try parameters.get("lookback").flatMap {
                        $0.isEmpty ? nil : try UntrustedValue.interval("lookback", $0, unitNanoseconds: 1_000_000)
                    } ?? 86_400_000_000_000
            } catch let invalid as InvalidParameter {
                return HTTPAnswer.error(.badRequest, invalid.description)
            }
            var links = try await store.dependencies(startNanoseconds: end - min(end, lookback), endNanoseconds: end)
            if let service = parameters.get("service"), !service.isEmpty {
                links = links.filter { $0.parent == service || $0.child == service }
            }
            return HTTPAnswer.json(JaegerEnvelope(data: links, total: 0))
        }
        router.post("/api/transform") { request, _ -> Response in
            // The Jaeger UI's file upload: an OTLP JSON export in, its traces in the UI's JSON out, stored nowhere.
            let body: ByteBuffer
            do throws(RequestBodyError) {
                body = try await request.collectBody(upTo: Self.maximumTransformBytes)
            } catch {
                return HTTPAnswer.error(error.status, error.description)
            }
            let otlp: OTLPExportTraceServiceRequest
            do {
                otlp = try OTLPJSON.decodeRequest(Data(body.readableBytesView))
            } catch {
                return HTTPAnswer.error(.badRequest, "cannot unmarshal OTLP : \(error)")
            }
            return HTTPAnswer.json(JaegerEnvelope(data: JaegerTrace.traces(from: otlp), total: 0))
        }
        router.get("/api/traces") { request, _ -> Response in
            let parameters = QueryParameters(request)
            let search: JaegerSearch.Request
            do {
                search = try JaegerSearch.parse(parameters, nowNanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch)
            } catch let error as InvalidParameter {
                return HTTPAnswer.error(.badRequest, error.description)
            }
            switch search {
            case .traceIDs(let ids):
                // Jaeger answers 200 with what it found, and an error entry per trace it did not.
                let traces = JaegerTrace.traces(from: try await store.traces(ids).request, in: ids)
                let found = Set(traces.map(\.traceID))
                let missing = ids.map(TraceIDText.jaeger).filter { !found.contains($0) }
                return HTTPAnswer.json(
                    JaegerEnvelope(
                        data: traces, total: 0,
                        errors: missing.isEmpty ? nil : missing.map { .init(code: nil, msg: "trace not found", traceID: $0) }))
            case .query(let query):
                let ids = try await store.findTraceIDs(query)
                let traces = JaegerTrace.traces(from: try await store.traces(ids).request, in: ids)
                return HTTPAnswer.json(JaegerEnvelope(data: traces, total: 0))
            }
        }
        router.get("/api/traces/:traceID") { request, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else {
                return HTTPAnswer.error(.badRequest, TraceIDText.parseError(raw))
            }
            do {
                try Self.checkTraceFetchParameters(QueryParameters(request))
            } catch let invalid as InvalidParameter {
                return HTTPAnswer.error(.badRequest, invalid.description)
            }
            guard let answer = try await WholeTraceAnswer.jaeger(traceID, store: store) else {
                return HTTPAnswer.error(.notFound, "trace not found")
            }
            return answer
        }
        // Features the viewer does not have answer as Jaeger does when they are not configured.
        router.post("/api/archive/:traceID") { request, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard TraceIDText.parse(raw) != nil else { return HTTPAnswer.error(.badRequest, TraceIDText.parseError(raw)) }
            do {
                try Self.checkTraceFetchParameters(QueryParameters(request))
            } catch let invalid as InvalidParameter {
                return HTTPAnswer.error(.badRequest, invalid.description)
            }
            return HTTPAnswer.error(.internalServerError, "archive span storage was not configured")
        }
        router.get("/api/quality-metrics") { _, _ -> Response in
            HTTPAnswer.error(.notImplemented, "data quality metrics are not available in otter viewer")
        }
        // Anything else under /api/ is Jaeger's catch-all 404.
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
            router.on("/api/**", method: method) { _, _ -> Response in HTTPAnswer.error(.notFound, "404 page not found") }
        }
    }

    static let maximumTransformBytes = 64 << 20

    /// `start`, `end` (µs) and `raw` (bool) on a trace fetch or archive: checked as Jaeger checks them. The viewer
    /// returns the whole trace whatever the window, and `raw=true` changes nothing (it keeps no adjusters beyond
    /// removing exact duplicates).
    static func checkTraceFetchParameters(_ parameters: QueryParameters) throws {
        for name in ["start", "end"] {
            if let text = parameters.get(name), !text.isEmpty { _ = try UntrustedValue.timestamp(name, text, unitNanoseconds: 1_000) }
        }
        if let raw = parameters.get("raw"), !raw.isEmpty { _ = try UntrustedValue.bool("raw", raw) }
    }
}
