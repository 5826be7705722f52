import ArgumentParser
import Foundation
import Otter

/// `http-server`: the example instrumented server.
package struct HTTPServerCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "http-server", abstract: "Run the example instrumented HTTP server (service http-server).")

    @Option(help: "Port to listen on (0 picks a free one). Default: $PORT or 8082.")
    var port: Int?

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "URL that GET / fetches. Default: $DOWNSTREAM_URL or this server's /wiki/Rabbit.")
    var downstreamURL: String?

    package init() {}

    package func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let port =
            try self.port ?? environment["PORT"].map { value in
                guard let port = Int(value) else { throw ValidationError("PORT=\(value) is not a port number") }
                return port
            } ?? 8082
        guard (0...65535).contains(port) else {
            throw ValidationError("--port \(port) is not a port number (0 to 65535; 0 picks a free one)")
        }
        let otter = ExampleTelemetry.bootstrap(serviceName: "http-server")
        try await HTTPServerExample.run(
            configuration: .init(host: host, port: port, downstreamURL: downstreamURL ?? environment["DOWNSTREAM_URL"]),
            otter: otter)
    }
}

/// `http-client`: the example instrumented client.
package struct HTTPClientCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "http-client", abstract: "GET the server once with tracing (service http-client).")

    @Option(help: "URL to GET. Default: $SERVER_URL or \(HTTPClientExample.defaultServerURL).")
    var url: String?

    package init() {}

    package func run() async throws {
        let url = url ?? ProcessInfo.processInfo.environment["SERVER_URL"] ?? HTTPClientExample.defaultServerURL
        let otter = ExampleTelemetry.bootstrap(serviceName: "http-client")
        guard await HTTPClientExample.run(url: url, otter: otter) else { throw ExitCode.failure }
    }
}

/// `order-example`: the example order trace with events.
package struct OrderCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "order-example", abstract: "Place one order: a trace with several spans and events (service order-example).")

    @Option(help: "The http-server to load the confirmation page from. Default: $SERVER_URL or \(HTTPClientExample.defaultServerURL).")
    var serverURL: String?

    @Option(help: "Directory for orders.sqlite and the outbox. Default: the current directory.")
    var dataDir: String?

    @Flag(help: "Decline the payment, to show the error path.")
    var fail = false

    package init() {}

    package func run() async throws {
        let serverURL = serverURL ?? ProcessInfo.processInfo.environment["SERVER_URL"] ?? HTTPClientExample.defaultServerURL
        let directory = URL(fileURLWithPath: dataDir ?? FileManager.default.currentDirectoryPath)
        let otter = ExampleTelemetry.bootstrap(serviceName: "order-example")
        let succeeded = await OrderExample.run(
            configuration: .init(serverURL: serverURL, dataDirectory: directory, failPayment: fail), otter: otter)
        guard succeeded else { throw ExitCode.failure }
    }
}
