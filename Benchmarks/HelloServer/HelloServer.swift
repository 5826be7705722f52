import Foundation
import Hummingbird
import Logging
import OTel
import Otter
import OtterOTLP
import ServiceLifecycle
import Tracing

/// Hummingbird's hello world, for the wrk runs of scripts/wrk.sh:
///
///     HelloServer PORT [untraced|noop|otter|swift-otel]
///
/// `untraced` serves `GET /` bare; `noop` adds Hummingbird's TracingMiddleware with nothing bootstrapped (the
/// NoOpTracer: what the middleware costs with no SDK, the floor any SDK adds to); `otter` and `swift-otel` add Hummingbird's TracingMiddleware (one SERVER span per
/// request, every request sampled) with that SDK exporting OTLP/HTTP protobuf to `OTEL_EXPORTER_OTLP_ENDPOINT` with
/// its default batch settings. On SIGTERM the server shuts down gracefully, the SDK exports what it queued, and
/// Otter prints `spans: queued=Q dropped=D exported=E` to stderr.
@main
struct HelloServer {
    /// A synchronous main that waits for a task, so the server also runs under valgrind (3.19 crashes when a thread
    /// starts while the main thread waits in `dispatch_main`, which is where an `async` main waits).
    static func main() {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                try await serve()
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                exit(1)
            }
            done.signal()
        }
        done.wait()
    }

    static func serve() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let port = Int(arguments[1]) else {
            FileHandle.standardError.write(Data("usage: HelloServer PORT [untraced|noop|otter|swift-otel]\n".utf8))
            exit(2)
        }
        let mode = arguments.count > 2 ? arguments[2] : "untraced"
        var logger = Logger(label: "hello")
        logger.logLevel = .error
        let router = Router()
        var services: [any Service] = []
        var otter: OtterService?
        switch mode {
        case "otter":
            let service = try Otter.bootstrap(
                .init(serviceName: "hello", defaultExporters: [.otlp], exporterFactory: Otter.otlpExporterFactory, logger: logger))
            otter = service
            services.append(service)
            router.add(middleware: TracingMiddleware())
        case "swift-otel":
            var configuration = OTel.Configuration.default
            configuration.serviceName = "hello"
            configuration.logs.enabled = false
            configuration.metrics.enabled = false
            configuration.traces.otlpExporter.protocol = .httpProtobuf
            configuration.diagnosticLogLevel = .error
            services.append(try OTel.bootstrap(configuration: configuration))
            router.add(middleware: TracingMiddleware())
        case "noop":
            // The floor: the same middleware with swift-distributed-tracing's default NoOpTracer (nothing bootstrapped).
            router.add(middleware: TracingMiddleware())
        default:
            break
        }
        router.get("/") { _, _ in "Hello, world!" }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hello"),
            services: services, logger: logger)
        try await app.runService()
        if let batch = otter?.tracer.processor as? BatchSpanProcessor {
            FileHandle.standardError.write(
                Data(
                    "spans: queued=\(batch.queuedSpanCount) dropped=\(batch.droppedSpanCount) exported=\(batch.processedSpanCount)\n"
                        .utf8))
        }
    }
}
