import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// The Jaeger HTTP query API (`/api/...`) that the Jaeger UI and Grafana's Jaeger data source call, with
/// Jaeger's envelope `{"data","total","limit","offset","errors"}` and its status codes.
public struct JaegerQueryAPI: Sendable {
    public let store: any TraceStore

    public init(store: any TraceStore) {
        self.store = store
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/services") { _, _ -> Response in
            let services = try await store.services()
            return Self.json(JaegerEnvelope(data: services, total: services.count))
        }
        router.get("/api/services/:service/operations") { _, context -> Response in
            let service = context.parameters.get("service")?.removingPercentEncoding ?? ""
            var names: [String] = []
            for operation in try await store.operations(service: service) where names.last != operation.name {
                names.append(operation.name)
            }
            return Self.json(JaegerEnvelope(data: names, total: names.count))
        }
        router.get("/api/operations") { request, _ -> Response in
            guard let service = request.uri.queryParameters.get("service"), !service.isEmpty else {
                return Self.error(.badRequest, "parameter 'service' is required")
            }
            let kind = request.uri.queryParameters.get("spanKind")
            struct Operation: Encodable {
                var name: String
                var spanKind: String
            }
            let operations = try await store.operations(service: service)
                .filter { kind == nil || kind == "" || $0.kind.rawValue == kind }
                .map { Operation(name: $0.name, spanKind: $0.kind.rawValue) }
            return Self.json(JaegerEnvelope(data: operations, total: operations.count))
        }
        router.get("/api/dependencies") { request, _ -> Response in
            let parameters = request.uri.queryParameters
            let nowMilliseconds = DefaultTracerClock.now.nanosecondsSinceEpoch / 1_000_000
            guard let endMilliseconds = parameters.get("endTs").map({ UInt64($0) }) ?? nowMilliseconds else {
                return Self.error(.badRequest, "unable to parse param 'endTs': \(parameters.get("endTs") ?? "")")
            }
            guard let lookbackMilliseconds = parameters.get("lookback").map({ UInt64($0) }) ?? 86_400_000 else {
                return Self.error(.badRequest, "unable to parse param 'lookback': \(parameters.get("lookback") ?? "")")
            }
            let end = endMilliseconds * 1_000_000
            let start = end - min(end, lookbackMilliseconds * 1_000_000)
            let links = try await store.dependencies(startNanoseconds: start, endNanoseconds: end)
            return Self.json(JaegerEnvelope(data: links, total: links.count))
        }
        router.post("/api/transform") { request, _ -> Response in
            // The Jaeger UI's file upload: an OTLP JSON export in, its traces in the UI's JSON out.
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: Self.maximumTransformBytes)
            } catch {
                return Self.error(.contentTooLarge, "request body exceeds \(Self.maximumTransformBytes) bytes")
            }
            let spans: [FinishedSpan]
            do {
                spans = try OTLPMapping.finishedSpans(from: OTLPJSON.decodeRequest(Data(body.readableBytesView)))
            } catch {
                return Self.error(.badRequest, "cannot parse OTLP JSON: \(error)")
            }
            var spansByTrace: [TraceID: [FinishedSpan]] = [:]
            var order: [TraceID] = []
            for span in spans {
                let traceID = span.spanContext.traceID
                if spansByTrace[traceID] == nil { order.append(traceID) }
                spansByTrace[traceID, default: []].append(span)
            }
            let traces = order.map { JaegerTrace(spans: spansByTrace[$0]!) }
            return Self.json(JaegerEnvelope(data: traces, total: traces.count))
        }
        router.get("/api/traces") { request, _ -> Response in
            let parameters = request.uri.queryParameters
            let search: JaegerSearch.Request
            do {
                search = try JaegerSearch.parse(
                    value: { parameters.get($0) }, values: { parameters.getAll($0) },
                    nowNanoseconds: DefaultTracerClock.now.nanosecondsSinceEpoch)
            } catch let error as JaegerSearch.InvalidParameter {
                return Self.error(.badRequest, error.description)
            }
            let traceIDs: [TraceID]
            switch search {
            case .traceIDs(let ids): traceIDs = ids
            case .query(let query): traceIDs = try await store.findTraceIDs(query)
            }
            var traces: [JaegerTrace] = []
            for traceID in traceIDs {
                let spans = try await store.trace(traceID)
                if !spans.isEmpty { traces.append(JaegerTrace(spans: spans)) }
            }
            return Self.json(JaegerEnvelope(data: traces, total: traces.count))
        }
        router.get("/api/traces/:traceID") { _, context -> Response in
            let raw = context.parameters.get("traceID") ?? ""
            guard let traceID = Self.parseTraceID(raw) else {
                return Self.error(.badRequest, "cannot parse traceID param: \(raw)")
            }
            let spans = try await store.trace(traceID)
            guard !spans.isEmpty else { return Self.error(.notFound, "trace not found", traceID: raw) }
            return Self.json(JaegerEnvelope(data: [JaegerTrace(spans: spans)], total: 1))
        }
    }

    static let maximumTransformBytes = 64 << 20

    /// Jaeger accepts 1 to 32 hex digits (shorter ids are left-padded with zeros).
    static func parseTraceID(_ text: String) -> TraceID? {
        let lowered = text.lowercased()
        guard !lowered.isEmpty, lowered.count <= 32, lowered.allSatisfy(\.isHexDigit) else { return nil }
        let padded = String(repeating: "0", count: 32 - lowered.count) + lowered
        guard let traceID = TraceID(hexString: padded), traceID.isValid else { return nil }
        return traceID
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, traceID: String? = nil) -> Response {
        let envelope = JaegerEnvelope<[String]>(
            data: nil, total: 0, errors: [.init(code: Int(status.code), msg: message, traceID: traceID)])
        return json(envelope, status: status)
    }
}
