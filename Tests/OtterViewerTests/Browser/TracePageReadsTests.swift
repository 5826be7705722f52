import Foundation
import Otter
import OtterOTLP
import OtterViewer
import Synchronization
import Testing
import Tracing

/// A store that counts the trace reads (`traces(_:)`) made through it, and otherwise is the SQLite store underneath.
final class CountingTraceReadsStore: WriteInterceptingStore {
    let reads: SQLiteTraceStore
    private let count = Mutex(0)

    init(reads: SQLiteTraceStore) { self.reads = reads }

    var traceReads: Int { count.withLock { $0 } }

    func write(_ traces: OTLPTraces) async throws -> [String] { try await reads.write(traces) }

    func traces(_ traceIDs: [TraceID]) async throws -> OTLPTraces {
        count.withLock { $0 += 1 }
        return try await reads.traces(traceIDs)
    }
}

/// The trace page is computed once: the server reads the trace once, draws the page without JavaScript from the model,
/// and embeds the same model for the explorer, which reads no trace of its own.
@Suite("trace page reads", .serialized, .enabled(if: Browser.shouldRun, "needs chromium and chromium-driver"))
struct TracePageReadsTests {
    @Test func aTracePageViewReadsTheStoreOnce() async throws {
        let counting = Mutex<CountingTraceReadsStore?>(nil)
        let viewer = try await RunningViewer(serving: { store in
            let wrapper = CountingTraceReadsStore(reads: store)
            counting.withLock { $0 = wrapper }
            return wrapper
        })
        let store = try #require(counting.withLock { $0 })
        try await viewer.store.write(
            ExplorerTraces.request(ExplorerTraces.checkout, start: DefaultTracerClock.now.nanosecondsSinceEpoch - 60_000_000_000))
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(ExplorerTraces.checkout.hexString)")
            try await browser.waitFor(
                "the explorer shows 7 rows", "return document.querySelector('#explorer')?.dataset.visibleRows === '7'")
            #expect(try await browser.evaluate("return document.querySelector('#static-trace').hidden") as? Bool == true)
            let embedded = try await browser.evaluate("return JSON.parse(document.getElementById('trace-model').textContent).spans.length")
            #expect(embedded as? Int == 7, "the page embeds the model the explorer draws")
        }
        #expect(store.traceReads == 1, "one store read for the page and the explorer together, not \(store.traceReads)")
        await viewer.stop()
    }

    @Test func aValueCannotCloseTheEmbeddedModel() async throws {
        let viewer = try await RunningViewer()
        let hostile = "</script><script>document.title='owned'</script><!--"
        var span = ViewerFixtures.spans[0]
        span.attributes["note"] = hostile
        try await viewer.store.write([span])
        let traceID = span.spanContext.traceID.hexString
        let (status, html) = try await viewer.html("/trace/\(traceID)")
        #expect(status == 200)
        #expect(!html.contains(hostile), "the value is escaped in the page")
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(traceID)")
            try await browser.waitFor(
                "the explorer is drawn", "return Number(document.querySelector('#explorer')?.dataset.visibleRows) > 0")
            let note = try await browser.evaluate(
                "return JSON.parse(document.getElementById('trace-model').textContent).spans[0].attributes.find(p => p[0] === 'note')[1]")
            #expect(note as? String == hostile, "the model carries the value unchanged")
            #expect(try await browser.evaluate("return document.title") as? String != "owned")
        }
        await viewer.stop()
    }
}
