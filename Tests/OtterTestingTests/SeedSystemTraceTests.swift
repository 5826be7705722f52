import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import OtterExamples
import OtterTesting
import ServiceLifecycle
import Testing
import Tracing

/// The seed system's traces, asserted with OtterTesting: the server, its client and the order example run in this
/// process on 127.0.0.1, each test with its own tracer.
@Suite("the seed system's traces")
struct SeedSystemTraceTests {
    /// Runs `http-server` on a free port for the duration of `body`, reporting through the test's tracer.
    func withServer<Result: Sendable>(
        _ body: @Sendable (_ baseURL: String, _ httpClient: HTTPClient) async throws -> Result
    ) async throws -> Result {
        let httpClient = makeTracedHTTPClient()  // inside the test's scope: captures the test's tracer
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "http-server")
        logger.logLevel = .critical
        let app = HTTPServerExample.makeApplication(
            configuration: .init(host: "127.0.0.1", port: 0), httpClient: httpClient, logger: logger
        ) { port in portContinuation.yield(port) }
        let group = ServiceGroup(services: [app], logger: logger)
        do {
            let result = try await withThrowingTaskGroup(of: Result?.self) { tasks in
                tasks.addTask {
                    try await group.run()
                    return nil
                }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else { throw CancellationError() }
                let result = try await body("http://127.0.0.1:\(port)", httpClient)
                await group.triggerGracefulShutdown()
                for try await _ in tasks {}
                return result
            }
            try await httpClient.shutdown()
            return result
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
    }

    /// The declined payment: an error record inside `authorize payment`, carrying the error, and nothing logged after it.
    @Test(.traced(serviceName: "order-example"))
    func aDeclinedPaymentIsLoggedAsAnErrorInsideItsSpan() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-order-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = try TestTracer.current.makeLogger(label: "order-example")
        await #expect(throws: OrderExample.PaymentDeclined.self) {
            try await OrderExample.placeOrder(
                configuration: .init(serverURL: "http://127.0.0.1:9/", dataDirectory: directory, failPayment: true),
                httpClient: HTTPClient.shared, logger: logger)
        }
        let trace = try await TestTracer.current.trace()
        let payment = try #require(trace.span("authorize payment"))
        #expect(payment.logs.atLeast(.error).messages == ["payment declined"])
        #expect(payment.logs.first?.attributes["exception.message"]?.text.contains("declined") == true)
        #expect(trace.logs.messages == ["order validated", "order saved", "payment declined"])
    }

    /// The first seed: the client's GET, the server's SERVER span, `parent` inside it and the outgoing CLIENT
    /// span, one trace across the `traceparent` hop.
    @Test(.traced(serviceName: "http-server"))
    func getRootIsOneTraceThroughTheServer() async throws {
        try await withServer { baseURL, httpClient in
            let response = try await httpClient.execute(HTTPClientRequest(url: baseURL + "/"), timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            #expect(response.status == .ok)
        }
        let trace = try await TestTracer.current.trace()
        #expect(trace.traceIDs.count == 1)
        // The seed names a server span after its route, as opentelemetry-python's server does: `/`.
        let server = try #require(trace.span("/"))
        #expect(server.kind == .server)
        #expect(server.hasRemoteParent)
        #expect(server.parent?.kind == .client)
        #expect(server.parent?.parent == nil)
        #expect(trace.span("parent")?.parent?.name == "/")
        #expect(trace.span("parent")?.kind == .internal)
        let outgoing = try #require(trace.span("parent")?.children.first)
        #expect(outgoing.kind == .client)
        #expect(outgoing.attribute("http.request.method") == "GET")
        #expect(outgoing.children.map(\.name) == ["/wiki/Rabbit"])
        #expect(trace.span("parent")?.attribute("downstream.response.size") == .int64(Int64(HTTPServerExample.rabbitPage.utf8.count)))
        #expect(trace.errors.isEmpty)
        #expect(trace.count == 5)
    }

    /// The second seed's order trace, against its golden file `GoldenTraces/order.trace`.
    @Test(.traced(serviceName: "order-example"))
    func theOrderTraceMatchesItsGoldenFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-order-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let orderID = try await withServer { baseURL, httpClient in
            try await OrderExample.placeOrder(
                configuration: .init(serverURL: baseURL + "/", dataDirectory: directory), httpClient: httpClient,
                logger: try TestTracer.current.makeLogger(label: "order-example"))
        }
        let trace = try await TestTracer.current.trace()
        #expect(trace.span("order")?.attribute("order.id") == .string(orderID))
        #expect(trace.span("order")?.eventNames == ["order.validated", "payment.authorized", "order.completed"])
        #expect(trace.span("send email confirmation") == nil)
        #expect(trace.span("send confirmation email")?.kind == .producer)
        #expect(trace.span("authorize payment")?.logs.messages == ["payment authorized"])
        #expect(trace.logs.allSatisfy { $0.spanContext?.traceID == trace.traceIDs.first }, "every step is logged inside the order's trace")
        trace.expectMatchesGolden(
            "order",
            options: GoldenTraceOptions(
                redactedAttributes: [
                    "db.namespace", "email.file", "server.port", "net.sock.peer.port", "client.port",
                    "network.peer.port", "net.sock.peer.addr", "network.peer.address",
                ],
                replacements: [
                    .text(orderID, with: "<order id>"), .matches(of: "127\\.0\\.0\\.1:[0-9]+", with: "127.0.0.1:<port>"),
                ]))
    }
}
