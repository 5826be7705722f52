import Foundation
import Logging
import Otter
import OtterOTLP

/// Telemetry setup shared by the examples: Otter bootstrapped for a service, spans and swift-log records on the
/// console unless the environment (`EXPORTER`, `OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER`, ...) says otherwise;
/// when log records do not go to the console, log lines still go to standard error (never both: each line once).
package enum ExampleTelemetry {
    /// Bootstraps Otter as the process's tracer. On a configuration error, prints it and exits with status 2,
    /// so a wrong `EXPORTER` never falls back silently.
    package static func bootstrap(serviceName: String) -> OtterService {
        do {
            let environment = ProcessInfo.processInfo.environment
            let logsOnConsole = try OtterConfiguration.fromEnvironment(environment, defaultExporters: [.console]).logExporters.contains(
                .console)
            return try Otter.bootstrap(
                .init(
                    serviceName: serviceName, environment: environment, defaultExporters: [.console],
                    exporterFactory: Otter.otlpExporterFactory, logExporterFactory: Otter.otlpLogExporterFactory),
                alsoLogTo: logsOnConsole ? nil : StreamLogHandler.standardError)
        } catch {
            FileHandle.standardError.write(Data("\(serviceName): \(error)\n".utf8))
            exit(2)
        }
    }
}

/// Writes one line to standard output unbuffered, so it interleaves correctly with console spans (which are
/// written unbuffered too) and reaches a pipe at once.
package func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
