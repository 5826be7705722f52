import Foundation
import Otter
import OtterTestSupport
import OtterViewer
import Testing
import Tracing

/// `otter diff`'s comparison on known pairs of traces.
@Suite("trace comparison")
struct TraceComparisonTests {
    static func request(queries: Int = 1, chargeMilliseconds: UInt64 = 10, withCharge: Bool = true) -> [FinishedSpan] {
        SampleTraces.checkout(queries: queries, queryMicroseconds: 500, chargeMilliseconds: chargeMilliseconds, withCharge: withCharge)
    }

    @Test func identicalShapesAreWithinTheThresholds() {
        let comparison = TraceComparison(Self.request(), Self.request())
        #expect(comparison.matchedCount == 4)
        #expect(comparison.addedCount == 0 && comparison.missingCount == 0)
        #expect(comparison.violations(.init(maximumSlowdownPercent: 0)).isEmpty)
        #expect(comparison.report(.init()).hasSuffix("4 matched, 0 added, 0 missing\nwithin the thresholds\n"))
    }

    @Test func threeMoreDatabaseCallsAreCounted() {
        let comparison = TraceComparison(Self.request(queries: 1), Self.request(queries: 4))
        #expect(comparison.addedCount == 3)
        #expect(comparison.missingCount == 0)
        let report = comparison.report(.init())
        #expect(report.contains("+3 SELECT item (db)"))
        #expect(report.contains("+   SELECT item [client] db    — → 500µs  added"))
        #expect(comparison.violations(.init()) == ["3 spans added or missing (at most 0 allowed)"])
        #expect(comparison.violations(.init(maximumSpanChanges: 3)).isEmpty)
    }

    @Test func aMissingSpanIsCounted() {
        let comparison = TraceComparison(Self.request(), Self.request(withCharge: false))
        #expect(comparison.missingCount == 1)
        #expect(comparison.report(.init()).contains("-   charge [client] payments"))
        #expect(comparison.report(.init()).contains("-1 charge (payments)"))
    }

    @Test func aSpanFortyPercentSlowerFailsAThresholdOfThirty() {
        let comparison = TraceComparison(Self.request(chargeMilliseconds: 10), Self.request(chargeMilliseconds: 14))
        let charge = comparison.rows.first { $0.operation == "charge" }
        #expect(charge?.percentChange == 40)
        #expect(comparison.slowdowns(.init(maximumSlowdownPercent: 30)).map(\.operation) == ["charge"])
        #expect(comparison.slowdowns(.init(maximumSlowdownPercent: 40)).isEmpty)
        #expect(comparison.violations(.init(maximumSlowdownPercent: 30)).first?.hasPrefix("1 span slower by more than 30 %") == true)
        #expect(comparison.report(.init(maximumSlowdownPercent: 30)).contains("!   charge [client] payments"))
        // Spans shorter than the minimum are not judged: SELECT item takes 0.5 ms.
        let items = TraceComparison(Self.request(), Self.request())
        #expect(
            items.slowdowns(.init(maximumSlowdownPercent: -1, minimumDurationNanoseconds: 1_000_000)).map(\.operation).contains(
                "SELECT item") == false)
    }

    @Test func filesOfBothFormatsRead() throws {
        let json = """
            {"data":[{"traceID":"0af7651916cd43dd8448eb211c80319c","spans":[
            {"traceID":"0af7651916cd43dd8448eb211c80319c","spanID":"b7ad6b7169203331","operationName":"GET /","references":[],
             "startTime":1700000000000000,"duration":1000,"tags":[],"logs":[],"processID":"p1"}],
             "processes":{"p1":{"serviceName":"shop","tags":[]}}}]}
            """
        let traces = try TraceComparison.traces(inFile: Data(json.utf8))
        #expect(traces.count == 1)
        #expect(traces.first?.first?.operationName == "GET /")
        #expect(throws: (any Error).self) { try TraceComparison.traces(inFile: Data("{not json".utf8)) }
    }

    /// A span that became an error fails the gate; a changed kind is shown.
    @Test func aSpanNewlyAnErrorFailsAndAKindChangeShows() throws {
        var changed = Self.request()
        let charge = try #require(changed.firstIndex { $0.operationName == "charge" })
        changed[charge].status = SpanStatus(code: .error, message: "declined")
        changed[charge].kind = .producer
        let comparison = TraceComparison(Self.request(), changed)
        #expect(comparison.newErrors.map(\.operation) == ["charge"])
        #expect(comparison.violations(.init()) == ["1 span newly an error (at most 0 allowed)"])
        #expect(comparison.violations(.init(maximumNewErrors: 1)).isEmpty)
        let report = comparison.report(.init())
        #expect(report.contains("charge [client→producer] payments"))
        #expect(report.contains("now an error"))
        #expect(report.contains("4 matched, 0 added, 0 missing, 1 newly an error"))
        // The other way round is no failure.
        #expect(TraceComparison(changed, Self.request()).violations(.init()).isEmpty)
    }

    /// From 0 ns to something is a slowdown whatever the limit, when short spans are judged at all.
    @Test func fromNothingToSomethingIsSlower() throws {
        var instant = Self.request()
        let charge = try #require(instant.firstIndex { $0.operationName == "charge" })
        instant[charge].endTimeNanosecondsSinceEpoch = instant[charge].startTimeNanosecondsSinceEpoch
        let comparison = TraceComparison(instant, Self.request())
        #expect(comparison.slowdowns(.init(maximumSlowdownPercent: 1_000, minimumDurationNanoseconds: 0)).map(\.operation) == ["charge"])
        #expect(comparison.slowdowns(.init(maximumSlowdownPercent: 1_000)).isEmpty)
    }

    /// Names from a file print on one line: no line breaks or escape sequences reach the terminal.
    @Test func namesFromAFilePrintOnOneLine() throws {
        var hostile = Self.request()
        hostile[0].operationName = "GET\n/evil\u{1B}[31mRED"
        let report = TraceComparison(hostile, hostile).report(.init(), nameA: "a\nb", nameB: "b")
        #expect(!report.contains("\u{1B}"))
        #expect(report.contains("GET\\n/evil\\u{1B}[31mRED [server] shop"))
        #expect(report.hasPrefix("--- a\\nb: 4 spans\n"))
    }
}
