import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import Otter
import Tracing

/// The example "order" trace: a root span `order` whose children write the order to SQLite, fetch the
/// confirmation page from http-server (a CLIENT span, so the trace continues in the server), and send the
/// confirmation email to a local outbox; events mark the points of interest.
package enum OrderExample {
    package struct Configuration: Sendable {
        package var serverURL: String
        /// Where `orders.sqlite` and `outbox/` live.
        package var dataDirectory: URL
        /// Decline the payment, to show the error path (error status and an `exception` event).
        package var failPayment: Bool

        package init(serverURL: String = HTTPClientExample.defaultServerURL, dataDirectory: URL, failPayment: Bool = false) {
            self.serverURL = serverURL
            self.dataDirectory = dataDirectory
            self.failPayment = failPayment
        }
    }

    package struct PaymentDeclined: Error, CustomStringConvertible {
        package let orderID: String
        package var description: String { "payment for order \(orderID) was declined by the card issuer" }
    }

    struct LineItem {
        var sku: String
        var quantity: Int
        var unitPriceCents: Int
    }

    /// Places one order. Returns the order id; throws when any step fails (the spans record why). Each step is logged
    /// through `logger` inside its span; the declined payment as an error.
    package static func placeOrder(
        configuration: Configuration, httpClient: HTTPClient, logger: Logger = Logger(label: "order-example")
    ) async throws -> String {
        let orderID = "order-\(UUID().uuidString.prefix(8).lowercased())"
        let items = [
            LineItem(sku: "carrot-1kg", quantity: 2, unitPriceCents: 349),
            LineItem(sku: "hay-bale", quantity: 1, unitPriceCents: 1299),
            LineItem(sku: "water-bottle", quantity: 1, unitPriceCents: 799),
        ]
        let totalCents = items.reduce(0) { $0 + $1.quantity * $1.unitPriceCents }

        return try await withSpan("order", ofKind: .internal) { order in
            order.attributes["order.id"] = orderID
            order.attributes["order.item_count"] = items.count
            order.attributes["order.total_cents"] = totalCents
            order.addEvent(
                SpanEvent(
                    name: "order.validated", attributes: ["order.id": .string(orderID), "order.item_count": .int64(Int64(items.count))]))
            logger.info("order validated", metadata: ["order.id": "\(orderID)", "order.item_count": "\(items.count)"])

            try withSpan("write order to database", ofKind: .client) { span in
                span.attributes["db.system"] = "sqlite"
                span.attributes["db.operation.name"] = "INSERT"
                span.attributes["db.collection.name"] = "orders"
                let path = try saveOrder(id: orderID, items: items, totalCents: totalCents, in: configuration.dataDirectory)
                span.attributes["db.namespace"] = path
                logger.info("order saved", metadata: ["order.id": "\(orderID)"])
            }

            try withSpan("authorize payment") { span in
                span.attributes["payment.method"] = "card"
                span.attributes["payment.amount_cents"] = totalCents
                if configuration.failPayment {
                    let declined = PaymentDeclined(orderID: orderID)
                    logger.error(
                        "payment declined", error: declined, metadata: ["order.id": "\(orderID)", "payment.amount_cents": "\(totalCents)"])
                    throw declined
                }
                logger.info("payment authorized", metadata: ["payment.amount_cents": "\(totalCents)"])
                span.addEvent(SpanEvent(name: "payment.authorized", attributes: ["payment.amount_cents": .int64(Int64(totalCents))]))
            }
            order.addEvent(SpanEvent(name: "payment.authorized", attributes: ["payment.amount_cents": .int64(Int64(totalCents))]))

            let confirmationURL = configuration.serverURL.trimmingSuffix("/") + "/orders/\(orderID)/confirmation"
            try await withSpan("load confirmation page") { span in
                span.attributes["url.full"] = confirmationURL
                let size = try await HTTPServerExample.fetch(confirmationURL, with: httpClient)
                span.attributes["http.response.body.size"] = size
                logger.info("confirmation page loaded", metadata: ["url.full": "\(confirmationURL)"])
            }

            try withSpan("send confirmation email", ofKind: .producer) { span in
                span.attributes["messaging.system"] = "outbox"
                let file = try writeConfirmationEmail(orderID: orderID, totalCents: totalCents, in: configuration.dataDirectory)
                span.addEvent(
                    SpanEvent(name: "email.queued", attributes: ["email.to": "customer@example.com", "email.file": .string(file)]))
                logger.info("confirmation email queued", metadata: ["email.to": "customer@example.com"])
            }
            order.addEvent(SpanEvent(name: "order.completed", attributes: ["order.id": .string(orderID)]))
            logger.notice("order completed", metadata: ["order.id": "\(orderID)"])
            return orderID
        }
    }

    /// Runs one order end to end, prints the outcome, flushes spans. Returns whether the order succeeded.
    package static func run(configuration: Configuration, otter: OtterService) async -> Bool {
        let httpClient = makeTracedHTTPClient()
        var succeeded = false
        do {
            let orderID = try await placeOrder(configuration: configuration, httpClient: httpClient)
            printLine("order \(orderID) placed; confirmation email in \(configuration.dataDirectory.appendingPathComponent("outbox").path)")
            succeeded = true
        } catch {
            FileHandle.standardError.write(Data("order-example: order failed: \(error)\n".utf8))
        }
        try? await httpClient.shutdown()
        await otter.shutdown()
        return succeeded
    }

    static func saveOrder(id: String, items: [LineItem], totalCents: Int, in directory: URL) throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("orders.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total_cents INTEGER NOT NULL, created_at TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS order_items (order_id TEXT NOT NULL REFERENCES orders(id), sku TEXT NOT NULL,
                        quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL);
                    """)
            try db.execute(
                sql: "INSERT INTO orders (id, total_cents, created_at) VALUES (?, ?, ?)",
                arguments: [id, totalCents, ISO8601DateFormatter().string(from: Date())])
            for item in items {
                try db.execute(
                    sql: "INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?, ?, ?, ?)",
                    arguments: [id, item.sku, item.quantity, item.unitPriceCents])
            }
        }
        return path
    }

    static func writeConfirmationEmail(orderID: String, totalCents: Int, in directory: URL) throws -> String {
        let outbox = directory.appendingPathComponent("outbox")
        try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
        let file = outbox.appendingPathComponent("\(orderID).eml")
        let message = """
            To: customer@example.com
            Subject: Your order \(orderID) is confirmed

            Thank you for your order. Total: \(totalCents / 100).\(String(format: "%02d", totalCents % 100)) EUR

            """
        try message.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
