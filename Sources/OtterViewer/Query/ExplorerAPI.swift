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
            guard let traceID = TraceIDText.parse(raw) else { return HTTPAnswer.error(.badRequest, TraceIDText.parseError(raw)) }
            let colors = try await store.serviceColors()
            guard let model = TraceModel(spans: try await store.trace(traceID), colors: colors) else {
                return HTTPAnswer.error(.notFound, "trace not found")
            }
            return HTTPAnswer.json(model)
        }
        router.post("/api/otter/trace-models") { request, _ -> Response in
            let body: ByteBuffer
            do throws(RequestBodyError) {
                body = try await request.collectBody(upTo: JaegerQueryAPI.maximumTransformBytes)
            } catch {
                return HTTPAnswer.error(error.status, error.description)
            }
            let traces: [[FinishedSpan]]
            do {
                traces = try TraceFile.traces(Data(body.readableBytesView))
            } catch {
                return HTTPAnswer.error(.badRequest, "\(error)")
            }
            let colors = try await store.serviceColors()
            let models = traces.compactMap { TraceModel(spans: $0, colors: colors) }
            guard !models.isEmpty else { return HTTPAnswer.error(.badRequest, "the file holds no spans") }
            return HTTPAnswer.json(["traces": models])
        }
    }
}
