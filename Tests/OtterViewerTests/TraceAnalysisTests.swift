import Foundation
import Otter
import Testing
import Tracing

@testable import OtterViewer

/// The explorer's computations on hand-built traces whose answers are worked out by hand: critical path, self time
/// and statistics, the structural diff, and the Jaeger JSON import.
@Suite("trace analysis")
struct TraceAnalysisTests {
    static let base: UInt64 = 1_700_000_000_000_000_000

    /// A span of trace 1 from `start` to `end` milliseconds after `base`.
    static func span(
        _ name: String, id: UInt64, parent: UInt64? = nil, start: UInt64, end: UInt64, kind: SpanKind = .internal, service: String = "api",
        trace: UInt64 = 1
    ) -> FinishedSpan {
        FinishedSpan(
            operationName: name, kind: kind,
            spanContext: OtterSpanContext(traceID: TraceID(high: 0, low: trace), spanID: SpanID(id), traceFlags: .sampled),
            parentSpanContext: parent.map { OtterSpanContext(traceID: TraceID(high: 0, low: trace), spanID: SpanID($0)) },
            startTimeNanosecondsSinceEpoch: base + start * 1_000_000, endTimeNanosecondsSinceEpoch: base + end * 1_000_000,
            resource: Resource(attributes: ["service.name": .string(service)]))
    }

    /// Critical-path segments as (operation, start ms, end ms), latest first.
    static func criticalPath(_ spans: [FinishedSpan]) -> [String] {
        let tree = TraceTree(spans: spans)
        return CriticalPath.segments(of: tree).map { segment in
            "\(tree.nodes[segment.node].span.operationName) \((segment.start - base) / 1_000_000)-\((segment.end - base) / 1_000_000)"
        }
    }

    @Test func criticalPathFollowsTheLastFinishingChildBackwards() {
        // root 0-100; a 10-40; b 30-90 (overlaps a); b1 40-60 inside b; c 95-99 after b.
        let spans = [
            Self.span("root", id: 1, start: 0, end: 100),
            Self.span("a", id: 2, parent: 1, start: 10, end: 40),
            Self.span("b", id: 3, parent: 1, start: 30, end: 90),
            Self.span("b1", id: 4, parent: 3, start: 40, end: 60),
            Self.span("c", id: 5, parent: 1, start: 95, end: 99),
        ]
        // From 100 back: root's own 99-100, c 95-99, root 90-95, b 60-90, b1 40-60, b 30-40, then only children ending
        // before 30 can precede b: none (a ends at 40), so root 0-30.
        #expect(
            Self.criticalPath(spans) == ["root 99-100", "c 95-99", "root 90-95", "b 60-90", "b1 40-60", "b 30-40", "root 0-30"])
    }

    @Test func criticalPathClipsChildrenToTheirParentAndSkipsAsynchronousWork() {
        let spans = [
            Self.span("root", id: 1, start: 0, end: 50),
            // Outlives its parent: counted up to 50 only.
            Self.span("slow", id: 2, parent: 1, start: 20, end: 80),
            // A PRODUCER's child does not block it, nor does a CONSUMER.
            Self.span("publish", id: 3, parent: 1, start: 5, end: 10, kind: .producer),
            Self.span("handle", id: 4, parent: 3, start: 6, end: 9, kind: .consumer),
        ]
        #expect(Self.criticalPath(spans) == ["slow 20-50", "root 10-20", "publish 5-10", "root 0-5"])
    }

    @Test func criticalPathOfAChainAHundredThousandDeepNeedsNoRecursion() {
        var spans = [Self.span("s0", id: 1, start: 0, end: 200_000)]
        for depth in 1..<100_000 {
            spans.append(
                Self.span("s\(depth)", id: UInt64(depth + 1), parent: UInt64(depth), start: UInt64(depth), end: 200_000 - UInt64(depth)))
        }
        let tree = TraceTree(spans: spans)
        #expect(tree.nodes.last?.depth == 99_999)
        let segments = CriticalPath.segments(of: tree)
        // Every span contributes its tail and its head: 2 per span, the deepest one a single segment.
        #expect(segments.count == 2 * 100_000 - 1)
        #expect(segments.reduce(0) { $0 + ($1.end - $1.start) } == 200_000 * 1_000_000)
    }

    @Test func selfTimeAndStatisticsPerServiceAndOperation() {
        let spans = [
            Self.span("GET /", id: 1, start: 0, end: 100, kind: .server, service: "web"),
            Self.span("query", id: 2, parent: 1, start: 10, end: 30, kind: .client, service: "web"),
            Self.span("query", id: 3, parent: 1, start: 20, end: 60, kind: .client, service: "web"),
            Self.span("render", id: 4, parent: 1, start: 70, end: 80, service: "web"),
            Self.span("SELECT", id: 5, parent: 3, start: 25, end: 55, kind: .server, service: "db"),
        ]
        let tree = TraceTree(spans: spans)
        let root = try! #require(tree.roots.first)
        // Children cover 10-60 (overlapping queries merged) and 70-80: 60 of 100 ms.
        #expect(tree.selfTime(of: root) == 40_000_000)
        let rows = TraceStatistics(tree).rows.map {
            "\($0.service) \($0.operation) n=\($0.count) total=\($0.total / 1_000_000) self=\($0.selfTime / 1_000_000) "
                + "avg=\($0.average / 1_000_000) min=\($0.minimum / 1_000_000) max=\($0.maximum / 1_000_000)"
        }
        #expect(
            rows == [
                "web GET / n=1 total=100 self=40 avg=100 min=100 max=100",
                "web query n=2 total=60 self=30 avg=30 min=20 max=40",
                "db SELECT n=1 total=30 self=30 avg=30 min=30 max=30",
                "web render n=1 total=10 self=10 avg=10 min=10 max=10",
            ])
    }

    @Test func diffMatchesByServiceOperationAndPositionAndMarksAddedAndMissing() {
        let a = [
            Self.span("GET /", id: 1, start: 0, end: 100, service: "web"),
            Self.span("query", id: 2, parent: 1, start: 10, end: 20, service: "db"),
            Self.span("query", id: 3, parent: 1, start: 30, end: 40, service: "db"),
            Self.span("cache", id: 4, parent: 1, start: 50, end: 55, service: "web"),
        ]
        let b = [
            Self.span("GET /", id: 11, start: 0, end: 150, service: "web", trace: 2),
            Self.span("query", id: 12, parent: 11, start: 10, end: 20, service: "db", trace: 2),
            Self.span("query", id: 13, parent: 11, start: 30, end: 70, service: "db", trace: 2),
            Self.span("query", id: 14, parent: 11, start: 80, end: 90, service: "db", trace: 2),
        ]
        let diff = TraceDiff(TraceTree(spans: a), TraceTree(spans: b))
        let rows = diff.rows.map { row in
            "\(row.depth) \(row.service) \(row.operation) \(row.change.rawValue) \(row.durationA.map { String($0 / 1_000_000) } ?? "-")"
                + " \(row.durationB.map { String($0 / 1_000_000) } ?? "-") \(row.difference.map { String($0 / 1_000_000) } ?? "-")"
        }
        #expect(
            rows == [
                "0 web GET / matched 100 150 50",
                "1 db query matched 10 10 0",
                "1 db query matched 10 40 30",
                "1 web cache missing 5 - -",
                "1 db query added - 10 -",
            ])
        #expect(diff.rows[0].percentChange == 50)
        #expect((diff.matchedCount, diff.addedCount, diff.missingCount) == (3, 1, 1))
        // The subtree of an unmatched span is unmatched too, not compared.
        let deeper = a + [Self.span("SELECT", id: 5, parent: 4, start: 51, end: 54, service: "web")]
        let second = TraceDiff(TraceTree(spans: deeper), TraceTree(spans: b))
        #expect(second.rows.first { $0.operation == "SELECT" }?.change == .missing)
    }

    @Test func jaegerJSONImportMapsReferencesTagsLogsAndProcesses() throws {
        let json = """
            {"data":[{"traceID":"4bf92f3577b34da6","spans":[
              {"traceID":"4bf92f3577b34da6","spanID":"00f067aa0ba902b7","operationName":"GET /","references":[],
               "startTime":1700000000000000,"duration":1500,"processID":"p1",
               "tags":[{"key":"span.kind","type":"string","value":"server"},{"key":"http.status_code","type":"int64","value":503},
                       {"key":"error","type":"bool","value":true},{"key":"otel.scope.name","type":"string","value":"hummingbird"}],
               "logs":[{"timestamp":1700000000000100,"fields":[{"key":"event","type":"string","value":"retry"},{"key":"attempt","type":"int64","value":"2"}]}]},
              {"traceID":"4bf92f3577b34da6","spanID":"00000000000000b8","operationName":"SELECT","processID":"p2",
               "references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6","spanID":"00f067aa0ba902b7"},
                             {"refType":"FOLLOWS_FROM","traceID":"0000000000000000000000000000abcd","spanID":"0000000000000001"}],
               "startTime":1700000000000200,"duration":800}],
             "processes":{"p1":{"serviceName":"web","tags":[{"key":"host.name","type":"string","value":"box"}]},"p2":{"serviceName":"db"}}}]}
            """
        let traces = try JaegerJSONImport.traces(Data(json.utf8))
        #expect(traces.count == 1)
        let server = try #require(traces[0].first { $0.operationName == "GET /" })
        let query = try #require(traces[0].first { $0.operationName == "SELECT" })
        #expect(server.spanContext.traceID.hexString == "00000000000000004bf92f3577b34da6")
        #expect(server.kind == .server)
        #expect(server.status?.code == .error)
        #expect(server.instrumentationScope.name == "hummingbird")
        #expect(server.attributes["http.status_code"]?.toSpanAttribute() == .int64(503))
        #expect(server.events.map(\.name) == ["retry"])
        #expect(server.events.first?.attributes["attempt"]?.toSpanAttribute() == .int64(2))
        #expect(server.durationNanoseconds == 1_500_000)
        #expect(server.resource.serviceName == "web")
        #expect(server.resource.attributes["host.name"]?.toSpanAttribute() == .string("box"))
        #expect(query.parentSpanContext?.spanID == server.spanContext.spanID)
        #expect(query.links.map(\.spanContext.spanID) == [SpanID(1)])
        #expect(query.resource.serviceName == "db")
        // Out of range times are an error, not a trap.
        let huge = json.replacingOccurrences(of: "1700000000000200", with: "18446744073709551615")
        #expect(throws: JaegerJSONImport.ImportError.self) { try JaegerJSONImport.traces(Data(huge.utf8)) }
        #expect(throws: JaegerJSONImport.ImportError.self) { try JaegerJSONImport.traces(Data("[1,2".utf8)) }
    }

    @Test func serviceColoursAreStableAndDistinct() {
        let names = (0..<ServicePalette.colors.count).map { "service-\($0)" }
        let colors = ServicePalette.assign(names)
        #expect(Set(colors.values).count == ServicePalette.colors.count, "as many colours as services, while the palette lasts")
        // A name added later never changes the colours of the names before it.
        let before = ServicePalette.assign(names.prefix(5))
        let after = ServicePalette.assign(Array(names.prefix(5)) + ["a-newcomer", "another"])
        #expect(names.prefix(5).allSatisfy { before[$0] == after[$0] })
        #expect(ServicePalette.assign(["service-3"])["service-3"] == ServicePalette.colors[ServicePalette.preferredSlot("service-3")])
    }

    @Test func dependencyLayersPutCallersLeftOfCalleesAndSurviveCycles() {
        let edges = [
            ServiceDependency(parent: "frontend", child: "orders", callCount: 10),
            ServiceDependency(parent: "frontend", child: "users", callCount: 5),
            ServiceDependency(parent: "orders", child: "db", callCount: 30),
            ServiceDependency(parent: "users", child: "db", callCount: 5),
            ServiceDependency(parent: "db", child: "orders", callCount: 1),  // a cycle
        ]
        #expect(DependenciesPage.layers(edges) == [["frontend"], ["orders", "users"], ["db"]])
        #expect(
            DependenciesPage.layers([
                ServiceDependency(parent: "a", child: "b", callCount: 1), ServiceDependency(parent: "b", child: "a", callCount: 1),
            ]).count == 2)
    }
}

extension TraceAnalysisTests {
    /// Issue 27's gaps: clock skew, duplicate span ids and parent cycles were not flagged; each span says what is wrong.
    @Test func spansSayWhatIsWrongWithThem() throws {
        let spans = [
            Self.span("root", id: 1, start: 10, end: 100),
            Self.span("early child", id: 2, parent: 1, start: 5, end: 20, service: "other-host"),
            Self.span("twin a", id: 3, parent: 1, start: 20, end: 30),
            Self.span("twin b", id: 3, parent: 1, start: 40, end: 50),
            Self.span("cycle a", id: 4, parent: 5, start: 60, end: 70),
            Self.span("cycle b", id: 5, parent: 4, start: 61, end: 69),
            Self.span("own parent", id: 6, parent: 6, start: 80, end: 90),
            Self.span("orphan", id: 7, parent: 99, start: 80, end: 90),
        ]
        let model = try #require(TraceModel(spans: spans, colors: [:]))
        let modelSpans = (0..<model.spanCount).map(model.span(at:))
        func warnings(_ name: String) -> [String] { modelSpans.first { $0.name == name }?.warnings ?? ["missing"] }
        #expect(warnings("root").isEmpty)
        #expect(warnings("early child") == ["starts 5.00ms before its parent: clock skew between the two hosts?"])
        #expect(warnings("twin a") == ["2 spans of this trace have the span id 0000000000000003"])
        #expect(
            warnings("cycle a").contains { $0.hasPrefix("its parents form a cycle") }
                || warnings("cycle b").contains { $0.hasPrefix("its parents form a cycle") })
        #expect(warnings("own parent") == ["the span names itself as its parent"])
        #expect(warnings("orphan") == ["parent span 0000000000000063 is not in this trace"])
    }
}
