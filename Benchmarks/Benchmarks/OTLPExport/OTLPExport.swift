import Benchmark
import Foundation
import Logging
import Otter
@_spi(Benchmarks) import OtterOTLP
import OtterViewer
import ServiceLifecycle
import Synchronization
import Tracing

/// A typical HTTP server span: 6 attributes, a remote parent, the resource of a real process.
func typicalHTTPSpans(_ count: Int) -> [FinishedSpan] {
    let generator = RandomIDGenerator(seed: 1)
    let resource = Resource.detectingProcess().merging(Resource(attributes: ["service.name": "bench"]))
    return (0..<count).map { index in
        let traceID = generator.newTraceID()
        return FinishedSpan(
            operationName: "GET /orders/{id}", kind: .server,
            spanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled),
            parentSpanContext: OtterSpanContext(traceID: traceID, spanID: generator.newSpanID(), traceFlags: .sampled, isRemote: true),
            startTimeNanosecondsSinceEpoch: 1_700_000_000_000_000_000 + UInt64(index) * 1000,
            endTimeNanosecondsSinceEpoch: 1_700_000_000_000_500_000 + UInt64(index) * 1000,
            attributes: [
                "http.request.method": "GET", "url.path": "/orders/\(index)", "http.route": "/orders/{id}",
                "http.response.status_code": 200, "server.address": "127.0.0.1", "server.port": 8082,
            ],
            resource: resource)
    }
}

let benchmarks: @Sendable () -> Void = {
    let batch = typicalHTTPSpans(512)
    let perSpan = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput, .custom("bytes per span", useScalingFactor: false)],
        scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 10_000)

    /// Encodes the batch with the OTLP/HTTP exporter's encoding for `transport`; reports bytes per span too.
    func encodingBenchmark(_ name: String, transport: OTLPExporterConfiguration.TransportProtocol) {
        Benchmark(name, configuration: perSpan) { benchmark in
            let exporter = OTLPHTTPExporter(
                configuration: .init(endpoint: URL(string: "http://127.0.0.1:1/v1/traces")!, transportProtocol: transport))
            var size = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let bytes = try exporter.encode(batch)
                size = bytes.count
                blackHole(bytes)
            }
            benchmark.stopMeasurement()
            benchmark.measurement(.custom("bytes per span", useScalingFactor: false), size / batch.count)
        }
    }
    encodingBenchmark("otlp/encode/protobuf (batch of 512)", transport: .httpProtobuf)
    encodingBenchmark("otlp/encode/json (batch of 512)", transport: .httpJSON)

    /// Spans per second from `span.end()` through a BatchSpanProcessor and an exporter into a real receiver on
    /// loopback: each iteration ends 512 spans; the measurement ends when the receiver has them all.
    func pipelineBenchmark(_ name: String, transport: OTLPExporterConfiguration.TransportProtocol) {
        Benchmark(
            name,
            configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 2_000)
        ) { benchmark in
            // The viewer's receivers, storing nothing: what is measured is the exporter and the receiver's decoding.
            let (port, stop) = try await startDiscardingViewer(transport: transport)
            let endpoint = transport == .grpc ? "http://127.0.0.1:\(port)" : "http://127.0.0.1:\(port)/v1/traces"
            let exporter = try OTLPExporters.make(configuration: .init(endpoint: URL(string: endpoint)!, transportProtocol: transport))
            let processor = BatchSpanProcessor(
                exporter: exporter,
                configuration: .init(maximumQueueSize: 8192, scheduleDelay: .milliseconds(5), maximumExportBatchSize: 512))
            let worker = Task { await processor.run() }
            let tracer = OtterTracer(processor: processor)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for _ in 0..<512 {
                    let span = tracer.startSpan("GET /orders/{id}", context: .topLevel, ofKind: .server)
                    span.attributes["http.request.method"] = "GET"
                    span.attributes["http.response.status_code"] = 200
                    span.end()
                }
                await processor.forceFlush(timeout: .seconds(30))
            }
            benchmark.stopMeasurement()
            if processor.droppedSpanCount > 0 { print("\(name): \(processor.droppedSpanCount) spans dropped") }
            await processor.shutdown(timeout: .seconds(10))
            worker.cancel()
            await stop()
        }
    }
    pipelineBenchmark("otlp/pipeline/http-protobuf (512 spans per iteration)", transport: .httpProtobuf)
    pipelineBenchmark("otlp/pipeline/http-json (512 spans per iteration)", transport: .httpJSON)
    pipelineBenchmark("otlp/pipeline/grpc (512 spans per iteration)", transport: .grpc)

    // MARK: Viewer

    /// A fresh SQLite store in a temporary directory.
    func temporaryStore() throws -> (SQLiteTraceStore, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("otter-bench-\(UUID()).sqlite").path
        return (try SQLiteTraceStore(path: path), path)
    }

    func fileBytes(_ path: String) -> Int {
        ["", "-wal"].reduce(0) { total, suffix in
            total + (((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int) ?? 0)
        }
    }

    func removeStore(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Batches as the viewer receives them: OTLP protobuf bodies.
    let receivedBatches = (0..<64).map { index in try! OTLPTraces(ViewerDataSet.batch(index)).protobuf() }

    Benchmark(
        "viewer/ingest into SQLite: decode, validate, store (batch of 512)",
        configuration: .init(
            metrics: [.wallClock, .throughput, .custom("bytes per span on disk", useScalingFactor: false)], scalingFactor: .one,
            maxDuration: .seconds(5), maxIterations: 400)
    ) { benchmark in
        let (store, path) = try temporaryStore()
        var written = 0
        var batchIndex = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let traces = try OTLPTraces(protobuf: receivedBatches[batchIndex % receivedBatches.count])
            batchIndex += 1
            try await store.write(traces)
            written += traces.spanCount
        }
        benchmark.stopMeasurement()
        benchmark.measurement(.custom("bytes per span on disk", useScalingFactor: false), fileBytes(path) / max(written, 1))
        removeStore(path)
    }

    // The same requests taken the way ingest worked before spans were stored as received: decoded into the SDK's
    // model (`FinishedSpan`), then encoded again from it. Same run, so the two figures compare.
    Benchmark(
        "viewer/ingest into SQLite via FinishedSpan: decode, convert, re-encode, store (batch of 512)",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 400)
    ) { benchmark in
        let (store, path) = try temporaryStore()
        var batchIndex = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let spans = try OTLPTraces(protobuf: receivedBatches[batchIndex % receivedBatches.count]).spans
            batchIndex += 1
            try await store.write(spans)
        }
        benchmark.stopMeasurement()
        removeStore(path)
    }

    // The two halves of ingest that storing the received bytes as they are would change: decoding the request, and
    // encoding the spans again into the stored block.
    Benchmark("viewer/ingest stage: decode a request (batch of 512)", configuration: perSpan) { benchmark in
        var batchIndex = 0
        for _ in benchmark.scaledIterations {
            blackHole(try OTLPTraces(protobuf: receivedBatches[batchIndex % receivedBatches.count]))
            batchIndex += 1
        }
    }

    Benchmark("viewer/ingest stage: encode the spans again (batch of 512)", configuration: perSpan) { benchmark in
        let decoded = try receivedBatches.map { try OTLPTraces(protobuf: $0) }
        var batchIndex = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try decoded[batchIndex % decoded.count].protobuf())
            batchIndex += 1
        }
        benchmark.stopMeasurement()
    }

    /// Queries against one store of ViewerDataSet.spanCount spans (built once, before the first of them).
    let queryConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 2_000)
    let storedLabel = "\(ViewerDataSet.spanCount / 1000)k spans stored"

    Benchmark(
        "viewer/ingest into SQLite with \(storedLabel) (batch of 512)",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 400)
    ) { benchmark in
        let store = try await ViewerDataSet.shared.store()
        for _ in benchmark.scaledIterations {
            // New traces, after the stored ones (never the same twice, across samples): not in the store yet.
            let batchIndex = ViewerDataSet.traceCount / 128 + ViewerDataSet.appendedBatches.add(1, ordering: .relaxed).oldValue
            try await store.write(ViewerDataSet.batch(batchIndex, wrapping: false))
        }
    }

    Benchmark("viewer/trace by id (\(storedLabel))", configuration: queryConfiguration) { benchmark in
        let store = try await ViewerDataSet.shared.store()
        var trace = 0
        for _ in benchmark.scaledIterations {
            trace = (trace + 7919) % ViewerDataSet.traceCount
            let spans = try await store.trace(ViewerDataSet.traceID(trace))
            precondition(spans.count == ViewerDataSet.spansPerTrace)
            blackHole(spans)
        }
    }

    Benchmark("viewer/search service, 20 traces (\(storedLabel))", configuration: queryConfiguration) { benchmark in
        let store = try await ViewerDataSet.shared.store()
        for _ in benchmark.scaledIterations {
            let found = try await store.findTraceIDs(TraceQuery(service: "frontend", limit: 20))
            precondition(found.count == 20)
            blackHole(found)
        }
    }

    Benchmark("viewer/search by unique attribute (\(storedLabel))", configuration: queryConfiguration) { benchmark in
        let store = try await ViewerDataSet.shared.store()
        var trace = 0
        for _ in benchmark.scaledIterations {
            trace = (trace + 7919) % ViewerDataSet.traceCount
            let found = try await store.findTraceIDs(TraceQuery(service: "backend", tags: [("url.path", "/orders/\(trace)")], limit: 20))
            precondition(found == [ViewerDataSet.traceID(trace)])
        }
    }

    Benchmark("viewer/search by attribute on 1 trace in 1000, 20 traces (\(storedLabel))", configuration: queryConfiguration) { benchmark in
        let store = try await ViewerDataSet.shared.store()
        var customer = 0
        for _ in benchmark.scaledIterations {
            customer = (customer + 1) % 1000
            let found = try await store.findTraceIDs(TraceQuery(service: "frontend", tags: [("customer.id", "c\(customer)")], limit: 20))
            precondition(found.count == 20)
        }
    }

    Benchmark(
        "viewer/span metrics: calls, errors and p95 per operation, an hour a point a minute (\(storedLabel))",
        configuration: queryConfiguration
    ) { benchmark in
        let store = try await ViewerDataSet.shared.store()
        // Every stored span is in the hour before the last one: the query reads the rows of the whole data set.
        var query = SpanMetrics.Query(
            services: ["frontend", "backend"], endNanoseconds: ViewerDataSet.baseNanoseconds + UInt64(ViewerDataSet.traceCount) * 1_000_000)
        query.groupByOperation = true
        for _ in benchmark.scaledIterations {
            let rows = try await store.operationMinutes(services: query.services, kinds: query.kinds, minutes: query.minutes)
            let calls = SpanMetrics.series(.calls, query: query, rows: rows)
            let errors = SpanMetrics.series(.errors, query: query, rows: rows)
            let latencies = SpanMetrics.series(.latencies(quantile: 0.95), query: query, rows: rows)
            precondition(calls.count == 2 && calls.allSatisfy { $0.points.count == 61 })
            blackHole((calls, errors, latencies))
        }
    }

    Benchmark("viewer/trace summaries of 20 traces (\(storedLabel))", configuration: queryConfiguration) { benchmark in
        let store = try await ViewerDataSet.shared.store()
        var first = 0
        for _ in benchmark.scaledIterations {
            first = (first + 7919) % (ViewerDataSet.traceCount - 20)
            let summaries = try await store.summaries((first..<first + 20).map(ViewerDataSet.traceID))
            precondition(summaries.count == 20)
        }
    }
}

/// The viewer's benchmark data: traces of 4 spans across two services (frontend server → internal → client →
/// backend server), with HTTP attributes, written in batches of 512 as an exporter sends them. The size is
/// `OTTER_BENCH_VIEWER_SPANS` (default 1,048,576).
actor ViewerDataSet {
    static let shared = ViewerDataSet()
    /// Batches appended by the ingest benchmark so far in this process.
    static let appendedBatches = Atomic<Int>(0)
    static let spansPerTrace = 4
    static let spanCount = ProcessInfo.processInfo.environment["OTTER_BENCH_VIEWER_SPANS"].flatMap(Int.init) ?? 1_048_576
    static var traceCount: Int { spanCount / spansPerTrace }
    static let baseNanoseconds: UInt64 = 1_700_000_000_000_000_000
    static let frontend = Resource.detectingProcess().merging(Resource(attributes: ["service.name": "frontend"]))
    static let backend = Resource.detectingProcess().merging(Resource(attributes: ["service.name": "backend"]))

    static func traceID(_ trace: Int) -> TraceID {
        TraceID(high: 0x5EED_0000_0000_0000 | UInt64(trace), low: UInt64(trace) &* 0x9E37_79B9_7F4A_7C15)
    }

    static func spanID(_ trace: Int, _ index: Int) -> SpanID {
        SpanID((UInt64(trace) &* 0xBF58_476D_1CE4_E5B9) ^ UInt64(index + 1))
    }

    static func trace(_ trace: Int) -> [FinishedSpan] {
        let traceID = traceID(trace)
        let start = baseNanoseconds + UInt64(trace) * 1_000_000
        func context(_ index: Int) -> OtterSpanContext {
            OtterSpanContext(traceID: traceID, spanID: spanID(trace, index), traceFlags: .sampled)
        }
        var serverAttributes: SpanAttributes = [
            "http.request.method": "GET", "url.path": .string("/orders/\(trace)"), "http.route": "/orders/{id}",
            "http.response.status_code": 200, "server.address": "127.0.0.1", "server.port": 8080,
            "customer.id": .string("c\(trace % 1000)"),
        ]
        var backendAttributes = serverAttributes
        backendAttributes["server.port"] = SpanAttribute.int64(8081)
        serverAttributes["server.port"] = SpanAttribute.int64(8080)
        return [
            FinishedSpan(
                operationName: "GET /orders/{id}", kind: .server, spanContext: context(0),
                startTimeNanosecondsSinceEpoch: start, endTimeNanosecondsSinceEpoch: start + 900_000 + UInt64(trace % 100) * 1000,
                attributes: serverAttributes, resource: frontend),
            FinishedSpan(
                operationName: "load order", kind: .internal, spanContext: context(1), parentSpanContext: context(0),
                startTimeNanosecondsSinceEpoch: start + 10_000, endTimeNanosecondsSinceEpoch: start + 800_000,
                attributes: ["order.id": .string("o\(trace)")], resource: frontend),
            FinishedSpan(
                operationName: "GET", kind: .client, spanContext: context(2), parentSpanContext: context(1),
                startTimeNanosecondsSinceEpoch: start + 20_000, endTimeNanosecondsSinceEpoch: start + 700_000,
                attributes: [
                    "http.request.method": "GET", "url.full": .string("http://127.0.0.1:8081/orders/\(trace)"),
                    "http.response.status_code": 200, "server.address": "127.0.0.1", "server.port": 8081,
                ],
                resource: frontend),
            FinishedSpan(
                operationName: "GET /orders/{id}", kind: .server, spanContext: context(3), parentSpanContext: context(2),
                startTimeNanosecondsSinceEpoch: start + 30_000, endTimeNanosecondsSinceEpoch: start + 650_000,
                attributes: backendAttributes, resource: backend),
        ]
    }

    /// Batch `index`: 128 whole traces, each service's spans together as its exporter would send them.
    static func batch(_ index: Int, wrapping: Bool = true) -> [FinishedSpan] {
        let traces = (index * 128..<(index + 1) * 128).map { trace(wrapping ? $0 % max(traceCount, 1) : $0) }
        return traces.flatMap { $0.prefix(3) } + traces.map { $0[3] }
    }

    private var built: SQLiteTraceStore?

    /// package-benchmark runs each benchmark in its own process: the store is built by the first one and
    /// reopened by the others (a marker file says it is complete). scripts/bench.sh deletes it before a run.
    func store() async throws -> SQLiteTraceStore {
        if let built { return built }
        let directory = FileManager.default.temporaryDirectory
        let path = directory.appendingPathComponent("otter-bench-viewer-\(Self.spanCount).sqlite").path
        let marker = path + ".complete"
        if FileManager.default.fileExists(atPath: marker) {
            let store = try SQLiteTraceStore(path: path)
            built = store
            return store
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store = try SQLiteTraceStore(path: path)
        for index in 0..<Self.traceCount / 128 { try await store.write(Self.batch(index)) }
        FileManager.default.createFile(atPath: marker, contents: Data("complete\n".utf8))
        built = store
        return store
    }
}

/// A store that keeps nothing: the pipeline benchmarks' receiver is the viewer, minus storage.
struct DiscardingStore: TraceStore {
    func write(_ traces: OTLPTraces) async throws -> [String] { [] }
    func traces(_ traceIDs: [TraceID]) async throws -> OTLPTraces { OTLPTraces() }
    func services() async throws -> [String] { [] }
    func operations(service: String) async throws -> [(name: String, kind: SpanKindName)] { [] }
    func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID] { [] }
    func summaries(_ traceIDs: [TraceID]) async throws -> [TraceSummary] { [] }
    func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency] { [] }
    func operationMinutes(services: [String], kinds: Set<SpanKindName>, minutes: ClosedRange<UInt64>) async throws -> [OperationMinute] {
        []
    }
}

/// Starts a viewer on free loopback ports over a ``DiscardingStore``; returns the port for `transport` and how to stop.
func startDiscardingViewer(transport: OTLPExporterConfiguration.TransportProtocol) async throws -> (Int, () async -> Void) {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    let viewer = try Viewer(configuration: .init(otlpGRPCPort: 0, otlpHTTPPort: 0, queryPort: 0), store: DiscardingStore())
    let (ports, continuation) = AsyncStream.makeStream(of: (String, Int).self)
    let group = ServiceGroup(services: viewer.makeServices(logger: logger) { continuation.yield(($0, $1)) }, logger: logger)
    let task = Task { try await group.run() }
    var found: [String: Int] = [:]
    for await (name, port) in ports {
        found[name] = port
        if found.count == 3 { break }
    }
    let port = found[transport == .grpc ? "otlp-grpc" : "otlp-http"] ?? 0
    return (
        port,
        {
            await group.triggerGracefulShutdown()
            _ = await task.result
        }
    )
}
