import Foundation
import Hummingbird
import Mustache
import NIOCore
import Otter
import OtterOTLP
import Tracing

/// The web UI on Jaeger UI's routes (`/search?service=...`, `/trace/{traceID}`): server-rendered HTML from
/// Mustache templates, which HTML-escape every value taken from a span.
package struct ViewerUI: Sendable {
    package let store: any TraceStore
    private let library: MustacheLibrary

    package init(store: any TraceStore) throws {
        self.store = store
        var library = MustacheLibrary()
        try library.register(Templates.layout, named: "layout")
        try library.register(Templates.search, named: "search")
        try library.register(Templates.trace, named: "trace")
        try library.register(Templates.notFound, named: "notFound")
        try library.register(Templates.dependencies, named: "dependencies")
        self.library = library
    }

    package func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ -> Response in
            Response(status: .seeOther, headers: [.location: "/search"])
        }
        router.get("/search") { request, _ -> Response in
            try await page(title: "Search", template: "search", model: searchPage(QueryParameters(request)))
        }
        router.get("/dependencies") { request, _ -> Response in
            let lookback = QueryParameters(request).get("lookback") ?? "24h"
            return try await page(title: "System architecture", template: "dependencies", model: dependenciesPage(lookback: lookback))
        }
        router.get("/trace/:traceID") { request, context -> Response in
            let raw = TraceIDText.pathParameter(context.parameters.get("traceID"))
            guard let traceID = TraceIDText.parse(raw) else {
                return try await page(title: "Not found", template: "notFound", model: ["traceID": raw], status: .notFound)
            }
            let firstRow = QueryParameters(request).get("from").flatMap { Int($0) } ?? 0
            guard let tracePage = TracePage(spans: try await store.trace(traceID), firstRow: firstRow) else {
                return try await page(title: "Not found", template: "notFound", model: ["traceID": raw], status: .notFound)
            }
            return try await page(title: "Trace \(traceID.hexString)", template: "trace", model: tracePage)
        }
    }

    private func page(title: String, template: String, model: Any, status: HTTPResponse.Status = .ok) async throws -> Response {
        let content = library.render(model, withTemplate: template) ?? ""
        let html = library.render(["title": title, "content": content], withTemplate: "layout") ?? ""
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Dependencies

    struct DependencyNode {
        var name: String
        var x: Int
        var y: Int
        var labelY: Int
        var color: String
    }

    struct DependencyLink {
        var parent: String
        var child: String
        var parentSearch: String
        var childSearch: String
        var callCount: Int
        var x1: Int, y1: Int, x2: Int, y2: Int
        var labelX: Int, labelY: Int
    }

    struct DependenciesPage {
        var lookbacks: [Lookback]
        var nodes: [DependencyNode]
        var links: [DependencyLink]
        var hasLinks: Bool
        var size: Int
    }

    /// The services that call each other, as a graph (services on a circle, one arrow per caller → callee) and a table.
    func dependenciesPage(lookback: String) async throws -> DependenciesPage {
        let seconds = Self.lookbackChoices.first { $0.0 == lookback }?.2 ?? 24 * 3600
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        let edges = try await store.dependencies(startNanoseconds: now - min(now, seconds * 1_000_000_000), endNanoseconds: now)
        let names = Array(Set(edges.flatMap { [$0.parent, $0.child] })).sorted()
        let size = 480
        let center = Double(size) / 2
        let radius = names.count > 1 ? center - 60 : 0
        var positions: [String: (x: Double, y: Double)] = [:]
        let nodes = names.enumerated().map { index, name in
            let angle = 2 * Double.pi * Double(index) / Double(max(names.count, 1)) - Double.pi / 2
            let x = center + radius * cos(angle)
            let y = center + radius * sin(angle)
            positions[name] = (x, y)
            return DependencyNode(
                name: name, x: Int(x), y: Int(y), labelY: Int(y) + (y > center ? 24 : -14),
                color: TracePage.palette[index % TracePage.palette.count])
        }
        let links = edges.map { edge in
            let from = positions[edge.parent]!
            let to = positions[edge.child]!
            // Stop the arrow at the callee's circle.
            let length = max(((to.x - from.x) * (to.x - from.x) + (to.y - from.y) * (to.y - from.y)).squareRoot(), 1)
            let endX = to.x - (to.x - from.x) / length * 10
            let endY = to.y - (to.y - from.y) / length * 10
            return DependencyLink(
                parent: edge.parent, child: edge.child,
                parentSearch: Self.searchURL(service: edge.parent), childSearch: Self.searchURL(service: edge.child),
                callCount: edge.callCount,
                x1: Int(from.x), y1: Int(from.y), x2: Int(endX), y2: Int(endY),
                labelX: Int((from.x + to.x) / 2) + 4, labelY: Int((from.y + to.y) / 2) - 4)
        }
        return DependenciesPage(
            lookbacks: Self.lookbackChoices.map { Lookback(value: $0.0, label: $0.1, selected: $0.0 == lookback) },
            nodes: nodes, links: links, hasLinks: !links.isEmpty, size: size)
    }

    static func searchURL(service: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "/search?service=" + (service.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
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

    func searchPage(_ form: QueryParameters) async throws -> SearchPage {
        let services = try await store.services()
        let service = form.get("service").flatMap { $0.isEmpty ? nil : $0 } ?? services.first ?? ""
        let lookback = form.get("lookback") ?? "1h"
        var page = SearchPage(
            services: services.map { Option(name: $0, selected: $0 == service) },
            operation: form.get("operation") ?? "", tags: form.get("tags") ?? "",
            lookbacks: Self.lookbackChoices.map { Lookback(value: $0.0, label: $0.1, selected: $0.0 == lookback) },
            minDuration: form.get("minDuration") ?? "", maxDuration: form.get("maxDuration") ?? "", limit: form.get("limit") ?? "20",
            message: nil, results: [], hasResults: false, searched: !service.isEmpty)
        guard !service.isEmpty else {
            page.message =
                "No traces stored yet: send spans over OTLP to this viewer (OTLP/gRPC and OTLP/HTTP ports, printed when it started)."
            return page
        }
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        let seconds = Self.lookbackChoices.first { $0.0 == lookback }?.2 ?? 3600
        do {
            var query = TraceQuery(
                service: service, operation: page.operation.isEmpty ? nil : page.operation,
                startTimeMinimumNanoseconds: now - min(now, seconds * 1_000_000_000), startTimeMaximumNanoseconds: now)
            if !page.limit.isEmpty { query.limit = try UntrustedValue.integer("limit", page.limit, in: 1...JaegerSearch.maximumLimit) }
            if !page.minDuration.isEmpty { query.durationMinimumNanoseconds = try UntrustedValue.duration("minDuration", page.minDuration) }
            if !page.maxDuration.isEmpty { query.durationMaximumNanoseconds = try UntrustedValue.duration("maxDuration", page.maxDuration) }
            query.tags = try LogfmtTags.parse(page.tags)
            page.results = Self.resultRows(try await store.summaries(store.findTraceIDs(query)))
            page.hasResults = !page.results.isEmpty
        } catch let error as InvalidParameter {
            page.message = error.description
        }
        return page
    }

    static func resultRows(_ summaries: [TraceSummary]) -> [ResultRow] {
        let earliest = summaries.map(\.startTimeNanoseconds).min() ?? 0
        let latest = max(summaries.map(\.startTimeNanoseconds).max() ?? 0, earliest + 1)
        let longest = max(summaries.map(\.durationNanoseconds).max() ?? 1, 1)
        return summaries.map { summary in
            ResultRow(
                traceID: summary.traceID.hexString, rootName: summary.rootOperationName, rootService: summary.rootServiceName,
                services: summary.services.map(\.name).joined(separator: ", "), spanCount: summary.spanCount,
                errorCount: summary.errorSpanCount, hasErrors: summary.errorSpanCount > 0,
                duration: TimestampFormatting.humanDuration(nanoseconds: summary.durationNanoseconds),
                start: TimestampFormatting.dateTime(nanosecondsSinceEpoch: summary.startTimeNanoseconds),
                x: 10 + Int(Double(summary.startTimeNanoseconds - earliest) / Double(latest - earliest) * 980),
                y: 130 - Int(Double(summary.durationNanoseconds) / Double(longest) * 120))
        }
    }
}
