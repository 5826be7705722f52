import AsyncHTTPClient
import Foundation
import NIOCore
import Otter
import OtterExamples
import OtterOTLP
import Testing
import Tracing

/// `otter viewer` as a real process.
@Suite("otter viewer process", .serialized)
struct ViewerProcessTests {
    func startViewer(db: String, _ extra: [String] = []) async throws -> (ChildProcess, String, String) {
        try await ProcessHarness.startViewer(db: db, extra)
    }

    @Test func everyAcknowledgedSpanSurvivesKillDashNine() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-kill-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) } }
        let (viewer, ingestURL, _) = try await startViewer(db: db)
        let exporter = OTLPHTTPExporter(configuration: .init(endpoint: URL(string: ingestURL)!))
        let generator = RandomIDGenerator()
        var acknowledged: [TraceID] = []
        // Recent spans: the viewer prunes spans older than its retention (72 h) when it starts.
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        for batch in 0..<20 {
            let traceID = generator.newTraceID()
            let spans = (0..<50).map { index in
                FinishedSpan(
                    operationName: "span-\(batch)-\(index)", kind: .internal,
                    spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                    startTimeNanosecondsSinceEpoch: now - 1_000_000, endTimeNanosecondsSinceEpoch: now,
                    resource: Resource(attributes: ["service.name": "kill-test"]))
            }
            try await exporter.export(spans)  // returns only after the viewer answered 200
            acknowledged.append(traceID)
        }
        viewer.kill()
        await viewer.waitForExit()

        let (restarted, _, uiURL) = try await startViewer(db: db)
        defer { restarted.kill() }
        for traceID in acknowledged {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "\(uiURL)api/traces/\(traceID.hexString)"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 16 << 20)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
            let spans = ((json?["data"] as? [[String: Any]])?.first?["spans"] as? [Any]) ?? []
            #expect(response.status.code == 200)
            #expect(spans.count == 50, "trace \(traceID) lost spans after kill -9")
        }
        restarted.terminate()
        #expect(await restarted.waitForExit() == 0, "SIGTERM stops the viewer cleanly")
    }

    @Test func everyAcknowledgedLogRecordSurvivesKillDashNine() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-kill-logs-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) } }
        let (viewer, ingestURL, _) = try await startViewer(db: db)
        let logsURL = ingestURL.replacingOccurrences(of: "/v1/traces", with: "/v1/logs")
        let exporter = OTLPHTTPLogExporter(configuration: .init(endpoint: URL(string: logsURL)!))
        let generator = RandomIDGenerator()
        var acknowledged: [TraceID] = []
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        for batch in 0..<20 {
            let traceID = generator.newTraceID()
            let records = (0..<50).map { index in
                OtterLogRecord(
                    timeNanosecondsSinceEpoch: now - UInt64(index), severity: .info, body: .string("record \(batch)-\(index)"),
                    spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                    resource: Resource(attributes: ["service.name": "kill-test"]))
            }
            try await exporter.export(records)  // returns only after the viewer answered 200
            acknowledged.append(traceID)
        }
        viewer.kill()
        await viewer.waitForExit()

        let (restarted, _, uiURL) = try await startViewer(db: db)
        defer { restarted.kill() }
        for traceID in acknowledged {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "\(uiURL)api/otter/logs?traceID=\(traceID.hexString)&limit=1000"), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 16 << 20)
            let logs = try OTLPLogs(json: Data(buffer: body))
            #expect(response.status.code == 200)
            #expect(logs.recordCount == 50, "trace \(traceID) lost log records after kill -9")
        }
        restarted.terminate()
        #expect(await restarted.waitForExit() == 0)
    }

    /// `batch` spans of about 1 KB each, starting now, as an OTLP/HTTP protobuf body.
    static func body(batch: Int, spans: Int) -> [UInt8] {
        body(batch: batch, spans: spans, traceID: RandomIDGenerator().newTraceID())
    }

    static func body(batch: Int, spans: Int, traceID: TraceID) -> [UInt8] {
        let generator = RandomIDGenerator()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        return OTLPProtobufEncoder.encode(
            (0..<spans).map { index in
                FinishedSpan(
                    operationName: "span-\(batch)-\(index)", kind: .internal,
                    spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                    startTimeNanosecondsSinceEpoch: now - 1_000_000, endTimeNanosecondsSinceEpoch: now,
                    // Random text: compression cannot make the store smaller than the data.
                    attributes: ["payload": .string((0..<64).map { _ in String(generator.newSpanID().value, radix: 36) }.joined())],
                    resource: Resource(attributes: ["service.name": "size-test"]))
            })
    }

    static func post(_ body: [UInt8], to ingestURL: String) async throws -> Int {
        try await exchange(body, with: ingestURL).status
    }

    /// Posts an OTLP/HTTP protobuf body; the status and the `Retry-After` header of the answer.
    static func exchange(_ body: [UInt8], with ingestURL: String) async throws -> (status: Int, retryAfter: String?) {
        var request = HTTPClientRequest(url: ingestURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-protobuf")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        _ = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "retry-after"))
    }

    static func fileBytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { total, suffix in
            total + (((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int) ?? 0)
        }
    }

    /// --max-size bounds the files on disk (database and write-ahead log), checked every two seconds.
    @Test func maxSizeBoundsTheFilesOnDisk() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("otter-size-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".reserve"] { try? FileManager.default.removeItem(atPath: db + suffix) } }
        let (viewer, ingestURL, _) = try await startViewer(db: db, ["--max-size", "3MB"])
        for batch in 0..<40 {
            #expect(try await Self.post(Self.body(batch: batch, spans: 200), to: ingestURL) == 200)
        }
        // About 8 MB were sent; within a few passes the files are back under the bound (plus one page of slack).
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while Self.fileBytes(db) > 3 << 20, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(Self.fileBytes(db) <= 3 << 20, "database and WAL: \(Self.fileBytes(db)) bytes")
        viewer.terminate()
        #expect(await viewer.waitForExit() == 0)
    }

    /// A disk too small for what arrives never stops ingest (issue 27): before each write the viewer makes room (the
    /// oldest spans go, its reserve file and write-ahead log given back when the disk is short), so requests keep
    /// being stored with nobody's help; one it cannot place is answered 503 with Retry-After, which exporters retry.
    /// Before, the disk filled and every prune failed at COMMIT: 503 for good. Needs root to mount a small tmpfs; CI
    /// runs as root.
    /// A tmpfs of `megabytes` mounted for `body` (its path), unmounted after.
    static func withSmallDisk<T>(megabytes: Int, _ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-full-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory.path]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mount -t tmpfs failed")
        defer {
            let unmount = Process()
            unmount.executableURL = URL(fileURLWithPath: "/bin/umount")
            unmount.arguments = ["-l", directory.path]
            try? unmount.run()
            unmount.waitUntilExit()
            try? FileManager.default.removeItem(at: directory)
        }
        return try await body(directory)
    }

    /// `--max-size` as large as the disk: ingest keeps being stored, the rare refusal a 503 with Retry-After. Two
    /// connections send requests of 512 spans (32 traces of a root and 15 children, the same 16 bodies again and
    /// again). The release build stuck at 503 in this configuration (`scripts/full-disk.py` case 4) until the disk
    /// headroom covered a deletion's write-ahead log; this debug-build test did not reproduce that, and guards the
    /// configuration as CI can run it.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func ingestKeepsGoingWhenTheBoundIsTheWholeDisk() async throws {
        try await Self.withSmallDisk(megabytes: 16) { directory in
            let db = directory.appendingPathComponent("otter.sqlite").path
            let (viewer, ingestURL, _) = try await startViewer(db: db, ["--max-size", "16MB"])
            let bodies = (0..<16).map { Self.familyBody(seed: $0) }
            let answers = try await withThrowingTaskGroup(of: [(Int, String?)].self) { group in
                for connection in 0..<2 {
                    group.addTask {
                        var answers: [(Int, String?)] = []
                        for request in 0..<200 {
                            answers.append(try await Self.exchange(bodies[(request * 2 + connection) % 16], with: ingestURL))
                        }
                        return answers
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for connectionAnswers in answers {
                let refused = connectionAnswers.filter { $0.0 != 200 }
                #expect(refused.allSatisfy { $0.0 == 503 && $0.1 == "1" }, "\(refused.prefix(3))")
                #expect(refused.count < 40, "\(refused.count) of 200 refused")
                #expect(connectionAnswers.suffix(50).contains { $0.0 == 200 }, "the last 50 answers are all refusals: stuck")
            }
            viewer.terminate()
            #expect(await viewer.waitForExit() == 0)
        }
    }

    /// 512 spans: 16 traces of a root and 15 children, as `scripts/bench-forward.py` makes them.
    static func familyBody(seed: Int) -> [UInt8] {
        let generator = RandomIDGenerator()
        let now = DefaultTracerClock.now.nanosecondsSinceEpoch
        var spans: [FinishedSpan] = []
        for trace in 0..<32 {
            let traceID = generator.newTraceID()
            let root = OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled)
            for index in 0..<16 {
                spans.append(
                    FinishedSpan(
                        operationName: "operation-\(index % 8)", kind: index == 0 ? .server : .client,
                        spanContext: index == 0
                            ? root : OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
                        parentSpanContext: index == 0 ? nil : root, startTimeNanosecondsSinceEpoch: now - 1_000_000 + UInt64(index),
                        endTimeNanosecondsSinceEpoch: now + UInt64(trace),
                        attributes: ["http.route": .string("/orders/\(index)"), "seed": .int64(Int64(seed))],
                        resource: Resource(attributes: ["service.name": .string("bench-\(seed % 4)")])))
            }
        }
        return OTLPProtobufEncoder.encode(spans)
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func ingestKeepsGoingWhenTheDiskIsTooSmall() async throws {
        try await Self.withSmallDisk(megabytes: 8) { directory in
            let db = directory.appendingPathComponent("otter.sqlite").path
            let (viewer, ingestURL, uiURL) = try await startViewer(db: db)
            var storedBytes = 0
            var refused = 0
            var last = 0
            var acknowledged: [TraceID] = []
            for batch in 0..<250 {
                let traceID = RandomIDGenerator().newTraceID()
                let body = Self.body(batch: batch, spans: 100, traceID: traceID)
                let answer = try await Self.exchange(body, with: ingestURL)
                last = answer.status
                if last == 200 {
                    acknowledged.append(traceID)
                    storedBytes += body.count
                } else {
                    #expect(last == 503 && answer.retryAfter == "1", "\(last), Retry-After \(answer.retryAfter ?? "none")")
                    refused += 1
                }
            }
            #expect(storedBytes > 2 * (8 << 20), "more than twice the disk was stored (\(storedBytes) bytes, \(refused) refused)")
            #expect(refused < 25, "\(refused) of 250 requests refused")
            // Exporters retry 503s: so does this loop, until the viewer has made room (bounded: 60 s).
            var recovered = last == 200
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            var batch = 1_000
            while !recovered, ContinuousClock.now < deadline {
                recovered = try await Self.post(Self.body(batch: batch, spans: 100), to: ingestURL) == 200
                batch += 1
                if !recovered { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(recovered, "ingest still answers 503: \(viewer.lines.suffix(5))")
            // The store keeps what fits: the newest acknowledged traces are there (a bound larger than the disk once made
            // it delete everything it had acknowledged).
            for traceID in acknowledged.suffix(10) {
                let trace = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: "\(uiURL)api/traces/\(traceID.hexString)"), timeout: .seconds(30))
                #expect(trace.status.code == 200, "acknowledged trace \(traceID.hexString) is gone")
            }
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(uiURL)api/services"), timeout: .seconds(30))
            #expect(response.status.code == 200)
            viewer.terminate()
            #expect(await viewer.waitForExit() == 0)
        }
    }

    /// Start-up failures name what failed and how to fix it, and flags that cannot be used are refused at once.
    @Test func startupErrorsNameThePortFlagOrPath() async throws {
        let (first, _, uiURL) = try await startViewer(db: ":memory:")
        let port = try #require(URL(string: uiURL)?.port)
        let second = try ProcessHarness.otter(
            "viewer-2", ["viewer", "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", String(port), "--db", ":memory:"])
        #expect(await second.waitForExit() != 0)
        #expect(second.lines.contains { $0.contains("127.0.0.1:\(port)") && $0.contains("--ui-port") }, "\(second.lines)")
        first.terminate()
        await first.waitForExit()

        for (flag, value) in [
            ("--retention", "99999999999h"), ("--max-size", "1e30GB"), ("--max-size", "nanGB"), ("--max-size", "64KB"),
            ("--otlp-grpc-port", "65536"),
            ("--otlp-http-port", "99999"), ("--ui-port", "9223372036854775807"),
        ] {
            let refused = try ProcessHarness.otter("viewer-flag", ["viewer", "--db", ":memory:", flag, value])
            #expect(await refused.waitForExit() == 64, "\(flag) \(value)")
            #expect(refused.lines.contains { $0.contains(flag) }, "\(refused.lines)")
        }
        // One viewer per store: a second one on the same --db is refused, naming it.
        let shared = FileManager.default.temporaryDirectory.appendingPathComponent("otter-shared-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".lock", ".reserve"] { try? FileManager.default.removeItem(atPath: shared + suffix) } }
        let (owner, _, _) = try await startViewer(db: shared)
        let intruder = try ProcessHarness.otter(
            "viewer-3", ["viewer", "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", "0", "--db", shared])
        #expect(await intruder.waitForExit() == 64)
        #expect(intruder.lines.contains { $0.contains("another otter viewer") && $0.contains(shared) }, "\(intruder.lines)")
        owner.terminate()
        await owner.waitForExit()
        let unwritable = try ProcessHarness.otter("viewer-db", ["viewer", "--db", "/proc/otter/nope.sqlite"])
        #expect(await unwritable.waitForExit() != 0)
        #expect(unwritable.lines.contains { $0.contains("/proc/otter/nope.sqlite") && $0.contains("--db") }, "\(unwritable.lines)")
    }
}
