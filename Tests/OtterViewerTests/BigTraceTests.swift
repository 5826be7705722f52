import Foundation
import GRDB
import Otter
import OtterOTLP
import Testing
import Tracing

@testable import OtterViewer

/// A big trace is read as an outline (ids, names, times, status, without attributes, events or links) and its spans'
/// details as they are shown: the outline must be the full read without the details, and the details and find must
/// be what the full read would give.
@Suite("big traces: outline and details on demand")
struct BigTraceTests {
    static let traceID = TraceID(high: 0xB16, low: 0x7ACE)
    static let start: UInt64 = 1_700_000_000_000_000_000

    static func span(
        _ id: UInt64, parent: UInt64?, _ name: String, service: String = "front", kind: SpanKind = .internal, at offset: UInt64,
        milliseconds: UInt64, attributes: SpanAttributes = [:], events: [SpanEvent] = [], status: SpanStatus? = nil
    ) -> FinishedSpan {
        FinishedSpan(
            operationName: name, kind: kind,
            spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(id), traceFlags: .sampled),
            parentSpanContext: parent.map { OtterSpanContext(traceID: traceID, spanID: SpanID($0), traceFlags: .sampled) },
            startTimeNanosecondsSinceEpoch: start + offset * 1_000_000,
            endTimeNanosecondsSinceEpoch: start + (offset + milliseconds) * 1_000_000, attributes: attributes, events: events,
            status: status, resource: Resource(attributes: ["service.name": .string(service), "host.name": "vm-1"]),
            instrumentationScope: InstrumentationScope(name: "big", version: "2"))
    }

    /// A root with a server child, a consumer, a chain, an error, an orphan, a child that starts before its parent
    /// (skew) and two different spans that share an id.
    static var spans: [FinishedSpan] {
        [
            span(1, parent: nil, "GET /", kind: .server, at: 0, milliseconds: 100, attributes: ["http.route": "/"]),
            span(
                2, parent: 1, "query <orders>", service: "db", kind: .client, at: 10, milliseconds: 30, attributes: ["db.system": "sqlite"]),
            span(3, parent: 2, "fetch", service: "db", at: 12, milliseconds: 10, status: SpanStatus(code: .error, message: "timeout")),
            span(
                4, parent: 1, "publish", kind: .producer, at: 50, milliseconds: 5,
                events: [
                    SpanEvent(
                        name: "sent", at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: start + 52_000_000), attributes: ["bytes": 42]
                    )
                ]),
            span(5, parent: 4, "consume", kind: .consumer, at: 60, milliseconds: 80, attributes: ["needle": "haystack"]),
            span(6, parent: 99, "orphan", at: 5, milliseconds: 1),
            span(7, parent: 1, "early", at: 0, milliseconds: 1, status: SpanStatus(code: .ok)),
            span(8, parent: 7, "skewed", service: "other-host", at: 0, milliseconds: 1),
            span(9, parent: 1, "twin a", at: 70, milliseconds: 2),
            span(9, parent: 1, "twin b", at: 80, milliseconds: 2),
        ].map { span in
            var span = span
            // A child that starts before its parent: span 8 starts 1 ms before span 7.
            if span.spanContext.spanID == SpanID(8) { span.startTimeNanosecondsSinceEpoch -= 1_000_000 }
            return span
        }
    }

    static func store() async throws -> SQLiteTraceStore {
        let store = try SQLiteTraceStore(path: ":memory:")
        try await store.write(spans)
        // An exporter's retry: the same request again is stored again, and read once.
        try await store.write(Array(spans.prefix(3)))
        return store
    }

    @Test func theOutlineIsTheFullReadWithoutDetails() async throws {
        let store = try await Self.store()
        let full = try await store.trace(Self.traceID)
        let outline = try await store.outline(Self.traceID)
        #expect(full.count == 10 && outline.count == 10, "a retry once, two spans that share an id both")
        let key = { (outline: SpanOutline) in "\(outline.spanID) \(outline.operationName) \(outline.startTimeNanosecondsSinceEpoch)" }
        #expect(outline.map(key).sorted() == full.map(SpanOutline.init).map(key).sorted())
        #expect(Set(outline.map(\.kind)) == [.server, .client, .internal, .producer, .consumer])
        #expect(outline.first { $0.operationName == "fetch" }?.statusCode == .error)
        #expect(outline.first { $0.operationName == "early" }?.statusCode == .ok)
        #expect(outline.first { $0.operationName == "GET /" }?.parentSpanID == nil)
        #expect(try await store.outline(TraceID(high: 1, low: 1)).isEmpty)
    }

    @Test func theOutlinedModelIsTheFullModelWithoutDetails() async throws {
        let store = try await Self.store()
        let full = try #require(TraceModel(spans: try await store.trace(Self.traceID)))
        let outlined = try #require(TraceModel(traceID: Self.traceID, outline: try await store.outline(Self.traceID)))
        #expect(outlined.traceID == full.traceID && outlined.rootName == full.rootName && outlined.durationMicros == full.durationMicros)
        let outlinedSpans = (0..<outlined.spanCount).map(outlined.span(at:))
        #expect(outlined.encodedSpanCount == 0, "an outlined model's JSON holds no span objects")
        let fullSpans = (0..<full.spanCount).map(full.span(at:))
        #expect(outlinedSpans.count == fullSpans.count && full.encodedSpanCount == fullSpans.count)
        for (a, b) in zip(outlinedSpans, fullSpans) {
            #expect(a.spanID == b.spanID && a.parentSpanID == b.parentSpanID && a.parentIndex == b.parentIndex && a.depth == b.depth)
            #expect(a.name == b.name && a.kind == b.kind && a.status == b.status && a.error == b.error)
            #expect(a.startMicros == b.startMicros && a.durationMicros == b.durationMicros && a.selfMicros == b.selfMicros)
            #expect(a.criticalPath == b.criticalPath && a.warnings == b.warnings && a.serviceIndex == b.serviceIndex)
            #expect(a.attributes.isEmpty && a.events.isEmpty, "no details in an outline")
        }
        #expect(outlined.statisticsRows == full.statisticsRows)
        let warnings = outlinedSpans.flatMap(\.warnings)
        #expect(warnings.contains { $0.contains("not in this trace") } && warnings.contains { $0.contains("clock skew") })
        #expect(warnings.contains { $0.contains("2 spans of this trace have the span id") })
        // The details added later are the full model's.
        var filled = outlined
        filled.fillDetails(try await store.spans(Self.traceID, withIDs: [SpanID(4), SpanID(9)]))
        for index in 0..<filled.spanCount where ["publish", "twin a", "twin b"].contains(filled.span(at: index).name) {
            #expect(filled.span(at: index).attributes == fullSpans[index].attributes)
            #expect(filled.span(at: index).events.map(\.timeMicros) == fullSpans[index].events.map(\.timeMicros))
            #expect(filled.span(at: index).scope.name == "big")
            #expect(filled.resource(at: index)?.attributes["host.name"] != nil)
        }
        #expect(filled.span(at: 0).attributes.isEmpty, "a span not read stays outlined")
    }

    @Test func theOutlineJSONHasEachColumnOfTheModel() async throws {
        let store = try await Self.store()
        let outlined = try #require(TraceModel(traceID: Self.traceID, outline: try await store.outline(Self.traceID)))
        let text = outlined.outlineJSON()
        let model = (spans: (0..<outlined.spanCount).map(outlined.span(at:)), ())
        #expect(!text.contains("<"), "no value can close the script block it is embedded in")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let outline = try #require(json["outline"] as? [String: Any])
        let names = try #require(outline["names"] as? [String])
        let nameIndex = try #require(outline["nameIndex"] as? [Int])
        #expect(nameIndex.map { names[$0] } == model.spans.map(\.name), "names round-trip, `<` included")
        let ids = try #require(outline["spanID"] as? String)
        #expect(ids == model.spans.map(\.spanID).joined())
        #expect(try #require(outline["parentIndex"] as? [Int]) == model.spans.map(\.parentIndex))
        #expect(try #require(outline["startMicros"] as? [Double]) == model.spans.map(\.startMicros))
        #expect(try #require(outline["selfMicros"] as? [Double]) == model.spans.map(\.selfMicros))
        #expect(try #require(outline["durationMicros"] as? [Double]) == model.spans.map(\.durationMicros))
        #expect(try #require(outline["depth"] as? [Int]) == model.spans.map(\.depth))
        #expect(try #require(outline["serviceIndex"] as? [Int]) == model.spans.map(\.serviceIndex))
        let kinds = try #require(outline["kinds"] as? [String])
        #expect(try #require(outline["kindIndex"] as? [Int]).map { kinds[$0] } == model.spans.map(\.kind))
        let critical = try #require(outline["criticalPath"] as? [String: [[Double]]])
        #expect(
            critical
                == Dictionary(
                    uniqueKeysWithValues: model.spans.enumerated().filter { !$1.criticalPath.isEmpty }.map { ("\($0)", $1.criticalPath) }))
        #expect(try #require(outline["status"] as? [Int]) == model.spans.map { $0.error ? 2 : $0.status == "ok" ? 1 : 0 })
        let warnings = try #require(outline["warnings"] as? [String: [String]])
        #expect(warnings.count == model.spans.count { !$0.warnings.isEmpty })
        let missing = try #require(outline["missingParentSpanID"] as? [String: String])
        #expect(Array(missing.values) == [SpanID(99).hexString])
        #expect(json["spanCount"] as? Int == 10)
        #expect(json["spans"] == nil, "no span objects")
    }

    @Test func spansAreReadByIDAndWalkedOnce() async throws {
        let store = try await Self.store()
        let twins = try await store.spans(Self.traceID, withIDs: [SpanID(9), SpanID(2)])
        #expect(twins.map(\.operationName).sorted() == ["query <orders>", "twin a", "twin b"], "the retried span once, both twins")
        #expect(try await store.spans(Self.traceID, withIDs: [SpanID(12345)]).isEmpty)
        var walked: [String] = []
        try await store.forEachSpan(of: Self.traceID) { walked.append($0.operationName) }
        #expect(walked.sorted() == Self.spans.map(\.operationName).sorted())
    }

    @Test func theDetailsAndFindEndpointsAnswerFromTheStore() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.spans)
        let base = "/api/otter/traces/\(Self.traceID.hexString)"
        let (status, json) = try await viewer.get("\(base)/spans?spanID=\(SpanID(4).hexString)&spanID=\(SpanID(2).hexString.uppercased())")
        #expect(status == 200)
        let spans = try #require(json["spans"] as? [[String: Any]])
        #expect(spans.count == 2)
        let publish = try #require(spans.first { $0["spanID"] as? String == SpanID(4).hexString })
        let events = try #require(publish["events"] as? [[String: Any]])
        #expect(events.first?["timeMicros"] as? Double == 2_000, "an event's time from its span's start")
        #expect((publish["resource"] as? [[String]])?.contains(["host.name", "vm-1"]) == true)
        for bad in [
            "", "?spanID=xyz", "?spanID=\(SpanID(4).hexString)0",
            "?" + (0...500).map { _ in "spanID=\(SpanID(4).hexString)" }.joined(separator: "&"),
        ] {
            let (status, json) = try await viewer.get("\(base)/spans\(bad)")
            #expect(status == 400, "\(bad.prefix(40))")
            let message = (json["errors"] as? [[String: Any]])?.first?["msg"] as? String
            #expect(message?.isEmpty == false, "a message says why")
        }
        #expect(try await viewer.get("/api/otter/traces/nothex/spans?spanID=\(SpanID(4).hexString)").status == 400)
        let unknown = "/api/otter/traces/\(TraceID(high: 7, low: 7).hexString)"
        #expect(try await viewer.get("\(unknown)/spans?spanID=\(SpanID(4).hexString)").status == 404)
        #expect(try await viewer.get("\(unknown)/find?uiFind=x").status == 404)
        // Spans that share an id are told apart by their start.
        let (_, twins) = try await viewer.get("\(base)/spans?spanID=\(SpanID(9).hexString)")
        let starts = ((twins["spans"] as? [[String: Any]]) ?? []).compactMap { $0["startTimeUnixMicros"] as? Int }.sorted()
        #expect(starts == [70, 80].map { Int(Self.start / 1_000) + $0 * 1_000 })

        func found(_ query: String) async throws -> [String] {
            let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let (status, json) = try await viewer.get("\(base)/find?uiFind=\(encoded)")
            #expect(status == 200)
            return ((json["spanIDs"] as? [String]) ?? []).sorted()
        }
        #expect(try await found("haystack") == [SpanID(5).hexString], "an attribute value")
        #expect(try await found("BYTES") == [SpanID(4).hexString], "an event attribute key, any case")
        #expect(try await found("fetch consume") == [SpanID(3).hexString, SpanID(5).hexString], "any word")
        #expect(try await found("db -fetch") == [SpanID(2).hexString], "a word excludes")
        #expect(try await found("vm-1").count == 10, "the resource")
        #expect(try await found("  ").isEmpty)
        #expect(try await found("\u{0}").isEmpty, "NUL joins a span's texts: it is not a word")
        #expect(try await viewer.get("\(base)/find?uiFind=\(String(repeating: "a", count: 1_001))").status == 400)
        await viewer.stop()
    }

    @Test func aBigTracePageEmbedsTheOutlineAndDrawsItsFirstRowsInFull() async throws {
        let viewer = try await RunningViewer(traceOutlineAbove: 5)
        try await viewer.store.write(Self.spans)
        let (status, html) = try await viewer.html("/trace/\(Self.traceID.hexString)")
        #expect(status == 200)
        let model = try #require(html.range(of: "<script type=\"application/json\" id=\"trace-model\">"))
        let embedded = html[model.upperBound...].prefix { $0 != "<" }
        #expect(embedded.contains("\"outline\":{") && !embedded.contains("\"attributes\""), "the outline, without details")
        // The page without JavaScript shows its rows' attributes, events and resources, read for those rows.
        #expect(html.contains("haystack") && html.contains("sqlite") && html.contains("sent") && html.contains("vm-1"))
        await viewer.stop()
    }

    @Test func wholeTraceAnswersAreWrittenAPartAtATimeAsTheTraceReadWhole() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.spans)
        let more = (20..<23).map { Self.span($0, parent: 1, "late \($0)", service: "late-service", at: 90, milliseconds: 1) }
        try await viewer.store.write(more)
        try await viewer.store.write(Array(Self.spans.prefix(3)))  // a retry, in a block of its own
        let whole = JaegerTrace.traces(from: try await viewer.store.traces([Self.traceID]).request)[0]
        let (status, json) = try await viewer.get("/api/traces/\(Self.traceID.hexString)")
        #expect(status == 200)
        let trace = try #require((json["data"] as? [[String: Any]])?.first)
        let spans = try #require(trace["spans"] as? [[String: Any]])
        let processes = try #require(trace["processes"] as? [String: [String: Any]])
        func service(_ span: [String: Any]) -> String { processes[span["processID"] as? String ?? ""]?["serviceName"] as? String ?? "?" }
        let streamed = spans.map { "\($0["spanID"] ?? "") \($0["operationName"] ?? "") \(service($0))" }.sorted()
        let expected = whole.spans.map { "\($0.spanID) \($0.operationName) \(whole.processes[$0.processID]?.serviceName ?? "?")" }.sorted()
        #expect(streamed == expected && streamed.count == 13, "the retry once, every span with its process")
        #expect(processes.count == whole.processes.count, "one process per resource across the parts")
        #expect(trace["warnings"] is NSNull && trace["traceID"] as? String == Self.traceID.hexString)

        let (v3Status, v3) = try await viewer.get("/api/v3/traces/\(Self.traceID.hexString)")
        #expect(v3Status == 200)
        let resourceSpans = try #require((v3["result"] as? [String: Any])?["resourceSpans"] as? [[String: Any]])
        let v3Count = resourceSpans.flatMap { ($0["scopeSpans"] as? [[String: Any]]) ?? [] }.reduce(0) {
            $0 + (($1["spans"] as? [Any])?.count ?? 0)
        }
        #expect(v3Count == 13)
        #expect(try await viewer.get("/api/traces/\(TraceID(high: 9, low: 9).hexString)").status == 404)
        #expect(try await viewer.get("/api/v3/traces/\(TraceID(high: 9, low: 9).hexString)").status == 404)
        await viewer.stop()
    }

    @Test func aPartThatCannotBeReadEndsTheAnswerWithAWarning() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("otter-stream-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".lock", ".reserve"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let viewer = try await RunningViewer(path: path)
        try await viewer.store.write(Self.spans)
        try await viewer.store.write((20..<23).map { Self.span($0, parent: 1, "late", at: 90, milliseconds: 1) })
        // The second block's bytes damaged on disk, as a torn write or a bad sector would leave them.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "UPDATE span_block SET deflated = x'00112233' WHERE id = (SELECT MAX(id) FROM span_block)")
        }
        let (status, json) = try await viewer.get("/api/traces/\(Self.traceID.hexString)")
        #expect(status == 200, "the answer had begun")
        let trace = try #require((json["data"] as? [[String: Any]])?.first)
        #expect((trace["spans"] as? [Any])?.count == 10, "the spans before the damaged part")
        #expect((trace["warnings"] as? [String])?.first?.contains("could not be read whole") == true)
        await viewer.stop()
    }

    @Test func decodedBlocksAreCachedUpTo32MB() {
        var cache = SQLiteTraceStore.DecodedBlockCache()
        let block = SQLiteTraceStore.ScannedBlock(
            scanner: SpanBlockScanner(bytes: [UInt8](repeating: 0, count: 5 << 20)), spans: [], origins: [], services: [])
        for id in 1...20 { cache.insert(block, id: Int64(id)) }
        #expect(cache.order == Array(15...20).map(Int64.init), "the newest six blocks of 5 MB")
        #expect(cache.bytes == 30 << 20)
        cache.insert(block, id: 20)
        #expect(cache.bytes == 30 << 20, "a block inserted again is counted once")
        var huge = SQLiteTraceStore.DecodedBlockCache()
        huge.insert(
            SQLiteTraceStore.ScannedBlock(
                scanner: SpanBlockScanner(bytes: [UInt8](repeating: 0, count: 40 << 20)), spans: [], origins: [], services: []), id: 1)
        #expect(huge.order == [1], "one block is kept whatever its size")
    }
}
