import Foundation
import Hummingbird
import Mustache
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// The web UI on Jaeger UI's routes (`/search?service=...`, `/trace/{traceID}`, `/dependencies`, `/monitor`), plus
/// `/compare`, `/upload` and `/logs`: server-rendered HTML from Mustache templates, which HTML-escape every value taken
/// from a span or a log record. Each page shows its data without JavaScript; its script (an ES module under `/static/`:
/// `trace-page.mjs`, `upload-page.mjs`, `search-page.mjs`, `logs-page.mjs`) adds the explorer (with the trace's log
/// records), live search and the live tail of logs.
package struct ViewerUI: Sendable {
    package let store: any TraceStore
    /// Where log records are kept; without one, `/logs` says so and the explorer shows no records.
    package let logStore: (any LogStore)?
    /// What `/status` shows (nil: no status page).
    let status: StatusAPI?
    private let library: MustacheLibrary
    /// Traces with more spans than this are read and sent to the explorer as an outline, each span's details read as
    /// it is shown: a 100,000-span trace opens in the time and memory of its outline
    /// (``Viewer/Configuration/traceOutlineAbove``).
    package var outlineAbove = 2_000

    package init(store: any TraceStore, logStore: (any LogStore)? = nil) throws {
        try self.init(store: store, logStore: logStore, status: nil)
    }

    init(store: any TraceStore, logStore: (any LogStore)?, status: StatusAPI?) throws {
        self.store = store
        self.logStore = logStore
        self.status = status
        self.library = try Templates.library()
    }

    package func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ -> Response in
            Response(status: .seeOther, headers: [.location: "/search"])
        }
        router.get("/search") { request, _ -> Response in
            let model = try await SearchPage(QueryParameters(request), store: store, nowNanoseconds: Self.now)
            return page(title: "Search", template: "search", model: model, script: "search-page.mjs")
        }
        router.get("/compare") { request, _ -> Response in
            page(title: "Compare", template: "compare", model: try await ComparePage(QueryParameters(request), store: store))
        }
        router.get("/monitor") { request, _ -> Response in
            let model = try await MonitorPage(QueryParameters(request), store: store, nowNanoseconds: Self.now)
            return page(title: "Monitor", template: "monitor", model: model)
        }
        router.get("/upload") { _, _ -> Response in
            page(title: "Upload", template: "upload", model: [String: String](), script: "upload-page.mjs")
        }
        router.get("/dependencies") { request, _ -> Response in
            let lookback = QueryParameters(request).get("lookback") ?? "24h"
            let model = try await DependenciesPage(lookback: lookback, store: store, nowNanoseconds: Self.now)
            return page(title: "System architecture", template: "dependencies", model: model)
        }
        router.get("/logs") { request, _ -> Response in
            guard let logStore else { return page(title: "Logs", template: "noLogStore", model: [String: String]()) }
            let model = try await LogsPage(QueryParameters(request), store: logStore, nowNanoseconds: Self.now)
            return page(title: "Logs", template: "logs", model: model, script: "logs-page.mjs")
        }
        if let status {
            router.get("/status") { _, _ -> Response in
                page(title: "Status", template: "status", model: StatusPage(try await status.report()))
            }
        }
        router.get("/trace/:traceID") { request, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else {
                return page(title: "Not found", template: "notFound", model: ["traceID": raw], status: .notFound)
            }
            let firstRow = QueryParameters(request).get("offset").flatMap { Int($0) } ?? 0
            let colors = try await store.serviceColors()
            // One model: the page draws it, and embeds it for the explorer.
            let rows = max(firstRow, 0)..<max(firstRow, 0) + TracePage.rowsPerPage
            guard let model = try await TraceModel.read(traceID, from: store, colors: colors, spanLimit: outlineAbove, rows: rows) else {
                return page(title: "Not found", template: "notFound", model: ["traceID": raw], status: .notFound)
            }
            var tracePage = TracePage(model, firstRow: firstRow)
            // The explorer shows every span: only the first page embeds the model (later pages are for no JavaScript).
            if firstRow <= 0 { tracePage.embedModel(model, spanLimit: outlineAbove) }
            // The model's JSON (53 MB for a 1,000,000-span outline) goes into the answer once, not through the templates.
            let modelJSON = tracePage.modelJSON
            // A slot no stored value can hold: each page's is new.
            let slot = "otter-embedded-model-\(UUID().uuidString)"
            if modelJSON != nil { tracePage.modelJSON = slot }
            if let logStore { tracePage.hasLogs = try await logStore.logs(LogQuery(traceID: traceID, limit: 1)).recordCount > 0 }
            return page(
                title: "Trace \(traceID.hexString)", template: "trace", model: tracePage, script: "trace-page.mjs",
                embedding: modelJSON.map { (slot, $0) })
        }
    }

    static var now: UInt64 { DefaultTracerClock.now.nanosecondsSinceEpoch }

    /// A page rendered from its template in the layout; `embedding`'s text (JSON already safe for a `<script>` block)
    /// replaces its slot, a text the model holds, and is written once into the answer.
    private func page(
        title: String, template: String, model: Any, script: String? = nil, status: HTTPResponse.Status = .ok,
        embedding: (slot: String, text: String)? = nil
    ) -> Response {
        let content = library.render(model, withTemplate: template) ?? ""
        var frame: [String: String] = ["title": title, "content": content]
        frame["script"] = script
        let html = library.render(frame, withTemplate: "layout") ?? ""
        var body = ByteBuffer()
        if let embedding, let slot = html.range(of: embedding.slot) {
            body.reserveCapacity(html.utf8.count + embedding.text.utf8.count)
            body.writeSubstring(html[..<slot.lowerBound])
            body.writeString(embedding.text)
            body.writeSubstring(html[slot.upperBound...])
        } else {
            body.writeString(html)
        }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: body))
    }

    /// A value percent-encoded for a URL query.
    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
