import Foundation
import Hummingbird
import Logging
import Otter
import OtterOTLP
import ServiceLifecycle
import Tracing

/// Hummingbird's hello world, for the wrk run of scripts/wrk.sh: `HelloServer PORT` serves `GET /` untraced;
/// `HelloServer PORT traced` adds Hummingbird's TracingMiddleware with Otter exporting over OTLP (endpoint from
/// `OTEL_EXPORTER_OTLP_ENDPOINT`), every request sampled.
@main
struct HelloServer {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let port = Int(arguments[1]) else {
            FileHandle.standardError.write(Data("usage: HelloServer PORT [traced]\n".utf8))
            exit(2)
        }
        var logger = Logger(label: "hello")
        logger.logLevel = .error
        let router = Router()
        var services: [any Service] = []
        if arguments.count > 2, arguments[2] == "traced" {
            let otter = try Otter.bootstrap(
                serviceName: "hello", defaultExporters: [.otlp], exporterFactory: Otter.otlpExporterFactory, logger: logger)
            router.add(middleware: TracingMiddleware())
            services.append(otter)
        }
        router.get("/") { _, _ in "Hello, world!" }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hello"),
            services: services, logger: logger)
        try await app.runService()
    }
}
