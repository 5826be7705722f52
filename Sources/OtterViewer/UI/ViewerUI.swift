import Foundation
import Hummingbird
import Mustache
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// The web UI on Jaeger UI's routes (`/search?service=...`, `/trace/{traceID}`): server-rendered HTML from
/// Mustache templates, which HTML-escape every value taken from a span.
public struct ViewerUI: Sendable {
    public let store: any TraceStore
    private let library: MustacheLibrary

    public init(store: any TraceStore) throws {
        self.store = store
        var library = MustacheLibrary()
        try library.register(Templates.layout, named: "layout")
        try library.register(Templates.search, named: "search")
        try library.register(Templates.trace, named: "trace")
        try library.register(Templates.notFound, named: "notFound")
        self.library = library
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ -> Response in
            Response(status: .seeOther, headers: [.location: "/search"])
        }
        router.get("/search") { request, _ -> Response in
            try await page(title: "Search", template: "search", model: searchPage(request.uri.queryParameters))
        }
        router.get("/trace/:traceID") { _, context -> Response in
            let raw = context.parameters.get("traceID") ?? ""
            guard let traceID = JaegerQueryAPI.parseTraceID(raw) else {
                return try await page(title: "Not found", template: "notFound", model: ["traceID": raw], status: .notFound)
            }
            let spans = try await store.trace(traceID)
            guard !spans.isEmpty else {
                return try await page(title: "Not found", template: "notFound", model: ["traceID": raw], status: .notFound)
            }
            return try await page(title: "Trace \(traceID.hexString)", template: "trace", model: TracePage(spans: spans))
        }
        router.get("/api/v3/traces/:traceID") { _, context -> Response in
            let raw = context.parameters.get("traceID") ?? ""
            guard let traceID = JaegerQueryAPI.parseTraceID(raw) else {
                return v3Error(.badRequest, "malformed trace id: \(raw)")
            }
            let spans = try await store.trace(traceID)
            guard !spans.isEmpty else { return v3Error(.notFound, "No traces found") }
            var body = ByteBuffer(string: "{\"result\":")
            body.writeBytes(OTLPJSON.encode(OTLPMapping.request(for: spans)))
            body.writeString("}")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
    }

    private func v3Error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": ["httpCode": Int(status.code), "message": message]])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func page(title: String, template: String, model: Any, status: HTTPResponse.Status = .ok) async throws -> Response {
        let content = library.render(model, withTemplate: template) ?? ""
        let html = library.render(["title": title, "content": content], withTemplate: "layout") ?? ""
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Search

    struct Option {
        var name: String
        var selected: Bool
    }

    struct Lookback {
        var value: String
        var label: String
        var selected: Bool
    }

    struct ResultRow {
        var traceID: String
        var rootName: String
        var rootService: String
        var services: String
        var spanCount: Int
        var errorCount: Int
        var hasErrors: Bool
        var duration: String
        var start: String
        var x: Int
        var y: Int
    }

    struct SearchPage {
        var services: [Option]
        var operation: String
        var tags: String
        var lookbacks: [Lookback]
        var minDuration: String
        var maxDuration: String
        var limit: String
        var message: String?
        var results: [ResultRow]
        var hasResults: Bool
        var searched: Bool
    }

    static let lookbackChoices: [(String, String, UInt64)] = [
        ("1h", "Last hour", 3600), ("6h", "Last 6 hours", 6 * 3600), ("24h", "Last 24 hours", 24 * 3600),
        ("48h", "Last 2 days", 48 * 3600), ("168h", "Last 7 days", 168 * 3600),
    ]

    func searchPage(_ parameters: some Sequence<(key: Substring, value: Substring)>) async throws -> SearchPage {
        var form: [String: String] = [:]
        for (key, value) in parameters { form[String(key)] = String(value) }
        let services = try await store.services()
        let service = form["service"].flatMap { $0.isEmpty ? nil : $0 } ?? services.first ?? ""
        let lookback = form["lookback"] ?? "1h"
        var page = SearchPage(
            services: services.map { Option(name: $0, selected: $0 == service) },
            operation: form["operation"] ?? "", tags: form["tags"] ?? "",
            lookbacks: Self.lookbackChoices.map { Lookback(value: $0.0, label: $0.1, selected: $0.0 == lookback) },
            minDuration: form["minDuration"] ?? "", maxDuration: form["maxDuration"] ?? "", limit: form["limit"] ?? "20",
            message: nil, results: [], hasResults: false, searched: !service.isEmpty)
        guard !service.isEmpty else {
            page.message = "No traces stored yet: send spans over OTLP to this viewer (ports 4317 and 4318)."
            return page
        }
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        let seconds = Self.lookbackChoices.first { $0.0 == lookback }?.2 ?? 3600
        var values: [String: [String]] = [
            "service": [service], "limit": [page.limit],
            "start": [String((now - min(now, seconds * 1_000_000_000)) / 1000)],
        ]
        if !page.operation.isEmpty { values["operation"] = [page.operation] }
        if !page.minDuration.isEmpty { values["minDuration"] = [page.minDuration] }
        if !page.maxDuration.isEmpty { values["maxDuration"] = [page.maxDuration] }
        values["tag"] = page.tags.split(separator: " ").compactMap { pair in
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            return "\(pair[..<equals]):\(pair[pair.index(after: equals)...])"
        }
        do {
            guard case .query(let query) = try JaegerSearch.parse(
                value: { values[$0]?.first }, values: { values[$0] ?? [] }, nowNanoseconds: now)
            else { return page }
            var traces: [[FinishedSpan]] = []
            for traceID in try await store.findTraceIDs(query) {
                let spans = try await store.trace(traceID)
                if !spans.isEmpty { traces.append(spans) }
            }
            page.results = Self.resultRows(traces)
            page.hasResults = !page.results.isEmpty
        } catch let error as JaegerSearch.InvalidParameter {
            page.message = error.description
        }
        return page
    }

    static func resultRows(_ traces: [[FinishedSpan]]) -> [ResultRow] {
        let summaries = traces.map(TraceSummary.init)
        let earliest = summaries.map(\.start).min() ?? 0
        let latest = max(summaries.map(\.start).max() ?? 0, earliest + 1)
        let longest = max(summaries.map(\.duration).max() ?? 1, 1)
        return summaries.map { summary in
            ResultRow(
                traceID: summary.traceID.hexString, rootName: summary.rootName, rootService: summary.rootService,
                services: summary.services.joined(separator: ", "), spanCount: summary.spanCount, errorCount: summary.errorCount,
                hasErrors: summary.errorCount > 0, duration: TimestampText.duration(summary.duration), start: TimestampText.date(summary.start),
                x: 10 + Int(Double(summary.start - earliest) / Double(latest - earliest) * 980),
                y: 130 - Int(Double(summary.duration) / Double(longest) * 120))
        }
    }
}

/// What a search result shows of a trace.
struct TraceSummary {
    let traceID: TraceID
    let rootName: String
    let rootService: String
    let services: [String]
    let spanCount: Int
    let errorCount: Int
    let start: UInt64
    let duration: UInt64

    init(_ spans: [FinishedSpan]) {
        let ids = Set(spans.map(\.spanContext.spanID))
        let root = spans.first { $0.parentSpanContext.map { !ids.contains($0.spanID) } ?? true } ?? spans[0]
        traceID = root.spanContext.traceID
        rootName = root.operationName
        rootService = root.resource.serviceName ?? "unknown_service"
        services = Array(Set(spans.map { $0.resource.serviceName ?? "unknown_service" })).sorted()
        spanCount = spans.count
        errorCount = spans.filter { $0.status?.code == .error }.count
        start = spans.map(\.startTimeNanosecondsSinceEpoch).min() ?? 0
        duration = (spans.map(\.endTimeNanosecondsSinceEpoch).max() ?? start) - start
    }
}

enum TimestampText {
    static func duration(_ nanoseconds: UInt64) -> String {
        switch nanoseconds {
        case ..<1_000_000: return String(format: "%.0fµs", Double(nanoseconds) / 1e3)
        case ..<1_000_000_000: return String(format: "%.2fms", Double(nanoseconds) / 1e6)
        default: return String(format: "%.2fs", Double(nanoseconds) / 1e9)
        }
    }

    static func date(_ nanoseconds: UInt64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }
}
