import Foundation
import Otter
import OtterExamples
import OtterOTLP
import OtterTestSupport
import OtterViewer
import SwiftProtobuf
import Testing

/// The seed's system as real processes on 127.0.0.1: spans are read back from each process's console output.
@Suite("Seed system end to end", .serialized)
struct SeedSystemEndToEndTests {
    @Test func clientAndServerShareOneTraceWithTheExactParentChain() async throws {
        let (server, url) = try await ProcessHarness.startServer()
        let client = try ProcessHarness.otter("http-client", ["http-client", "--url", url + "/"])
        #expect(await client.waitForExit() == 0, "\(client.lines)")
        let (serverStatus, serverSpans) = await ProcessHarness.stop(server)
        #expect(serverStatus == 0, "the server stops cleanly on SIGTERM")
        let clientSpans = ProcessHarness.spans(of: client)

        let clientSpan = try #require(clientSpans.named("GET", kind: "SpanKind.CLIENT"))
        #expect(clientSpan.parentID == nil, "the client's span is the root")
        #expect(clientSpan.service == "http-client")
        #expect(clientSpan.attributes["server.address"] as? String == "127.0.0.1")
        #expect(clientSpan.attributes["url.full"] as? String == url + "/")
        #expect(clientSpan.attributes["http.request.method"] as? String == "GET")

        let serverSpan = try #require(serverSpans.named("/", kind: "SpanKind.SERVER"))
        #expect(serverSpan.service == "http-server")
        #expect(serverSpan.traceID == clientSpan.traceID, "one trace across the two processes")
        #expect(serverSpan.parentID == clientSpan.spanID)
        #expect(serverSpan.attributes["http.request.method"] as? String == "GET")
        #expect(serverSpan.attributes["url.path"] as? String == "/")
        #expect(serverSpan.attributes["http.response.status_code"] as? Int == 200)
        #expect(serverSpan.attributes["server.address"] as? String == "127.0.0.1")

        let parent = try #require(serverSpans.named("parent", kind: "SpanKind.INTERNAL"))
        #expect(parent.traceID == clientSpan.traceID)
        #expect(parent.parentID == serverSpan.spanID)

        let downstreamClient = try #require(serverSpans.first { $0.kind == "SpanKind.CLIENT" })
        #expect(downstreamClient.parentID == parent.spanID)
        #expect(downstreamClient.attributes["url.full"] as? String == url + "/wiki/Rabbit")

        let downstreamServer = try #require(serverSpans.named("/wiki/Rabbit", kind: "SpanKind.SERVER"))
        #expect(downstreamServer.parentID == downstreamClient.spanID)
        #expect(Set(serverSpans.map(\.traceID)) == [clientSpan.traceID])
        // The access line is a log record of the SERVER span (the console exporter prints it with its ids).
        let access = try #require(
            ProcessHarness.logs(of: server).first { $0.body.hasSuffix("\"GET / HTTP/1.1\" 200 -") }, "\(server.lines)")
        #expect(access.traceID == serverSpan.traceID && access.spanID == serverSpan.spanID)
    }

    @Test func orderTraceHasItsSpansAndEventsAndContinuesIntoTheServer() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-order-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let (server, url) = try await ProcessHarness.startServer()
        let order = try ProcessHarness.otter(
            "order-example", ["order-example", "--server-url", url + "/", "--data-dir", dataDirectory.path])
        #expect(await order.waitForExit() == 0, "\(order.lines)")
        let (_, serverSpans) = await ProcessHarness.stop(server)
        let spans = ProcessHarness.spans(of: order)

        let root = try #require(spans.named("order"))
        #expect(root.parentID == nil)
        #expect(root.service == "order-example")
        #expect(root.statusCode == "UNSET")
        #expect(root.events.map(\.name) == ["order.validated", "payment.authorized", "order.completed"])
        #expect(root.events.first?.attributes["order.item_count"] as? Int == 3)
        for name in ["write order to database", "authorize payment", "load confirmation page", "send confirmation email"] {
            let child = try #require(spans.named(name), "missing span \(name)")
            #expect(child.parentID == root.spanID, "\(name) is a child of order")
            #expect(child.traceID == root.traceID)
        }
        #expect(spans.named("authorize payment")?.events.map(\.name) == ["payment.authorized"])
        #expect(spans.named("send confirmation email")?.events.map(\.name) == ["email.queued"])
        #expect(spans.named("write order to database")?.attributes["db.system"] as? String == "sqlite")

        let pageSpan = try #require(spans.named("load confirmation page"))
        let httpSpan = try #require(spans.first { $0.kind == "SpanKind.CLIENT" && $0.parentID == pageSpan.spanID })
        let confirmation = try #require(serverSpans.named("/orders/{id}/confirmation", kind: "SpanKind.SERVER"))
        #expect(confirmation.traceID == root.traceID, "the order trace continues into http-server")
        #expect(confirmation.parentID == httpSpan.spanID)

        let orderID = try #require(root.attributes["order.id"] as? String)
        let email = dataDirectory.appendingPathComponent("outbox/\(orderID).eml")
        #expect(FileManager.default.fileExists(atPath: email.path))
        #expect(FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("orders.sqlite").path))
    }

    @Test func orderFailurePathRecordsTheErrorAndAnExceptionEvent() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-order-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let order = try ProcessHarness.otter(
            "order-example", ["order-example", "--server-url", "http://127.0.0.1:9/", "--data-dir", dataDirectory.path, "--fail"])
        #expect(await order.waitForExit() == 1)
        let spans = ProcessHarness.spans(of: order)
        let payment = try #require(spans.named("authorize payment"))
        #expect(payment.statusCode == "ERROR")
        let exception = try #require(payment.events.first { $0.name == "exception" })
        #expect(exception.attributes["exception.type"] as? String == "OtterExamples.OrderExample.PaymentDeclined")
        #expect((exception.attributes["exception.message"] as? String)?.contains("declined") == true)
        let root = try #require(spans.named("order"))
        #expect(root.statusCode == "ERROR")
        #expect(root.events.contains { $0.name == "exception" })
        #expect(spans.named("load confirmation page") == nil, "nothing runs after the declined payment")
        #expect(order.lines.contains { $0.contains("order failed: payment for order") })
        // The decline is logged through swift-log inside the payment span: on the console with that span's ids.
        let declined = try #require(ProcessHarness.logs(of: order).first { $0.body == "payment declined" }, "\(order.lines)")
        #expect(declined.severityText == "error")
        #expect(declined.traceID == payment.traceID && declined.spanID == payment.spanID)
    }

    @Test func failingDownstreamGivesAnErrorSpanAndA502() async throws {
        // The downstream is a second server's missing page: it answers 404.
        let (downstream, downstreamURL) = try await ProcessHarness.startServer()
        let (server, url) = try await ProcessHarness.startServer(environment: ["DOWNSTREAM_URL": downstreamURL + "/wiki/Missing"])
        let client = try ProcessHarness.otter("http-client", ["http-client", "--url", url + "/"])
        #expect(await client.waitForExit() != 0, "the client reports the failed request")
        let (_, serverSpans) = await ProcessHarness.stop(server)
        _ = await ProcessHarness.stop(downstream)
        #expect(client.lines.contains { $0.contains("-> 502") })
        let parent = try #require(serverSpans.named("parent"))
        #expect(parent.statusCode == "ERROR")
        #expect(parent.events.contains { $0.name == "exception" })
        #expect(server.lines.contains { $0.contains("downstream request failed") })
        #expect(serverSpans.named("/", kind: "SpanKind.SERVER")?.attributes["http.response.status_code"] as? Int == 502)
    }

    @Test func examplesExportOverOTLPWhenAskedAndNameBadSettings() async throws {
        let receiver = TestOTLPReceiver()
        let port = try await receiver.start()
        let otlp = ["EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)"]
        let (server, url) = try await ProcessHarness.startServer(environment: otlp)
        let client = try ProcessHarness.otter("http-client", ["http-client", "--url", url + "/"], environment: otlp)
        #expect(await client.waitForExit() == 0, "\(client.lines)")

        // EXPORTER=jaeger: OTLP/gRPC, as the seed's Jaeger setup expects.
        let grpcReceiver = TestOTLPGRPCReceiver()
        let grpcPort = try await grpcReceiver.start()
        let jaeger = try ProcessHarness.otter(
            "http-client", ["http-client", "--url", url + "/"],
            environment: ["EXPORTER": "jaeger", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(grpcPort)"])
        #expect(await jaeger.waitForExit() == 0, "\(jaeger.lines)")
        await grpcReceiver.stop()

        let (serverStatus, _) = await ProcessHarness.stop(server)
        #expect(serverStatus == 0)
        await receiver.stop()

        let spans = try receiver.requests.filter { $0.path == "/v1/traces" }.flatMap {
            try OTLPReading.finishedSpans(from: OTLPExportTraceServiceRequest(serializedBytes: $0.body))
        }
        // The logs go where the spans go: the server's access line reached /v1/logs with its SERVER span's ids.
        let records = try receiver.requests.filter { $0.path == "/v1/logs" }.flatMap { try OTLPLogs(protobuf: $0.body).records }
        let clientSpan = try #require(spans.first { $0.resource.serviceName == "http-client" && $0.kind == .client })
        let serverSpan = try #require(
            spans.first {
                $0.resource.serviceName == "http-server" && $0.operationName == "/"
                    && $0.spanContext.traceID == clientSpan.spanContext.traceID
            })
        #expect(serverSpan.parentSpanContext?.spanID == clientSpan.spanContext.spanID)
        #expect(serverSpan.parentSpanContext?.isRemote == true)
        let access = try #require(
            records.first {
                $0.body.text.hasSuffix("\"GET / HTTP/1.1\" 200 -") && $0.spanContext?.traceID == serverSpan.spanContext.traceID
            })
        #expect(access.spanContext?.spanID == serverSpan.spanContext.spanID)
        #expect(access.resource.serviceName == "http-server")
        #expect(spans.filter { $0.spanContext.traceID == clientSpan.spanContext.traceID }.count == 5)
        #expect(ProcessHarness.spans(of: client).isEmpty, "nothing on the console in otlp mode")

        let jaegerSpans = try grpcReceiver.requests.flatMap { try OTLPReading.finishedSpans(from: $0.request) }
        let jaegerClientSpan = try #require(jaegerSpans.first { $0.resource.serviceName == "http-client" && $0.kind == .client })
        #expect(
            spans.contains {
                $0.resource.serviceName == "http-server" && $0.parentSpanContext?.spanID == jaegerClientSpan.spanContext.spanID
            },
            "the server (exporting over HTTP) continued the trace of the client (exporting over gRPC)")

        let bad = try ProcessHarness.otter("http-client", ["http-client"], environment: ["EXPORTER": "zipkin"])
        #expect(await bad.waitForExit() == 2)
        #expect(bad.lines.contains { $0.contains("EXPORTER=zipkin is not valid") })
    }

    @Test func demoRunsTheWholeSystemAndShowsBothServicesUnderOneTrace() async throws {
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("otter-demo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dataDirectory) }
        let demo = ChildProcess(
            label: "demo", executable: ProcessHarness.otterExecutable, arguments: ["demo", "--exit", "--data-dir", dataDirectory.path],
            environment: ProcessHarness.environment(["OTTER_CONSOLE_STYLE": "line"]).filter { $0.key != "EXPORTER" }, echo: false)
        try demo.start()
        #expect(await demo.waitForExit() == 0, "\(demo.lines.suffix(20))")
        let lines = demo.lines
        #expect(lines.contains("otter demo: every step succeeded"))
        let traceLine = try #require(lines.first { $0.contains("http-client: 1 span") && $0.contains("http-server: 4 spans") })
        let traceID = try #require(traceLine.split(separator: " ").first { $0.hasPrefix("0x") })
        let clientSpanLines = lines.filter { $0.hasPrefix("[http-client] Span(") && $0.contains("trace_id=\(traceID)") }
        let serverSpanLines = lines.filter { $0.hasPrefix("[http-server] Span(") && $0.contains("trace_id=\(traceID)") }
        #expect(clientSpanLines.count == 1)
        #expect(serverSpanLines.count == 4)
        #expect(lines.contains { $0.hasPrefix("[order-example] Span(name=\"order\"") && $0.contains("order.validated") })
        // The demo ran otter viewer and exported there too: the trace is in its SQLite file.
        #expect(lines.contains { $0.hasPrefix("View trace \(traceID) at http://127.0.0.1:") })
        let store = try SQLiteTraceStore(path: dataDirectory.appendingPathComponent("traces.sqlite").path)
        let id = try #require(TraceID(hexString: traceID.dropFirst(2)))
        let stored = try await store.trace(id)
        #expect(stored.count == 5, "the client's span and the server's four")
        #expect(Set(stored.compactMap(\.resource.serviceName)) == ["http-client", "http-server"])
        // Their logs went there too: the server's access line is a record of that trace, with its SERVER span's id.
        let logs = try await store.logs(LogQuery(traceID: id)).records
        let serverSpan = try #require(stored.first { $0.kind == .server && $0.operationName == "/" })
        #expect(
            logs.contains { $0.body.text.hasSuffix("\"GET / HTTP/1.1\" 200 -") && $0.spanContext?.spanID == serverSpan.spanContext.spanID })
        #expect(try await store.logs(LogQuery(service: "order-example")).records.map(\.body.text).contains("order completed"))
    }
}
