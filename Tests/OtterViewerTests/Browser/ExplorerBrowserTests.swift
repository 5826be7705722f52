import Foundation
import Otter
import OtterViewer
import Testing
import Tracing

/// The explorer in a real browser (headless Chromium through chromedriver): pages load stored traces, and the tests
/// click, collapse, find, switch views, compare and upload, then assert on what the page shows. Each page is also
/// saved as a screenshot: to `$OTTER_SCREENSHOT_DIR` when set (`scripts/screenshots.sh` writes `docs/`).
@Suite("explorer in a browser", .serialized, .enabled(if: Browser.shouldRun, "needs chromium and chromium-driver"))
struct ExplorerBrowserTests {
    static var now: UInt64 { DefaultTracerClock.now.nanosecondsSinceEpoch }

    /// With `outlined`, every trace opens as a big trace does: the explorer gets its outline and reads each span's
    /// details, and find's results, from the server.
    static func viewerWithTraces(outlined: Bool = false) async throws -> RunningViewer {
        let viewer = try await RunningViewer(traceOutlineAbove: outlined ? 0 : 2_000)
        try await viewer.store.write(ExplorerTraces.request(ExplorerTraces.checkout, start: now - 120_000_000_000))
        try await viewer.store.write(ExplorerTraces.request(ExplorerTraces.slowCheckout, start: now - 60_000_000_000, slow: true))
        return viewer
    }

    static func save(_ browser: Browser, _ name: String) async throws {
        let png = try await browser.screenshot()
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        if let directory = ProcessInfo.processInfo.environment["OTTER_SCREENSHOT_DIR"] {
            try png.write(to: URL(fileURLWithPath: directory).appendingPathComponent("viewer-\(name).png"))
        }
    }

    @Test(arguments: [false, true]) func traceTimelineCollapsesFindsAndShowsDetails(outlined: Bool) async throws {
        let viewer = try await Self.viewerWithTraces(outlined: outlined)
        try await Browser.with { browser in
            let id = ExplorerTraces.checkout.hexString
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(id)")
            try await browser.waitFor(
                "the explorer shows 7 rows", "return document.querySelector('#explorer')?.dataset.visibleRows === '7'")
            #expect(try await browser.evaluate("return document.querySelector('#static-trace').hidden") as? Bool == true)
            #expect(try await browser.count(".span-row") == 7)
            #expect(try await browser.count("#ruler .tick") == 5)
            #expect(try await browser.text("#ruler .tick:first-child").hasPrefix("0"))
            // The critical path runs through the root, the server, `parent`, the call and the order.
            #expect(try await browser.count(".span-row.critical") >= 5)
            #expect(try await browser.count(".span-row.critical .critical") >= 5)
            try await Self.save(browser, "trace")

            // Collapse the server span: its 5 descendants disappear; expand all brings them back.
            try await browser.click(".span-row[data-span-id='0000000000000002'] button.toggle")
            try await browser.waitFor("collapsed", "return document.querySelector('#explorer').dataset.visibleRows === '2'")
            #expect(try await browser.count(".span-row.collapsed") == 1)
            try await browser.click("#expand-all")
            try await browser.waitFor("expanded", "return document.querySelector('#explorer').dataset.visibleRows === '7'")
            try await browser.click("#collapse-all")
            try await browser.waitFor("all collapsed", "return document.querySelector('#explorer').dataset.visibleRows === '1'")
            try await browser.click("#expand-all")

            // Find: two spans are named GET, and the search reaches attribute values too.
            try await browser.type("#find-input", "GET")
            try await browser.waitFor("matches counted", "return document.querySelector('#find-count').textContent === '3 matches'")
            #expect(try await browser.count(".span-row.match") == 3, "GET twice as a name, once as http.request.method")
            try await browser.waitFor("uiFind in the URL", "return new URL(location.href).searchParams.get('uiFind') === 'GET'")

            // Details of the order span: its duration, events with their attributes, the service's resource.
            try await browser.click(".span-row[data-span-id='0000000000000005'] .span-name")
            try await browser.waitFor("details shown", "return !!document.querySelector('#span-details .detail-duration')")
            // An outlined trace's details arrive after the facts.
            try await browser.waitFor("events shown", "return !!document.querySelector('#span-details table.events')")
            #expect(try await browser.text("#span-details .detail-duration").contains("40"))
            let events = try await browser.text("#span-details table.events")
            #expect(events.contains("order.placed") && events.contains("A-17") && events.contains("order.shipped"))
            #expect(try await browser.text("#span-details table.resource").contains("order-example"))
            #expect(try await browser.text("#span-details .detail-scope").contains("otter-examples"))
            try await browser.waitFor("span in the URL", "return new URL(location.href).searchParams.get('span') === '0000000000000005'")

            // Keyboard: ArrowDown selects the next row.
            _ = try await browser.evaluate("document.activeElement.blur()")
            try await browser.press("\u{E015}")
            try await browser.waitFor(
                "next row selected", "return document.querySelector('.span-row.selected')?.dataset.spanId === '0000000000000006'")
            try await Self.save(browser, "trace-details")

            // As Jaeger's uiFind: words are alternatives, and event attributes and the resource are searched too.
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(id)?uiFind=validate%20charge")
            try await browser.waitFor("two words", "return document.querySelector('#find-count')?.textContent === '2 matches'")
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(id)?uiFind=A-17")
            try await browser.waitFor("an event attribute", "return document.querySelector('#find-count')?.textContent === '1 matches'")
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(id)?uiFind=payments%20-charge")
            try await browser.waitFor("an exclusion", "return document.querySelector('#find-count')?.textContent === '0 matches'")

            // Jaeger's uiFind deep link fills the find box on load.
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(id)?uiFind=order")
            try await browser.waitFor("uiFind applied", "return document.querySelector('#find-input')?.value === 'order'")
            try await browser.waitFor(
                "uiFind count", "return /^[1-9][0-9]* matches$/.test(document.querySelector('#find-count').textContent)")
        }
        await viewer.stop()
    }

    @Test(arguments: [false, true]) func flamegraphAndStatisticsViews(outlined: Bool) async throws {
        let viewer = try await Self.viewerWithTraces(outlined: outlined)
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(ExplorerTraces.checkout.hexString)")
            try await browser.waitFor("explorer", "return document.querySelector('#explorer')?.dataset.visibleRows === '7'")
            try await browser.click(".view-tabs button[data-view='flamegraph']")
            try await browser.waitFor("flamegraph", "return document.querySelector('#explorer').dataset.view === 'flamegraph'")
            #expect(try await browser.count(".flame-node") == 7)
            #expect(try await browser.text(".flame-node[data-span-id='0000000000000005']").contains("order"))
            try await Self.save(browser, "flamegraph")
            try await browser.click(".flame-node[data-span-id='0000000000000007']")
            try await browser.waitFor(
                "details of a flame node",
                "return /card declined/.test(document.querySelector('#span-details .detail-status')?.textContent)")

            try await browser.click(".view-tabs button[data-view='statistics']")
            try await browser.waitFor("statistics", "return !!document.querySelector('#statistics-table tbody tr')")
            // 7 spans, 7 (service, operation) groups: GET of http-client and GET of http-server are different services.
            #expect(try await browser.count("#statistics-table tbody tr") == 7)
            let table = try await browser.text("#statistics-table")
            #expect(table.contains("order-example") && table.contains("payments") && table.contains("charge"))
            try await Self.save(browser, "statistics")
            #expect(try await browser.evaluate("return new URL(location.href).searchParams.get('view')") as? String == "statistics")
        }
        await viewer.stop()
    }

    /// Issue 27: the flamegraph clipped lanes deeper than 60 with no way to see them. Double-clicking a span now shows its
    /// subtree only, from its own depth and across the whole width.
    @Test func flamegraphFocusesOnASubtreeAndReachesLanesBelowTheClip() async throws {
        let viewer = try await RunningViewer()
        let trace = TraceID(high: 0xF1A, low: 100)
        let start = Self.now - 600_000_000_000
        // A chain of 100 spans, each inside its parent: depths 0 to 99.
        var chain: [FinishedSpan] = []
        for depth: UInt64 in 0..<100 {
            let parent: UInt64? = depth == 0 ? nil : depth
            let kind: SpanKind = depth == 0 ? .server : .internal
            chain.append(
                ExplorerTraces.span(
                    trace, depth + 1, parent: parent, "level \(depth)", kind, service: "deep", start: start + depth * 1_000_000,
                    milliseconds: 400 - depth * 2))
        }
        try await viewer.store.write(chain)
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(trace.hexString)?view=flamegraph")
            try await browser.waitFor("flamegraph", "return document.querySelectorAll('.flame-node').length > 0")
            #expect(try await browser.count(".flame-node") == 61, "levels 0 to 60")
            #expect(try await browser.text(".flame-note").contains("39 spans more than 60 levels"))
            _ = try await browser.evaluate(
                "document.querySelector(\".flame-node[data-span-id='0000000000000033']\").dispatchEvent(new MouseEvent('dblclick', { bubbles: true }))"
            )
            try await browser.waitFor("focused on level 50", "return document.querySelector('#explorer').dataset.flameRoot === '50'")
            #expect(try await browser.count(".flame-node") == 50, "levels 50 to 99, none clipped")
            #expect(try await browser.text(".flame-note").contains("Showing the subtree of level 50"))
            #expect(
                try await browser.evaluate("return document.querySelector(\".flame-node[data-span-id='0000000000000033']\").style.top")
                    as? String == "0px")
            #expect(
                try await browser.evaluate("return document.querySelector(\".flame-node[data-span-id='0000000000000033']\").style.width")
                    as? String == "100%")
            #expect(try await browser.count(".flame-node[data-span-id='0000000000000064']") == 1, "the deepest span, level 99")
            try await browser.click(".flame-unfocus")
            try await browser.waitFor("whole trace", "return document.querySelector('#explorer').dataset.flameRoot === '-1'")
            #expect(try await browser.count(".flame-node") == 61)
        }
        await viewer.stop()
    }

    @Test func aTenThousandSpanTraceIsVirtualised() async throws {
        let viewer = try await RunningViewer()
        let trace = TraceID(high: 0xB16, low: 10_000)
        try await viewer.store.write(ExplorerTraces.large(trace, count: 10_000, start: Self.now - 600_000_000_000))
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(trace.hexString)")
            try await browser.waitFor("10,000 rows", "return document.querySelector('#explorer')?.dataset.visibleRows === '10000'")
            let rendered = try await browser.count(".span-row")
            #expect(rendered > 10 && rendered < 300, "only the rows in view are in the page: \(rendered)")
            // Scrolling to the end renders the last rows.
            _ = try await browser.evaluate("const t = document.querySelector('#timeline'); t.scrollTop = t.scrollHeight")
            try await browser.waitFor("last row rendered", "return !!document.querySelector(\".span-row[data-index='9999']\")")
            try await browser.click("#collapse-all")
            try await browser.waitFor("collapsed", "return document.querySelector('#explorer').dataset.visibleRows === '1'")
        }
        await viewer.stop()
    }

    @Test func searchScatterOpensTracesAndTwoPicksCompare() async throws {
        let viewer = try await Self.viewerWithTraces()
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/search?service=http-client&sort=longest")
            try await browser.waitFor("results", "return document.querySelectorAll('.compare-pick').length === 2")
            #expect(try await browser.text("#result-count") == "2 traces")
            #expect(try await browser.count("svg.scatter circle.dot") == 2)
            #expect(try await browser.count("svg.scatter text.tick") == 10, "5 time and 5 duration labels")
            let first = try await browser.evaluate("return document.querySelector('.compare-pick').value") as? String
            #expect(first == ExplorerTraces.slowCheckout.hexString, "longest first")
            #expect(try await browser.evaluate("return document.querySelector('#compare-button').disabled") as? Bool == true)
            try await Self.save(browser, "search")

            try await browser.click("svg.scatter circle.dot[data-trace-id='\(ExplorerTraces.checkout.hexString)']")
            try await browser.waitFor("trace page", "return location.pathname === '/trace/\(ExplorerTraces.checkout.hexString)'")

            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/search?service=http-client")
            try await browser.waitFor("results", "return document.querySelectorAll('.compare-pick').length === 2")
            try await browser.click(".compare-pick[value='\(ExplorerTraces.checkout.hexString)']")
            try await browser.click(".compare-pick[value='\(ExplorerTraces.slowCheckout.hexString)']")
            try await browser.waitFor("compare enabled", "return document.querySelector('#compare-button').disabled === false")
            try await browser.click("#compare-button")
            try await browser.waitFor("compare page", "return !!document.querySelector('table.diff')")
            let summary = try await browser.text("#compare-summary")
            #expect(summary.contains("6 matched, 1 added, 1 missing"), "\(summary)")
            #expect(try await browser.count("table.diff tr.added") == 1)
            #expect(try await browser.count("table.diff tr.missing") == 1)
            #expect(try await browser.text("table.diff tr.missing").contains("charge"))
            #expect(try await browser.text("table.diff tr.added").contains("validate"))
            #expect(try await browser.count("table.diff td.slower") >= 4, "the slow order makes its ancestors slower")
            try await Self.save(browser, "compare")
        }
        await viewer.stop()
    }

    @Test func liveSearchAddsTracesAsTheyArrive() async throws {
        let viewer = try await Self.viewerWithTraces()
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/search?service=http-client&live=1")
            try await browser.waitFor("two results", "return document.querySelectorAll('.compare-pick').length === 2")
            #expect(try await browser.evaluate("return document.querySelector('#live').checked") as? Bool == true)
            try await viewer.store.write(ExplorerTraces.request(TraceID(high: 0xC0FFEE, low: 3), start: Self.now - 1_000_000_000))
            try await browser.waitFor(
                "the new trace appears without a reload", "return document.querySelectorAll('.compare-pick').length === 3")
            #expect(try await browser.text("#result-count") == "3 traces")
        }
        await viewer.stop()
    }

    @Test func uploadShowsAJaegerFileWithoutStoringIt() async throws {
        let viewer = try await RunningViewer()
        let source = try await Self.viewerWithTraces()
        // Jaeger JSON as Jaeger's own API gives it, from another viewer.
        let (_, body) = try await source.html("/api/traces/\(ExplorerTraces.checkout.hexString)")
        await source.stop()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("otter-upload-\(UInt32.random(in: 0...UInt32.max)).json")
        try Data(body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await Browser.with { browser in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/upload")
            try await browser.type("#upload-file", file.path)
            try await browser.waitFor("uploaded trace drawn", "return document.querySelector('#explorer')?.dataset.visibleRows === '7'")
            #expect(try await browser.count(".span-row.critical") >= 5)
            #expect(try await viewer.store.services().isEmpty, "nothing was stored")
            try await Self.save(browser, "upload")

            try Data("{not json".utf8).write(to: file)
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/upload")
            try await browser.type("#upload-file", file.path)
            try await browser.waitFor("an error message", "return document.querySelector('#upload-message').textContent.length > 0")
        }
        await viewer.stop()
    }

    @Test func monitorDependenciesAndDarkModeRender() async throws {
        let viewer = try await Self.viewerWithTraces()
        let graphColor = try await Browser.with(darkMode: true) { browser -> String in
            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/monitor?service=http-server&lookback=15m")
            #expect(try await browser.text("table.monitor").contains("GET /"))
            #expect(try await browser.count("svg.chart path.series") == 5, "p50, p95, p99, rate, errors")
            let background = try await browser.evaluate("return getComputedStyle(document.body).backgroundColor") as? String ?? ""
            #expect(Self.isDark(background), "prefers-color-scheme: dark gives a dark page: \(background)")
            try await Self.save(browser, "monitor-dark")

            try await browser.open("http://127.0.0.1:\(viewer.queryPort)/dependencies")
            #expect(try await browser.count("svg.graph g.node") == 4)
            #expect(try await browser.count("svg.graph path.edge") == 3)
            // Layered: the client is left of the server, the server left of the order service.
            let x = { (name: String) async throws -> Double in
                try await browser.evaluate(
                    "for (const g of document.querySelectorAll('svg.graph g.node')) if (g.textContent === arguments[0]) return g.getBBox().x; return -1",
                    [name]) as? Double ?? -1
            }
            let client = try await x("http-client")
            let server = try await x("http-server")
            let order = try await x("order-example")
            #expect(client >= 0 && client < server && server < order)
            try await Self.save(browser, "dependencies-dark")

            return try await browser.evaluate(
                "for (const g of document.querySelectorAll('svg.graph g.node')) if (g.textContent === 'http-server') return getComputedStyle(g.querySelector('rect')).stroke; return ''"
            ) as? String ?? ""
        }
        // The same service has the same colour on the graph, the trace page and the search results.
        try await Browser.with { light in
            try await light.open("http://127.0.0.1:\(viewer.queryPort)/trace/\(ExplorerTraces.checkout.hexString)")
            try await light.waitFor("explorer", "return document.querySelector('#explorer')?.dataset.visibleRows === '7'")
            #expect(!Self.isDark(try await light.evaluate("return getComputedStyle(document.body).backgroundColor") as? String ?? ""))
            let swatch =
                "for (const e of document.querySelectorAll(arguments[0])) if (e.textContent.includes('http-server')) return getComputedStyle(e.querySelector('.swatch')).backgroundColor; return ''"
            let onTrace = try await light.evaluate(swatch, [".legend .service-chip"]) as? String ?? ""
            try await light.open("http://127.0.0.1:\(viewer.queryPort)/search?service=http-client")
            let onSearch = try await light.evaluate(swatch, ["table.results .service-chip"]) as? String ?? ""
            #expect(!graphColor.isEmpty && onTrace == graphColor && onSearch == graphColor, "\(graphColor) \(onTrace) \(onSearch)")
            try await light.open("http://127.0.0.1:\(viewer.queryPort)/monitor?service=http-server")
            try await Self.save(light, "monitor")
            try await light.open("http://127.0.0.1:\(viewer.queryPort)/dependencies")
            try await Self.save(light, "dependencies")
        }
        await viewer.stop()
    }

    /// Whether a CSS `rgb(r, g, b)` colour is dark.
    static func isDark(_ color: String) -> Bool {
        let numbers = color.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return numbers.count >= 3 && numbers[0] + numbers[1] + numbers[2] < 3 * 100
    }
}
