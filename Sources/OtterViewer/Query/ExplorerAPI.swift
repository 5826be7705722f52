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
    /// The most spans of a trace whose whole model `/api/otter/traces/{id}` makes
    /// (``Viewer/Configuration/maximumModelSpans``).
    let maximumModelSpans: Int
    /// The models being written, in the bytes their spans hold (``TraceModelAnswer/estimatedBytes(_:)``): a client
    /// that reads slowly (or not at all) holds its model until its connection closes, and more such clients must not
    /// add up.
    let modelBudget: MemoryBudget

    init(store: any TraceStore, maximumModelSpans: Int, modelBudgetBytes: Int) {
        self.store = store
        self.maximumModelSpans = maximumModelSpans
        modelBudget = MemoryBudget(limit: modelBudgetBytes)
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/otter/traces/:traceID") { _, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else { return HTTPAnswer.error(.badRequest, TraceIDText.parseError(raw)) }
            // Read a part at a time, so a trace too big for a whole model is refused before it is all in memory.
            var spans: [FinishedSpan] = []
            let parts = try await store.traceParts(traceID)
            while let part = try await parts.next() {
                guard spans.count + part.spans.count <= maximumModelSpans else {
                    return HTTPAnswer.error(
                        .unprocessableContent,
                        "the trace has more than \(maximumModelSpans) spans, too many for one model; read it whole from "
                            + "/api/traces/{id} or /api/v3/traces/{id}, or open /trace/{id}, which reads its outline")
                }
                spans += part.spans
            }
            // Held while the answer is written: a model as big as the budget is admitted when no other is in flight.
            guard let reservation = modelBudget.reserve(spans.reduce(0) { $0 + TraceModelAnswer.estimatedBytes($1) }) else {
                var response = HTTPAnswer.error(
                    .serviceUnavailable,
                    "other models are being written (\(modelBudget.limit >> 20) MB of spans at most at once): retry shortly")
                response.headers[.retryAfter] = "1"
                return response
            }
            guard let model = TraceModel(spans: spans, colors: try await store.serviceColors()) else {
                return HTTPAnswer.error(.notFound, "trace not found")
            }
            return TraceModelAnswer.json(model, holding: reservation)
        }
        // The explorer of a big trace holds its outline; these read the rest as it is shown.
        router.get("/api/otter/traces/:traceID/spans") { request, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else { return HTTPAnswer.error(.badRequest, TraceIDText.parseError(raw)) }
            let texts = QueryParameters(request).getAll("spanID")
            guard !texts.isEmpty, texts.count <= Self.maximumSpansPerRequest else {
                return HTTPAnswer.error(.badRequest, "give 1 to \(Self.maximumSpansPerRequest) spanID parameters")
            }
            var spanIDs: Set<SpanID> = []
            for text in texts {
                guard text.utf8.count == 16, let spanID = SpanID(hexString: text.lowercased()) else {
                    return HTTPAnswer.error(.badRequest, "spanID \(UntrustedValue.quoted(text)) is not 16 hexadecimal digits")
                }
                spanIDs.insert(spanID)
            }
            let spans = try await store.spans(of: traceID, withIDs: spanIDs)
            if spans.isEmpty, try await store.traceParts(traceID).next() == nil { return HTTPAnswer.error(.notFound, "trace not found") }
            // Event times from the span's own start.
            return HTTPAnswer.json(["spans": spans.map { TraceModel.details(of: $0, traceStart: $0.startTimeNanosecondsSinceEpoch) }])
        }
        router.get("/api/otter/traces/:traceID/find") { request, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else { return HTTPAnswer.error(.badRequest, TraceIDText.parseError(raw)) }
            let query = QueryParameters(request).get("uiFind") ?? ""
            guard query.count <= TraceFind.maximumQueryLength else {
                return HTTPAnswer.error(.badRequest, "uiFind is longer than \(TraceFind.maximumQueryLength) characters")
            }
            let parts = try await store.traceParts(traceID)
            guard var part = try await parts.next() else { return HTTPAnswer.error(.notFound, "trace not found") }
            guard let find = TraceFind(query) else { return HTTPAnswer.json(["spanIDs": [String]()]) }
            var found: [String] = []
            while true {
                for span in part.spans where find.matches(span) { found.append(span.spanContext.spanID.hexString) }
                guard let next = try await parts.next() else { break }
                part = next
            }
            return HTTPAnswer.json(["spanIDs": found])
        }
        router.post("/api/otter/trace-models") { request, _ -> Response in
            if let encoding = request.headers[.contentEncoding], !["", "identity"].contains(encoding.lowercased()) {
                return HTTPAnswer.error(.unsupportedMediaType, "send the file uncompressed, not as Content-Encoding \(encoding.prefix(40))")
            }
            let body: ByteBuffer
            do throws(RequestBodyError) {
                body = try await request.collectBody(upTo: JaegerQueryAPI.maximumTransformBytes)
            } catch {
                return HTTPAnswer.error(error.status, error.description)
            }
            guard !body.readableBytesView.starts(with: [0x1F, 0x8B]) else {
                return HTTPAnswer.error(.unsupportedMediaType, "the file is gzip-compressed: send it uncompressed")
            }
            let traces: [[FinishedSpan]]
            do {
                // Read in place: the file is not copied, and its bytes are let go once its spans are read.
                traces = try body.withUnsafeReadableBytes { try TraceFile.traces($0) }
            } catch {
                return HTTPAnswer.error(.badRequest, "\(error)")
            }
            guard let answer = TraceModelAnswer.uploaded(traces, colors: try await store.serviceColors()) else {
                return HTTPAnswer.error(.badRequest, "the file holds no spans")
            }
            return answer
        }
    }

    /// The most spans one request for details names.
    static let maximumSpansPerRequest = 500
}
