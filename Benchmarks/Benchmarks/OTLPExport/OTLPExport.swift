import Benchmark
import Foundation
import Otter
import OtterOTLP
import OtterTestSupport
import OtterViewer
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
        Benchmark(name, configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 2_000)) { benchmark in
            let port: Int
            let stop: () async -> Void
            if transport == .grpc {
                let receiver = TestOTLPGRPCReceiver()
                port = try await receiver.start()
                stop = { await receiver.stop() }
            } else {
                let receiver = TestOTLPReceiver()
                port = try await receiver.start()
                stop = { await receiver.stop() }
            }
            let endpoint = transport == .grpc ? "http://127.0.0.1:\(port)" : "http://127.0.0.1:\(port)/v1/traces"
            let exporter = try OTLPExporters.make(configuration: .init(endpoint: URL(string: endpoint)!, transportProtocol: transport))
            let processor = BatchSpanProcessor(
                exporter: exporter, configuration: .init(maximumQueueSize: 8192, scheduleDelay: .milliseconds(5), maximumExportBatchSize: 512))
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

    /// A store holding 200 batches of 512 typical spans (102,400 spans), each batch under its own trace id prefix.
    func storeWith100kSpans() async throws -> (SQLiteTraceStore, String) {
        let (store, path) = try temporaryStore()
        for round in 0..<200 {
            var spans = batch
            for index in spans.indices { spans[index].spanContext.traceID.high = UInt64(round + 1) }
            try await store.write(spans)
        }
        return (store, path)
    }

    func removeStore(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    Benchmark(
        "viewer/ingest into SQLite (batch of 512)",
        configuration: .init(
            metrics: [.wallClock, .throughput, .custom("bytes per span on disk", useScalingFactor: false)], scalingFactor: .one,
            maxDuration: .seconds(5), maxIterations: 400)
    ) { benchmark in
        let (store, path) = try temporaryStore()
        var written = 0
        var batchIndex: UInt64 = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var spans = batch
            batchIndex += 1
            for index in spans.indices { spans[index].spanContext.traceID.high = batchIndex }
            try await store.write(spans)
            written += spans.count
        }
        benchmark.stopMeasurement()
        benchmark.measurement(.custom("bytes per span on disk", useScalingFactor: false), try await store.sizeInBytes() / max(written, 1))
        removeStore(path)
    }

    Benchmark(
        "viewer/trace by id (100k spans stored)",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 100_000)
    ) { benchmark in
        let (store, path) = try await storeWith100kSpans()
        let target = batch[100].spanContext.traceID
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var traceID = target
            traceID.high = 150
            blackHole(try await store.trace(traceID))
        }
        benchmark.stopMeasurement()
        removeStore(path)
    }

    Benchmark(
        "viewer/search by attribute (100k spans stored)",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 100_000)
    ) { benchmark in
        let (store, path) = try await storeWith100kSpans()
        let query = TraceQuery(service: "bench", tags: [("url.path", "/orders/77")], limit: 20)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await store.findTraceIDs(query))
        }
        benchmark.stopMeasurement()
        removeStore(path)
    }
}
