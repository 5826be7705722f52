import Foundation
import Hummingbird
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// The trace explorer's own endpoints, beside Jaeger's: a trace as the explorer draws it (``TraceModel``), and
/// uploaded files (OTLP JSON or Jaeger JSON) turned into the same models without being stored.
struct ExplorerAPI: Sendable {
    let store: any TraceStore

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/otter/traces/:traceID") { _, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else { return JaegerQueryAPI.error(.badRequest, TraceIDText.parseError(raw)) }
            let colors = try await store.serviceColors()
            guard let model = TraceModel(spans: try await store.trace(traceID), colors: colors) else {
                return JaegerQueryAPI.error(.notFound, "trace not found")
            }
            return JaegerQueryAPI.json(model)
        }
        router.post("/api/otter/trace-models") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: JaegerQueryAPI.maximumTransformBytes)
            } catch RequestBodyError.tooSlow {
                return JaegerQueryAPI.error(.requestTimeout, "request body not received within \(Request.bodyDeadline)")
            } catch {
                return JaegerQueryAPI.error(.contentTooLarge, "the file exceeds \(JaegerQueryAPI.maximumTransformBytes) bytes")
            }
            let traces: [[FinishedSpan]]
            do {
                traces = try Self.traces(inFile: Data(body.readableBytesView))
            } catch {
                return JaegerQueryAPI.error(.badRequest, "\(error)")
            }
            let colors = try await store.serviceColors()
            let models = traces.compactMap { TraceModel(spans: $0, colors: colors) }
            guard !models.isEmpty else { return JaegerQueryAPI.error(.badRequest, "the file holds no spans") }
            return JaegerQueryAPI.json(["traces": models])
        }
    }

    /// The traces of an uploaded file: OTLP JSON (an export request with `resourceSpans`; the viewer's own api_v3
    /// answer, which wraps one in `result`; or the Collector file exporter's JSON Lines, one request per line) or
    /// Jaeger JSON.
    static func traces(inFile data: Data) throws -> [[FinishedSpan]] {
        if data.range(of: Data("\"resourceSpans\"".utf8)) != nil {
            var spans: [FinishedSpan] = []
            for line in Self.otlpDocuments(data) {
                let request: OTLPExportTraceServiceRequest
                do {
                    request = try OTLPJSON.decodeRequest(line)
                } catch {
                    throw JaegerJSONImport.ImportError(description: "cannot read the OTLP JSON: \(Self.reason(error))")
                }
                spans += OTLPTraces(request).spans
            }
            var order: [TraceID] = []
            var byTrace: [TraceID: [FinishedSpan]] = [:]
            for span in spans {
                if byTrace[span.spanContext.traceID] == nil { order.append(span.spanContext.traceID) }
                byTrace[span.spanContext.traceID, default: []].append(span)
            }
            return order.compactMap { byTrace[$0] }
        }
        return try JaegerJSONImport.traces(data)
    }

    /// The OTLP requests in a file: the whole file, the `result` of an api_v3 answer, or one per line (JSON Lines).
    static func otlpDocuments(_ data: Data) -> [Data] {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let result = object["result"] as? [String: Any], let unwrapped = try? JSONSerialization.data(withJSONObject: result) {
                return [unwrapped]
            }
            return [data]
        }
        let lines = data.split(separator: UInt8(ascii: "\n")).filter { line in
            line.contains { ![UInt8(ascii: " "), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) }
        }
        return lines.count > 1 ? lines.map { Data($0) } : [data]
    }

    /// An error as a short sentence, not a Swift dump.
    static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

extension TraceReader {
    /// A colour for every stored service, the same on every page (``ServicePalette``). With a ``SQLiteTraceStore`` the
    /// services are taken in the order they were first stored, so a new service never takes an older one's colour.
    func serviceColors() async throws -> [String: String] {
        if let store = self as? SQLiteTraceStore { return ServicePalette.assign(try await store.servicesInFirstSeenOrder()) }
        return ServicePalette.assign(try await services())
    }
}
