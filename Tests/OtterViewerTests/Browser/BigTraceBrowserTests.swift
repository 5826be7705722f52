import Foundation
import Otter
import OtterViewer
import Testing
import Tracing

/// A trace above the viewer's outline limit (2,000 spans) in a real browser: the explorer opens on its outline and reads
/// what it does not hold (a span's attributes, find in attribute values) from the server as it is used.
@Suite("big trace in a browser", .serialized, .enabled(if: Browser.shouldRun, "needs chromium and chromium-driver"))
struct BigTraceBrowserTests {
    static let traceID = TraceID(high: 0xB16B, low: 0x3000)

    /// 3,001 spans: a root, 30 batches under it, and under each batch a chain of 99 steps (1 ms apart). Step 57 of
    /// batch 17 alone has the attribute `needle=haystack-7`.
    static func spans(start: UInt64) -> [FinishedSpan] {
        func span(_ id: UInt64, parent: UInt64?, _ name: String, at offset: UInt64, _ attributes: SpanAttributes) -> FinishedSpan {
            FinishedSpan(
                operationName: name, kind: .internal,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(id), traceFlags: .sampled),
                parentSpanContext: parent.map { OtterSpanContext(traceID: traceID, spanID: SpanID($0), traceFlags: .sampled) },
                startTimeNanosecondsSinceEpoch: start + offset * 1_000_000, endTimeNanosecondsSinceEpoch: start + (offset + 2) * 1_000_000,
                attributes: attributes, resource: Resource(attributes: ["service.name": "batcher"]))
        }
        var spans = [span(1, parent: nil, "run", at: 0, ["job": "nightly"])]
        spans[0].endTimeNanosecondsSinceEpoch = start + 3_200 * 1_000_000
        for batch in 0..<30 {
            let batchID = UInt64(2 + batch * 100)
            spans.append(span(batchID, parent: 1, "batch \(batch)", at: UInt64(batch * 100), ["batch": .int64(Int64(batch))]))
            for step in 1...99 {
                let attributes: SpanAttributes = batch == 17 && step == 57 ? ["needle": "haystack-7"] : ["step": .int64(Int64(step))]
                spans.append(
                    span(batchID + UInt64(step), parent: batchID + UInt64(step - 1), "step", at: UInt64(batch * 100 + step), attributes))
            }
        }
        return spans
    }

    static let needle = SpanID(2 + 17 * 100 + 57)

    @Test func aBigTraceOpensOnItsOutlineAndReadsTheRestAsItIsUsed() async throws {
        let viewer = try await RunningViewer()
        try await viewer.store.write(Self.spans(start: DefaultTracerClock.now.nanosecondsSinceEpoch - 600_000_000_000))
        let page = "http://127.0.0.1:\(viewer.queryPort)/trace/\(Self.traceID.hexString)"
        try await Browser.with { browser in
            try await browser.open(page)
            try await browser.waitFor("rows drawn", "return Number(document.querySelector('#explorer')?.dataset.visibleRows) === 3001")
            let outlined = try await browser.evaluate(
                "const m = JSON.parse(document.getElementById('trace-model').textContent); return `${!!m.outline} ${m.spans === undefined} ${m.spanCount}`"
            )
            #expect(outlined as? String == "true true 3001", "the page embeds the outline, not 3,001 span objects")

            // Expand a subtree whose spans' details were never read: batch 17, then the first step of its chain.
            try await browser.click("#collapse-all")
            try await browser.waitFor("all collapsed", "return document.querySelector('#explorer').dataset.visibleRows === '1'")
            try await browser.click(".span-row[data-span-id='\(SpanID(1).hexString)'] button.toggle")
            try await browser.waitFor("the batches", "return document.querySelector('#explorer').dataset.visibleRows === '31'")
            let batch = SpanID(2 + 17 * 100).hexString
            try await browser.click(".span-row[data-span-id='\(batch)'] button.toggle")
            try await browser.waitFor("batch 17 open", "return document.querySelector('#explorer').dataset.visibleRows === '32'")
            try await browser.click(".span-row[data-span-id='\(SpanID(2 + 17 * 100 + 1).hexString)'] .span-name")
            try await browser.waitFor(
                "the step's attributes, read from the server",
                "return /step/.test(document.querySelector('#span-details table.attributes')?.textContent) && /1/.test(document.querySelector('#span-details table.attributes')?.textContent)"
            )
            #expect(try await browser.text("#span-details table.resource").contains("batcher"), "the resource came with it")

            // Find a value only the server holds (an attribute of a span deep in a collapsed chain), and jump to it.
            try await browser.type("#find-input", "haystack-7")
            try await browser.waitFor("one match", "return document.querySelector('#find-count').textContent === '1 matches'")
            _ = try await browser.evaluate(
                "document.querySelector('#find-input').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }))")
            try await browser.waitFor(
                "the match selected, its chain expanded",
                "return document.querySelector('.span-row.selected')?.dataset.spanId === arguments[0]", [Self.needle.hexString])
            try await browser.waitFor(
                "its attribute shown", "return /haystack-7/.test(document.querySelector('#span-details table.attributes')?.textContent)")

            // Zoom into a window (as a deep link does): the ruler labels it, and a span in it shows its details.
            try await browser.open("\(page)?from=1700000&to=1760000&span=\(Self.needle.hexString)")
            try await browser.waitFor("zoomed", "return document.querySelector('#explorer')?.classList.contains('zoomed')")
            #expect(try await browser.text("#ruler .tick:first-child").hasPrefix("1.7"))
            try await browser.waitFor(
                "the deep-linked span's details",
                "return /haystack-7/.test(document.querySelector('#span-details table.attributes')?.textContent)")
        }
        await viewer.stop()
    }
}

extension BigTraceBrowserTests {
    @Test func aTenThousandOperationStatisticsTableDrawsOnlyTheRowsInView() async throws {
        let viewer = try await RunningViewer()
        let traceID = TraceID(high: 0x57A7, low: 10_000)
        let start = DefaultTracerClock.now.nanosecondsSinceEpoch - 600_000_000_000
        // A 10,000-deep chain of distinct operations: 10,000 rows of statistics.
        var spans: [FinishedSpan] = []
        for index in UInt64(1)...10_000 {
            let context = OtterSpanContext(traceID: traceID, spanID: SpanID(index), traceFlags: .sampled)
            let parent: OtterSpanContext? =
                index == 1 ? nil : OtterSpanContext(traceID: traceID, spanID: SpanID(index - 1), traceFlags: .sampled)
            spans.append(
                FinishedSpan(
                    operationName: "operation \(index)", kind: .internal, spanContext: context, parentSpanContext: parent,
                    startTimeNanosecondsSinceEpoch: start + index * 1_000, endTimeNanosecondsSinceEpoch: start + 20_000_000 - index * 1_000,
                    resource: Resource(attributes: ["service.name": "deep"])))
        }
        try await viewer.store.write(spans)
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(traceID.hexString)?view=statistics")
            try await browser.waitFor("statistics", "return document.querySelector('#statistics-table')?.dataset.rows === '10000'")
            let drawn = try await browser.count("#statistics-table tbody tr:not(.spacer)")
            #expect(drawn > 10 && drawn < 200, "\(drawn) rows drawn of 10,000")
            // The last row, by total time the shortest: reached by scrolling to the bottom.
            _ = try await browser.evaluate("const v = document.querySelector('.statistics-view'); v.scrollTop = v.scrollHeight")
            try await browser.waitFor(
                "the last rows drawn",
                "return [...document.querySelectorAll('#statistics-table tbody td')].some((cell) => cell.textContent === 'operation 10000')"
            )
            #expect(try await browser.count("#statistics-table tbody tr:not(.spacer)") < 200)
            // Sorting by operation draws the first rows in that order.
            _ = try await browser.evaluate("const v = document.querySelector('.statistics-view'); v.scrollTop = 0")
            try await browser.click("#statistics-table th[data-key='operation'] button")
            try await browser.waitFor(
                "sorted",
                "return document.querySelector('#statistics-table tbody tr:not(.spacer) td:nth-child(2)')?.textContent === 'operation 1'")
        }
        await viewer.stop()
    }
}
