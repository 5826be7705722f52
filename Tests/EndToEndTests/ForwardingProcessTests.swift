import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterExamples
import OtterOTLP
import OtterTestSupport
import Testing
import Tracing

/// `otter viewer --forward` as real processes: a receiver built on opentelemetry-proto (Python) and a second
/// `otter viewer` get what the first one stores, through an upstream outage and a `kill -9`.
@Suite("otter viewer --forward", .serialized)
struct ForwardingProcessTests {
    /// `traces` traces of `spansPerTrace` spans each, as one OTLP/HTTP request per trace.
    static func requests(traces: Int, spansPerTrace: Int, service: String = "forwarded") -> [(traceID: TraceID, body: [UInt8])] {
        let generator = RandomIDGenerator()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch - 5_000_000_000
        return (0..<traces).map { _ in
            let traceID = generator.newTraceID()
            let root = generator.newSpanID()
            let rootContext = OtterSpanContext(traceID: traceID, spanID: root, traceFlags: .sampled)
            let resource = Resource(attributes: ["service.name": .string(service)])
            var spans: [FinishedSpan] = []
            for index in 0..<spansPerTrace {
                let isRoot = index == 0
                let spanID: SpanID = isRoot ? root : generator.newSpanID()
                let start: UInt64 = now + UInt64(index)
                spans.append(
                    FinishedSpan(
                        operationName: "step \(index % 9)", kind: isRoot ? SpanKind.server : SpanKind.internal,
                        spanContext: OtterSpanContext(traceID: traceID, spanID: spanID, traceFlags: .sampled),
                        parentSpanContext: isRoot ? nil : rootContext, startTimeNanosecondsSinceEpoch: start,
                        endTimeNanosecondsSinceEpoch: now + 1_000_000, attributes: ["index": .int64(Int64(index))], resource: resource))
            }
            return (traceID, OTLPProtobufEncoder.encode(spans))
        }
    }

    static func get(_ url: String, token: String? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    /// The number of spans of each trace that `ui` (a viewer) holds.
    static func spanCounts(_ ui: String, _ traceIDs: [TraceID], token: String? = nil) async throws -> [Int] {
        var counts: [Int] = []
        for traceID in traceIDs {
            let trace = (try await get("\(ui)api/traces/\(traceID.hexString)", token: token)["data"] as? [[String: Any]])?.first
            counts.append(Set(((trace?["spans"] as? [[String: Any]]) ?? []).compactMap { $0["spanID"] as? String }).count)
        }
        return counts
    }

    /// Waits (at most `seconds`) until `condition` holds.
    static func eventually(_ seconds: Int, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    static func temporaryDatabase(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("otter-\(name)-\(UUID()).sqlite").path
    }

    static func stop(_ process: ChildProcess) async {
        process.terminate()
        _ = await process.waitForExit()
    }

    @Test(.enabled(if: OptionalPeers.shouldRunPythonTests, "needs opentelemetry-proto (bash scripts/setup-python-peers.sh)"))
    func aReceiverBuiltOnOpenTelemetryProtoGetsEverySpanAndLogRecord() async throws {
        guard let python = PythonPeers.interpreter else {
            if PythonPeers.areRequired { Issue.record("OTTER_REQUIRE_PYTHON_PEERS=1 but no Python peers") }
            return
        }
        let receiver = ChildProcess(
            label: "receiver", executable: python,
            arguments: [PythonPeers.packageRoot.appendingPathComponent("Tests/EndToEndTests/Python/otlp_receiver.py").path, "0"],
            echo: false)
        try receiver.start()
        let listening = await ChildProcess.withDeadline(.seconds(60)) { await receiver.firstLine { $0.hasPrefix("listening ") } } ?? nil
        let port = try #require(listening?.split(separator: " ").last.flatMap { Int($0) }, "\(receiver.lines)")
        let db = Self.temporaryDatabase("forward-python")
        // Credentials in the URL are sent as HTTP Basic authorization, and shown nowhere.
        let (viewer, ingest, ui) = try await ProcessHarness.startViewer(db: db, ["--forward", "http://alice:s3cret@127.0.0.1:\(port)"])
        #expect(viewer.lines.contains { $0.contains("forwarding to http://127.0.0.1:\(port)") })
        #expect(!viewer.lines.contains { $0.contains("s3cret") })
        let requests = Self.requests(traces: 20, spansPerTrace: 250)
        for request in requests { #expect(try await ViewerProcessTests.post(request.body, to: ingest) == 200) }
        let record = OtterLogRecord(
            timeNanosecondsSinceEpoch: DefaultTracerClock.now.nanosecondsSinceEpoch, severity: .warning, body: "disk almost full",
            resource: Resource(attributes: ["service.name": "forwarded"]))
        #expect(
            try await ViewerProcessTests.post(
                try OTLPLogs([record]).protobuf(), to: ingest.replacingOccurrences(of: "/v1/traces", with: "/v1/logs")) == 200)

        func received() -> (spans: Set<String>, traces: Set<String>, bodies: [String]) {
            let lines = receiver.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return (
                Set(lines.flatMap { $0["span_ids"] as? [String] ?? [] }), Set(lines.flatMap { $0["trace_ids"] as? [String] ?? [] }),
                lines.flatMap { $0["bodies"] as? [String] ?? [] }
            )
        }
        #expect(try await Self.eventually(60) { received().spans.count >= 5_000 && !received().bodies.isEmpty })
        #expect(received().spans.count == 5_000)
        #expect(received().traces == Set(requests.map(\.traceID.hexString)))
        #expect(received().bodies == ["disk almost full"])
        let authorizations = Set(
            receiver.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .compactMap { $0["authorization"] as? String })
        #expect(authorizations == ["Basic " + Data("alice:s3cret".utf8).base64EncodedString()])
        let status = try #require(try await Self.get(ui + "api/otter/status")["forwarding"] as? [String: Any])
        #expect((status["spans"] as? [String: Any])?["sent"] as? Int == 5_000)
        #expect((status["spans"] as? [String: Any])?["queued"] as? Int == 0)
        #expect((status["logs"] as? [String: Any])?["sent"] as? Int == 1)
        #expect(status["protocol"] as? String == "http/protobuf")
        let page = try await HTTPClient.shared.execute(HTTPClientRequest(url: ui + "status"), timeout: .seconds(30))
        let html = String(buffer: try await page.body.collect(upTo: 1 << 20))
        #expect(html.contains("Forwarding to <b>http://127.0.0.1:\(port)</b> over http/protobuf"))
        #expect(html.contains("<td>Spans</td><td>0</td><td>5000</td>"), "\(html)")
        await Self.stop(viewer)
        // SIGKILL: the test process ignores SIGTERM (for its own services), and a child started by it inherits that.
        receiver.kill()
        _ = await receiver.waitForExit()
        try? FileManager.default.removeItem(atPath: db)
    }

    /// An upstream that accepts the connection and never answers does not hold up SIGTERM for --forward-timeout, over
    /// HTTP or gRPC; what was in flight is not lost: after a restart with a working upstream it arrives.
    @Test(.enabled(if: OptionalPeers.shouldRunPythonTests, "needs Python (bash scripts/setup-python-peers.sh)"))
    func anUpstreamThatNeverAnswersDoesNotDelayShutdownNorLoseTheRequest() async throws {
        guard let python = PythonPeers.interpreter else { return }
        let script = PythonPeers.packageRoot.appendingPathComponent("Tests/EndToEndTests/Python/otlp_receiver.py").path
        for transport in ["http/protobuf", "grpc"] {
            let upstream = ChildProcess(label: "hanging", executable: python, arguments: [script, "0", "--hang"], echo: false)
            try upstream.start()
            defer { upstream.kill() }
            let listening = await ChildProcess.withDeadline(.seconds(60)) { await upstream.firstLine { $0.hasPrefix("listening ") } } ?? nil
            let port = try #require(listening?.split(separator: " ").last.flatMap { Int($0) }, "\(upstream.lines)")
            let db = Self.temporaryDatabase("forward-hang")
            let (viewer, ingest, _) = try await ProcessHarness.startViewer(
                db: db, ["--forward", "http://127.0.0.1:\(port)", "--forward-protocol", transport, "--forward-timeout", "10m"])
            let request = Self.requests(traces: 1, spansPerTrace: 10)[0]
            #expect(try await ViewerProcessTests.post(request.body, to: ingest) == 200)
            let connected = await ChildProcess.withDeadline(.seconds(60)) { await upstream.firstLine { $0 == "connection" } } ?? nil
            #expect(connected != nil, "\(transport): the forwarder connected")
            viewer.terminate()
            let exited = await ChildProcess.withDeadline(.seconds(60)) { await viewer.waitForExit() }
            #expect(exited == 0, "\(transport): stopped with the request in flight, not after the 10-minute forward timeout")
            if exited == nil { viewer.kill() }

            // Restarted with an upstream that answers: the request that was in flight arrives.
            let receiver = ChildProcess(label: "receiver", executable: python, arguments: [script, "0"], echo: false)
            try receiver.start()
            defer { receiver.kill() }
            let receiving = await ChildProcess.withDeadline(.seconds(60)) { await receiver.firstLine { $0.hasPrefix("listening ") } } ?? nil
            let receiverPort = try #require(receiving?.split(separator: " ").last.flatMap { Int($0) })
            let (restarted, _, _) = try await ProcessHarness.startViewer(db: db, ["--forward", "http://127.0.0.1:\(receiverPort)"])
            let traceID = request.traceID.hexString
            let arrived = try await Self.eventually(60) { receiver.lines.contains { $0.contains(traceID) } }
            #expect(arrived, "\(transport): the spans in flight at SIGTERM were sent after the restart")
            await Self.stop(restarted)
            try? FileManager.default.removeItem(atPath: db)
        }
    }

    /// A second viewer as the upstream, over OTLP/gRPC with its token as a header; only the traces with errors.
    @Test func aSecondViewerOverGRPCGetsTheTracesWithErrors() async throws {
        let upstreamDB = Self.temporaryDatabase("upstream")
        let (upstream, _, upstreamUI) = try await ProcessHarness.startViewer(db: upstreamDB, ["--token", "upstream-secret"])
        let grpcPort = try #require(
            upstream.lines.first { $0.contains("OTLP/gRPC on ") }?.split(separator: ":").last.flatMap { Int($0) }, "\(upstream.lines)")
        let db = Self.temporaryDatabase("forward-grpc")
        let (viewer, ingest, _) = try await ProcessHarness.startViewer(
            db: db,
            [
                "--forward", "http://127.0.0.1:\(grpcPort)", "--forward-protocol", "grpc", "--forward-header",
                "authorization=Bearer upstream-secret",
                "--forward-only", "errors", "--forward-decision-wait", "1s",
            ])
        let generator = RandomIDGenerator()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch - 1_000_000_000
        var failed: [TraceID] = []
        var fine: [TraceID] = []
        for index in 0..<10 {
            let traceID = generator.newTraceID()
            let spans = (0..<3).map { position in
                FinishedSpan(
                    operationName: "work", kind: .internal,
                    spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                    startTimeNanosecondsSinceEpoch: now, endTimeNanosecondsSinceEpoch: now + 1_000,
                    status: index % 2 == 0 && position == 2 ? SpanStatus(code: .error, message: "failed") : nil,
                    resource: Resource(attributes: ["service.name": "filtered"]))
            }
            if index % 2 == 0 { failed.append(traceID) } else { fine.append(traceID) }
            #expect(try await ViewerProcessTests.post(OTLPProtobufEncoder.encode(spans), to: ingest) == 200)
        }
        #expect(
            try await Self.eventually(60) { try await Self.spanCounts(upstreamUI, failed, token: "upstream-secret") == [3, 3, 3, 3, 3] })
        #expect(try await Self.spanCounts(upstreamUI, fine, token: "upstream-secret") == [0, 0, 0, 0, 0])
        await Self.stop(viewer)
        await Self.stop(upstream)
        try? FileManager.default.removeItem(atPath: db)
        try? FileManager.default.removeItem(atPath: upstreamDB)
    }

    /// The upstream is down for a minute, then comes back: everything stored meanwhile arrives; then the forwarding
    /// viewer is killed with `kill -9` mid-stream and restarted: nothing it acknowledged is missing upstream.
    @Test func nothingIsLostThroughAnOutageAndAKill() async throws {
        let upstreamDB = Self.temporaryDatabase("upstream-outage")
        // The upstream's port, known before it runs: where it listened a moment ago.
        let (probe, probeIngest, _) = try await ProcessHarness.startViewer(db: upstreamDB)
        await Self.stop(probe)
        let upstreamPort = try #require(URL(string: probeIngest)?.port)
        let db = Self.temporaryDatabase("forwarder")
        let forward = ["--forward", "http://127.0.0.1:\(upstreamPort)", "--forward-timeout", "2s"]
        let (viewer, ingest, ui) = try await ProcessHarness.startViewer(db: db, forward)
        let outage = Self.requests(traces: 10, spansPerTrace: 100, service: "outage")
        for request in outage { #expect(try await ViewerProcessTests.post(request.body, to: ingest) == 200) }
        let start = ContinuousClock.now
        #expect(
            try await Self.eventually(60) {
                let spans = (try await Self.get(ui + "api/otter/status")["forwarding"] as? [String: Any])?["spans"] as? [String: Any]
                return spans?["retries"] as? Int ?? 0 > 0 && spans?["queued"] as? Int == 1_000
            })
        try await Task.sleep(until: start.advanced(by: .seconds(60)))  // The outage lasts a minute.
        let (upstream, _, upstreamUI) = try await ProcessHarness.startViewer(db: upstreamDB, ["--otlp-http-port", "\(upstreamPort)"])
        #expect(try await Self.eventually(90) { try await Self.spanCounts(upstreamUI, outage.map(\.traceID)).allSatisfy { $0 == 100 } })

        // kill -9 while requests stream in; every request the viewer answered 200 must reach the upstream.
        let stream = Self.requests(traces: 60, spansPerTrace: 50, service: "killed")
        var acknowledged: [TraceID] = []
        for request in stream.prefix(30) where try await ViewerProcessTests.post(request.body, to: ingest) == 200 {
            acknowledged.append(request.traceID)
        }
        viewer.kill()
        _ = await viewer.waitForExit()
        let (restarted, restartedIngest, _) = try await ProcessHarness.startViewer(db: db, forward)
        for request in stream.suffix(30) where try await ViewerProcessTests.post(request.body, to: restartedIngest) == 200 {
            acknowledged.append(request.traceID)
        }
        #expect(acknowledged.count == 60)
        let acknowledgedIDs = acknowledged
        #expect(try await Self.eventually(90) { try await Self.spanCounts(upstreamUI, acknowledgedIDs).allSatisfy { $0 == 50 } })
        await Self.stop(restarted)
        await Self.stop(upstream)
        try? FileManager.default.removeItem(atPath: db)
        try? FileManager.default.removeItem(atPath: upstreamDB)
    }

    @Test func badForwardingFlagsNameTheFlag() async throws {
        for (flags, says) in [
            (["--forward", "ftp://host"], "--forward"), (["--forward", "http://127.0.0.1:99999"], "port 99999"),
            (["--forward", "http://127.0.0.1:1", "--forward-protocol", "http/json"], "--forward-protocol"),
            (["--forward", "http://127.0.0.1:1", "--forward-header", "novalue"], "--forward-header"),
            (["--forward", "http://127.0.0.1:1", "--forward-only", "sometimes"], "--forward-only"),
            (["--forward", "http://127.0.0.1:1", "--forward-timeout", "0s"], "--forward-timeout"),
            (["--forward-only", "errors"], "--forward"),
            (["--forward", "http://127.0.0.1:1/base?tenant=a"], "without a query"),
            (["--forward", "http://127.0.0.1:1", "--forward-header", "x-tenant=a\r\nx-injected: 1"], "control character"),
            (["--forward", "http://127.0.0.1:99999999999999999999"], "is not a port number"),
            (["--forward", "ftp://u:secret@127.0.0.1:1"], "***@127.0.0.1"),
        ] {
            let viewer = try ProcessHarness.otter(
                "viewer", ["viewer", "--db", ":memory:", "--ui-port", "0", "--otlp-http-port", "0", "--otlp-grpc-port", "0"] + flags)
            #expect(await viewer.waitForExit() != 0, "\(flags)")
            #expect(viewer.lines.contains { $0.contains(says) }, "\(flags): \(viewer.lines)")
        }
        // Forwarding to its own OTLP port would send everything to itself again and again, however the address is spelt
        // (and with the protocol's default port). Refused before anything listens.
        for forward in [
            ["--forward", "http://localhost:14318"], ["--forward", "http://LOCALHOST.:14318"], ["--forward", "http://2130706433:14318"],
            ["--forward", "http://0.0.0.0:14318"], ["--forward", "http://[::1]:14318"],
            ["--forward", "http://localhost", "--forward-protocol", "grpc"],
        ] {
            let loop = try ProcessHarness.otter(
                "viewer",
                ["viewer", "--db", ":memory:", "--ui-port", "0", "--otlp-grpc-port", "4317", "--otlp-http-port", "14318"] + forward)
            #expect(await loop.waitForExit() != 0, "\(forward)")
            #expect(loop.lines.contains { $0.contains("this viewer's own OTLP port") }, "\(forward): \(loop.lines)")
        }
    }
}
