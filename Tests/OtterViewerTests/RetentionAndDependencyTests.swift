import Foundation
import Logging
import Otter
import OtterViewer
import Testing
import Tracing

@Suite("Viewer retention, dependencies and api_v3", .serialized)
struct RetentionAndDependencyTests {
    static let hour: UInt64 = 3_600_000_000_000

    static func span(_ name: String, service: String, trace: UInt64, id: UInt64, parent: UInt64? = nil, start: UInt64) -> FinishedSpan {
        let traceID = TraceID(high: 7, low: trace)
        return FinishedSpan(
            operationName: name, kind: parent == nil ? .server : .client,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(id), traceFlags: .sampled),
            parentSpanContext: parent.map { OtterSpanContext(traceID: traceID, spanID: SpanID($0), traceFlags: .sampled) },
            startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + 1000,
            attributes: ["k": "v"], resource: Resource(attributes: ["service.name": .string(service)]))
    }

    @Test func retentionDeletesOldSpansAndKeepsRecentOnes() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        let now: UInt64 = 1_800_000_000_000_000_000
        try await store.write([
            Self.span("old", service: "a", trace: 1, id: 1, start: now - 100 * Self.hour),
            Self.span("recent", service: "a", trace: 2, id: 2, start: now - Self.hour),
            Self.span("gone", service: "retired", trace: 3, id: 3, start: now - 100 * Self.hour),
        ])
        let service = RetentionService(store: store, retention: .seconds(72 * 3600), maximumBytes: 1 << 30, logger: Logger(label: "t"))
        #expect(try await service.pruneOnce(nowNanoseconds: now) == 2)
        #expect(try await store.services() == ["a"], "a service whose spans are all pruned is no longer listed")
        #expect(try await store.trace(TraceID(high: 7, low: 1)).isEmpty)
        #expect(try await store.trace(TraceID(high: 7, low: 2)).count == 1)
        let search = TraceQuery(service: "a", tags: [("k", "v")])
        #expect(try await store.findTraceIDs(search) == [TraceID(high: 7, low: 2)], "the attribute index was pruned too")
    }

    @Test func maximumSizeRemovesTheOldestFirst() async throws {
        let store = try SQLiteTraceStore(path: ":memory:")
        let now: UInt64 = 1_800_000_000_000_000_000
        var spans: [FinishedSpan] = []
        for index in 0..<2000 {
            var span = Self.span(
                "span-\(index)", service: "a", trace: UInt64(index + 1), id: UInt64(index + 1),
                start: now - UInt64(2000 - index) * 1_000_000_000)
            span.attributes["payload"] = String(repeating: "x", count: 200)
            spans.append(span)
        }
        try await store.write(spans)
        let before = try await store.sizeInBytes()
        let service = RetentionService(store: store, retention: .seconds(72 * 3600), maximumBytes: before / 2, logger: Logger(label: "t"))
        let deleted = try await service.pruneOnce(nowNanoseconds: now)
        #expect(deleted > 0)
        #expect(try await store.sizeInBytes() <= before / 2)
        #expect(try await store.trace(TraceID(high: 7, low: 2000)).count == 1, "the newest span stays")
        #expect(try await store.trace(TraceID(high: 7, low: 1)).isEmpty, "the oldest went first")
    }

    @Test func dependenciesAndApiV3() async throws {
        let viewer = try await RunningViewer()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        try await viewer.store.write([
            Self.span("/", service: "frontend", trace: 1, id: 1, start: now - 1000),
            Self.span("GET", service: "frontend", trace: 1, id: 2, parent: 1, start: now - 900),
            Self.span("/users", service: "users", trace: 1, id: 3, parent: 2, start: now - 800),
            Self.span("/", service: "frontend", trace: 2, id: 4, start: now - 700),
            Self.span("/users", service: "users", trace: 2, id: 5, parent: 4, start: now - 600),
            Self.span("SELECT", service: "db", trace: 2, id: 6, parent: 5, start: now - 500),
        ])
        let (status, body) = try await viewer.get("/api/dependencies?endTs=\(now / 1_000_000 + 1000)&lookback=3600000")
        #expect(status == 200)
        let links = (body["data"] as? [[String: Any]] ?? []).map { "\($0["parent"] ?? "")->\($0["child"] ?? ""):\($0["callCount"] ?? "")" }
        #expect(links == ["frontend->users:2", "users->db:1"])
        #expect(try await viewer.get("/api/dependencies?endTs=soon").status == 400)

        let services = try await viewer.get("/api/v3/services")
        #expect(services.json["services"] as? [String] == ["db", "frontend", "users"])
        let operations = try await viewer.get("/api/v3/operations?service=frontend&spanKind=server")
        #expect((operations.json["operations"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["/"])
        await viewer.stop()
    }

    /// Issue 27's gap: a call whose parent is an INTERNAL span sent in another request than its child was missing from
    /// the graph (only CLIENT and PRODUCER spans were indexed as remote parents). The graph is the same however the spans
    /// were batched.
    @Test func callsFromAnInternalParentInAnotherRequestAreCounted() async throws {
        let now: UInt64 = 1_800_000_000_000_000_000
        func span(_ service: String, _ kind: SpanKind, id: UInt64, parent: UInt64? = nil) -> FinishedSpan {
            let traceID = TraceID(high: 11, low: 1)
            return FinishedSpan(
                operationName: "op", kind: kind, spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(id), traceFlags: .sampled),
                parentSpanContext: parent.map { OtterSpanContext(traceID: traceID, spanID: SpanID($0), traceFlags: .sampled) },
                startTimeNanosecondsSinceEpoch: now + id, endTimeNanosecondsSinceEpoch: now + 1_000,
                resource: Resource(attributes: ["service.name": .string(service)]))
        }
        let spans = [
            span("scheduler", .internal, id: 1), span("worker", .server, id: 2, parent: 1), span("mailer", .server, id: 3, parent: 1),
        ]
        let together = try SQLiteTraceStore(path: ":memory:")
        try await together.write(spans)
        let apart = try SQLiteTraceStore(path: ":memory:")
        for span in spans { try await apart.write([span]) }
        let expected = [
            ServiceDependency(parent: "scheduler", child: "mailer", callCount: 1),
            ServiceDependency(parent: "scheduler", child: "worker", callCount: 1),
        ]
        #expect(try await together.dependencies(startNanoseconds: now - 1, endNanoseconds: now + 10_000) == expected)
        #expect(try await apart.dependencies(startNanoseconds: now - 1, endNanoseconds: now + 10_000) == expected)
    }
}
