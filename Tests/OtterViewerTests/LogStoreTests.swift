import Foundation
import Otter
import OtterOTLP
import Testing
import Tracing

@testable import OtterViewer

/// A log store under test: how to make an empty one. A new storage engine adds a case here and gets the whole suite.
enum LogStoreUnderTest: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqliteInMemory
    case sqliteFile
    /// Written with the public API only, as a third-party backend would be.
    case inMemory

    var testDescription: String { rawValue }

    func make() throws -> any LogStore {
        switch self {
        case .sqliteInMemory: return try SQLiteTraceStore(path: ":memory:")
        case .sqliteFile: return try LogStoreTests.makeStore(file: true)
        case .inMemory: return InMemoryLogStore()
        }
    }
}

/// What every ``LogStore`` promises (the conformance suite), and what the SQLite store adds: records come back as
/// received, found by trace, span, service, severity, words, tags and time, newest first and at most `limit`; invalid
/// ids are refused one by one; an exporter's retry is stored but read once; retention deletes them.
@Suite("Log store")
struct LogStoreTests {
    static let base: UInt64 = 1_800_000_000_000_000_000
    static let traceID = TraceID(hexString: "4bf92f3577b34da6a3ce929d0e0e4736")!
    static let spanID = SpanID(hexString: "00f067aa0ba902b7")!

    static func makeStore(file: Bool) throws -> SQLiteTraceStore {
        guard file else { return try SQLiteTraceStore(path: ":memory:") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-logs-\(UUID().uuidString)")
        return try SQLiteTraceStore(path: directory.appendingPathComponent("otter.sqlite").path)
    }

    static func record(
        _ body: String, at offset: UInt64, severity: LogSeverity = .info, service: String = "checkout",
        attributes: [String: LogValue] = [:], spanID: SpanID? = nil
    ) -> OtterLogRecord {
        OtterLogRecord(
            timeNanosecondsSinceEpoch: base + offset, severity: severity, body: .string(body), attributes: attributes,
            spanContext: spanID.map { OtterSpanContext(traceID: traceID, spanID: $0, traceFlags: .sampled) },
            resource: Resource(attributes: ["service.name": .string(service), "host.name": "vm-1"]),
            instrumentationScope: InstrumentationScope(name: "orders", version: "1.0"))
    }

    static var fixture: [OtterLogRecord] {
        [
            record("order placed", at: 1_000, attributes: ["order.id": "42", "lines": .array([.string("book")])], spanID: spanID),
            record("payment declined: card expired", at: 2_000, severity: .error, attributes: ["order.id": "42"], spanID: spanID),
            record("cache warm", at: 3_000, severity: .debug, service: "cache"),
            record("GET / 200", at: 4_000, service: "http-server", spanID: SpanID(hexString: "1111111111111111")!),
        ]
    }

    @Test(arguments: LogStoreUnderTest.allCases)
    func recordsComeBackAsReceivedAndAreFoundByEveryCondition(_ kind: LogStoreUnderTest) async throws {
        let store = try kind.make()
        let rejections = try await store.write(OTLPLogs(Self.fixture))
        #expect(rejections.isEmpty)

        let all = try await store.logs(LogQuery())
        #expect(
            all.records.map(\.body) == [
                .string("GET / 200"), .string("cache warm"), .string("payment declined: card expired"), .string("order placed"),
            ])
        #expect(Array(all.records.reversed()) == Self.fixture, "every field survives")

        func bodies(_ query: LogQuery) async throws -> [String] {
            try await store.logs(query).records.map(\.body.text)
        }
        #expect(try await bodies(LogQuery(traceID: Self.traceID)) == ["GET / 200", "payment declined: card expired", "order placed"])
        #expect(
            try await bodies(LogQuery(traceID: Self.traceID, spanID: Self.spanID)) == ["payment declined: card expired", "order placed"])
        #expect(try await bodies(LogQuery(traceID: TraceID(hexString: "00000000000000000000000000000001")!)).isEmpty)
        #expect(try await bodies(LogQuery(service: "cache")) == ["cache warm"])
        #expect(try await bodies(LogQuery(service: "nobody")).isEmpty)
        #expect(try await bodies(LogQuery(minimumSeverity: .error)) == ["payment declined: card expired"])
        #expect(try await bodies(LogQuery(minimumSeverity: .info)) == ["GET / 200", "payment declined: card expired", "order placed"])
        #expect(try await bodies(LogQuery(words: LogQuery.words(in: "Card EXPIRED"))) == ["payment declined: card expired"])
        #expect(try await bodies(LogQuery(words: ["card", "placed"])).isEmpty, "every word must appear")
        #expect(try await bodies(LogQuery(words: ["book"])) == ["order placed"], "words of attribute values count")
        #expect(try await bodies(LogQuery(words: ["expir"])).isEmpty, "whole words")
        #expect(try await bodies(LogQuery(tags: [("order.id", "42")])) == ["payment declined: card expired", "order placed"])
        #expect(try await bodies(LogQuery(tags: [("order.id", "42"), ("host.name", "vm-1")])).count == 2, "resource attributes count")
        #expect(try await bodies(LogQuery(tags: [("order.id", "43")])).isEmpty)
        #expect(
            try await bodies(LogQuery(startNanoseconds: Self.base + 2_000, endNanoseconds: Self.base + 3_000))
                == ["cache warm", "payment declined: card expired"])
        #expect(try await bodies(LogQuery(limit: 2)) == ["GET / 200", "cache warm"])
        #expect(try await bodies(LogQuery(limit: 0)).isEmpty)
        #expect(try await store.logServices() == ["cache", "checkout", "http-server"])
    }

    /// Newest first across many blocks written out of order: the limit cuts the newest, not the first found.
    @Test(arguments: LogStoreUnderTest.allCases)
    func newestFirstAcrossBlocksWrittenOutOfOrder(_ kind: LogStoreUnderTest) async throws {
        let store = try kind.make()
        var offsets = Array(0..<5_000).map { UInt64($0) * 1_000 }
        var generator = SystemRandomNumberGenerator()
        offsets.shuffle(using: &generator)
        for chunk in stride(from: 0, to: offsets.count, by: 700) {
            let records = offsets[chunk..<min(chunk + 700, offsets.count)].map { Self.record("line \($0 / 1_000)", at: $0) }
            try await store.write(OTLPLogs(records))
        }
        let newest = try await store.logs(LogQuery(limit: 10))
        #expect(newest.records.map(\.body.text) == (4_990..<5_000).reversed().map { "line \($0)" })
        let word = try await store.logs(LogQuery(words: ["2500"]))
        #expect(word.records.map(\.body.text) == ["line 2500"])
        let window = try await store.logs(
            LogQuery(startNanoseconds: Self.base + 100_000, endNanoseconds: Self.base + 109_000, limit: 1_000))
        #expect(window.records.map(\.body.text) == (100...109).reversed().map { "line \($0)" })
    }

    @Test(arguments: LogStoreUnderTest.allCases)
    func invalidIDsAreRefusedOneByOneAndMissingTimesGetTheArrivalTime(_ kind: LogStoreUnderTest) async throws {
        let store = try kind.make()
        var request = OTLPLogs([Self.record("kept", at: 1), Self.record("also kept", at: 2)]).request
        var bad = OTLPLogsMapping.logRecord(for: Self.record("bad trace id", at: 3))
        bad.traceID = Data([1, 2, 3])
        var badSpan = OTLPLogsMapping.logRecord(for: Self.record("bad span id", at: 4))
        badSpan.traceID = Data(Self.traceID.bytes)
        badSpan.spanID = Data(repeating: 7, count: 9)
        var timeless = OTLPLogsMapping.logRecord(for: Self.record("no time", at: 5))
        timeless.timeUnixNano = 0
        timeless.observedTimeUnixNano = 0
        request.resourceLogs[0].scopeLogs[0].logRecords += [bad, badSpan, timeless]
        let before = DefaultTracerClock.now.nanosecondsSinceEpoch
        let rejections = try await store.write(OTLPLogs(request))
        #expect(rejections.count == 2)
        #expect(rejections[0].contains("invalid trace id (3 bytes, not 16"))
        #expect(rejections[1].contains("invalid span id (9 bytes, not 8"))
        let after = DefaultTracerClock.now.nanosecondsSinceEpoch
        let stored = try await store.logs(LogQuery(limit: 10)).records
        // The fixture's times are in 2027, after the arrival time that the timeless record is found by.
        #expect(stored.map(\.body.text) == ["also kept", "kept", "no time"])
        #expect((before...after).contains(try #require(stored.last).observedTimeNanosecondsSinceEpoch))
        let found = try await store.logs(LogQuery(startNanoseconds: before, endNanoseconds: after)).records
        #expect(found.map(\.body.text) == ["no time"])
    }

    /// Log records carry no id: identical records (a health check logged twice in one second, or an exporter's retry
    /// after a timeout) are all kept and all returned. Found by the independent review: they were merged into one.
    @Test(arguments: LogStoreUnderTest.allCases)
    func identicalRecordsAreAllReturned(_ kind: LogStoreUnderTest) async throws {
        let store = try kind.make()
        let repeated = (0..<5).map { _ in Self.record("GET /health 200", at: 1_000) }
        try await store.write(OTLPLogs(repeated))
        try await store.write(try OTLPLogs(protobuf: try OTLPLogs(repeated).protobuf()))
        #expect(try await store.logs(LogQuery()).recordCount == 10)
    }

    /// Found by the independent review: a record with a negative severity number was acknowledged and then never
    /// found. A minimum of 0 finds every record.
    @Test(arguments: LogStoreUnderTest.allCases)
    func anySeverityNumberIsFoundWithoutAMinimum(_ kind: LogStoreUnderTest) async throws {
        let store = try kind.make()
        var request = OTLPLogs([Self.record("odd severity", at: 1)]).request
        request.resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber = .UNRECOGNIZED(-1)
        try await store.write(OTLPLogs(request))
        #expect(try await store.logs(LogQuery()).records.map(\.body.text) == ["odd severity"])
        #expect(try await store.logs(LogQuery(minimumSeverity: .trace)).recordCount == 0)
    }

    /// A live tail asks for what arrived since its last poll, whatever the records' own times: a record stamped before
    /// the newest one shown (another service's batch, a clock behind) is still found.
    @Test(arguments: LogStoreUnderTest.allCases)
    func recordsStoredAfterACursorAreFoundWhateverTheirTimes(_ kind: LogStoreUnderTest) async throws {
        let store = try kind.make()
        try await store.write(OTLPLogs([Self.record("first", at: 5_000)]))
        let cursor = try await store.logCursor()
        #expect(try await store.logs(LogQuery(storedAfter: cursor)).recordCount == 0)
        try await store.write(OTLPLogs([Self.record("late but older", at: 1_000, service: "batcher")]))
        try await store.write(OTLPLogs([Self.record("newer", at: 9_000)]))
        #expect(try await store.logs(LogQuery(storedAfter: cursor)).records.map(\.body.text) == ["newer", "late but older"])
        #expect(try await store.logCursor() > cursor)
        #expect(try await store.logs(LogQuery(storedAfter: try await store.logCursor())).recordCount == 0)
    }

    @Test func retentionDeletesOldRecordsAndTheirServices() async throws {
        let store = try Self.makeStore(file: true)
        try await store.write(OTLPLogs([Self.record("old", at: 0, service: "legacy")]))
        try await store.write(OTLPLogs([Self.record("new", at: 7_200_000_000_000)]))
        let retention = RetentionService(store: store, retention: .seconds(3_600), maximumBytes: .max, logger: .init(label: "test"))
        let deleted = try await retention.pruneOnce(nowNanoseconds: Self.base + 7_200_000_000_000)
        #expect(deleted == 1)
        #expect(try await store.logs(LogQuery()).records.map(\.body.text) == ["new"])
        #expect(try await store.logServices() == ["checkout"])
    }

    @Test func recordsSurviveReopeningTheFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-logs-\(UUID().uuidString)")
        let path = directory.appendingPathComponent("otter.sqlite").path
        try await SQLiteTraceStore(path: path).write(OTLPLogs(Self.fixture))
        let reopened = try SQLiteTraceStore(path: path)
        #expect(try await reopened.logs(LogQuery(traceID: Self.traceID)).recordCount == 3)
    }

    @Test func wordsAreSplitTheSameWayForTheIndexAndTheSearch() {
        #expect(LogQuery.words(in: "GET /api/v1/orders?id=42 -> 200 OK") == ["get", "api", "v1", "orders", "id", "42", "200", "ok"])
        #expect(LogQuery.words(in: "Zürich café") == ["zürich", "café"])
        let long = String(repeating: "é", count: 40)
        let words = LogQuery.words(in: long)
        #expect(words.count == 1 && words[0].utf8.count == 64)
        #expect(LogQuery.words(in: words[0]) == words, "a cut word is its own word")
    }

    @Test func severityNames() {
        #expect(LogSeverity(named: "warn")?.number == 13)
        #expect(LogSeverity(named: "WARNING")?.number == 13)
        #expect(LogSeverity(named: "info2")?.number == 10)
        #expect(LogSeverity(named: "notice")?.number == 10)
        #expect(LogSeverity(named: "fatal4")?.number == 24)
        #expect(LogSeverity(named: "17")?.number == 17)
        #expect(LogSeverity(named: "25") == nil)
        #expect(LogSeverity(named: "info5") == nil)
        #expect(LogSeverity(named: "loud") == nil)
    }
}

extension LogStoreTests {
    /// Many conditions at once (more than the index looks up) still answer exactly.
    @Test(arguments: LogStoreUnderTest.allCases)
    func manyWordsAndTagsAnswerExactly(_ kind: LogStoreUnderTest) async throws {
        let store = try kind.make()
        let words = (0..<20).map { "w\($0)" }
        let attributes = Dictionary(uniqueKeysWithValues: (0..<20).map { ("k\($0)", LogValue.string("v\($0)")) })
        try await store.write(
            OTLPLogs([
                Self.record(words.joined(separator: " "), at: 1, attributes: attributes),
                Self.record(words.dropLast().joined(separator: " "), at: 2, attributes: attributes),
            ]))
        let found = try await store.logs(LogQuery(words: words, tags: (0..<20).map { ("k\($0)", "v\($0)") }))
        #expect(found.records.map(\.body.text) == [words.joined(separator: " ")])
    }
}

extension LogStoreTests {
    /// The index hashes words from bytes at ingest and from text at search: the two must agree.
    @Test func wordTermsFromBytesEqualTermsFromText() {
        for text in ["order", "zürich", "42", String(repeating: "é", count: 40), ""] {
            #expect(LogTerm.word(bytes: Array(text.utf8)) == LogTerm.word(text))
        }
    }
}

extension LogStoreTests {
    /// Found by the independent review: one 60 MB body of distinct words took minutes and hundreds of MB of index.
    /// Words are indexed from at most 16 KB of each text and 16,384 per block; a block beyond either is read by every
    /// word search instead, so its words are still found.
    @Test func wordsBeyondTheIndexCapsAreStillFound() async throws {
        let store = try Self.makeStore(file: false)
        let long = (0..<20_000).map { "w\($0)" }.joined(separator: " ")
        let many = (0..<1_000).map { index in Self.record((0..<20).map { "m\(index)x\($0)" }.joined(separator: " "), at: 10 + UInt64(index))
        }
        try await store.write(OTLPLogs([Self.record(long, at: 1)]))
        try await store.write(OTLPLogs(many))
        let rows = try await store.database.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log_term_block") ?? 0,
                try Int.fetchAll(db, sql: "SELECT wordsIndexed FROM log_block ORDER BY id")
            )
        }
        #expect(rows.0 < 100, "neither block's words are in the index: \(rows.0) rows")
        #expect(rows.1 == [0, 0])
        #expect(try await store.logs(LogQuery(words: ["w19999"])).recordCount == 1)
        #expect(try await store.logs(LogQuery(words: ["m999x19"])).recordCount == 1)
        #expect(try await store.logs(LogQuery(words: ["nowhere"])).recordCount == 0)
    }
}
