import Foundation
import Logging
import Otter
import Synchronization
import Testing
import Tracing

/// swift-log through `OtterLogHandler`, written as an application writes it: a `Logger` made with the handler,
/// log calls inside and outside spans, the records read back from a real processor and exporter.
@Suite struct LogHandlerTests {
    struct Pipeline {
        let exporter = InMemoryLogRecordExporter()
        let processor: BatchLogRecordProcessor
        let emitter: OtterLogEmitter
        let tracer: OtterTracer

        init(attributeCountLimit: Int = 128, attributeValueLengthLimit: Int? = nil) {
            processor = BatchLogRecordProcessor(exporter: exporter, configuration: .init(scheduleDelay: .seconds(3600)))
            let resource = Resource(attributes: ["service.name": "logs-test"])
            emitter = OtterLogEmitter(
                resource: resource, processor: processor, attributeCountLimit: attributeCountLimit,
                attributeValueLengthLimit: attributeValueLengthLimit)
            tracer = OtterTracer(
                resource: resource, sampler: AlwaysOnSampler(), processor: SimpleSpanProcessor(exporter: InMemorySpanExporter()))
        }

        func logger(_ label: String = "orders", metadataProvider: Logger.MetadataProvider? = nil) -> Logger {
            var logger = Logger(label: label) { label in self.emitter.makeLogHandler(label: label, metadataProvider: metadataProvider) }
            logger.logLevel = .trace
            return logger
        }

        func records() async -> [OtterLogRecord] {
            let flushed = await processor.forceFlush(timeout: .seconds(60))
            #expect(flushed)
            return exporter.exportedLogRecords
        }
    }

    @Test func aRecordInsideASpanCarriesItsIdsSeverityBodyMetadataAndCallSite() async throws {
        let pipeline = Pipeline()
        let logger = pipeline.logger()
        let metadata: Logger.Metadata = [
            "order.id": "42", "count": .stringConvertible(3), "paid": .stringConvertible(true),
            "items": .array(["book", "pen"]), "customer": .dictionary(["tier": "gold"]),
        ]
        var spanContext: OtterSpanContext?
        var line = 0
        pipeline.tracer.withSpan("checkout") { span in
            spanContext = span.spanContext
            line = #line + 1
            logger.info("order placed", metadata: metadata)
        }
        let record = try #require(await pipeline.records().first)
        let context = try #require(spanContext)
        #expect(record.spanContext?.traceID == context.traceID)
        #expect(record.spanContext?.spanID == context.spanID)
        #expect(record.spanContext?.traceFlags == context.traceFlags)
        #expect(record.severity == .info)
        #expect(record.severityText == "info")
        #expect(record.body == .string("order placed"))
        #expect(record.attributes["order.id"] == .string("42"))
        #expect(record.attributes["count"] == .int(3))
        #expect(record.attributes["paid"] == .bool(true))
        #expect(record.attributes["items"] == .array([.string("book"), .string("pen")]))
        #expect(record.attributes["customer"] == .map(["tier": .string("gold")]))
        #expect(record.attributes["code.line.number"] == .int(Int64(line)))
        #expect(record.attributes["code.file.path"].map { $0.text.hasSuffix("LogHandlerTests.swift") } == true)
        #expect(record.attributes["code.function.name"] != nil)
        #expect(record.instrumentationScope.name == "orders")
        #expect(record.resource.attributes["service.name"]?.toSpanAttribute() == SpanAttribute.string("logs-test"))
        #expect(record.timeNanosecondsSinceEpoch > 0)
    }

    @Test func aRecordOutsideAnySpanHasNoSpanContext() async throws {
        let pipeline = Pipeline()
        pipeline.logger().warning("disk almost full")
        let record = try #require(await pipeline.records().first)
        #expect(record.spanContext == nil)
        #expect(record.severity == .warn)
    }

    @Test func levelsMapToTheSpecificationsSeverityNumbers() async {
        let pipeline = Pipeline()
        let logger = pipeline.logger()
        for level in Logger.Level.allCases { logger.log(level: level, "\(level)") }
        let records = await pipeline.records()
        #expect(records.map(\.severity.number) == [1, 5, 9, 10, 13, 17, 21])
        #expect(records.map(\.severity.name) == ["TRACE", "DEBUG", "INFO", "INFO2", "WARN", "ERROR", "FATAL"])
        #expect(records.map(\.severityText) == Logger.Level.allCases.map(\.rawValue))
    }

    @Test func theLoggersLevelFiltersAndMetadataLayersInOrder() async throws {
        let pipeline = Pipeline()
        let provider = Logger.MetadataProvider { ["source": "provider", "request.id": "r-1"] }
        var logger = pipeline.logger(metadataProvider: provider)
        logger.logLevel = .notice
        logger[metadataKey: "source"] = "handler"
        logger[metadataKey: "region"] = "eu"
        logger.info("filtered out")
        logger.notice("kept", metadata: ["request.id": "call"])
        let records = await pipeline.records()
        let record = try #require(records.first)
        #expect(records.count == 1)
        #expect(record.attributes["region"] == .string("eu"))
        #expect(record.attributes["source"] == .string("provider"))
        #expect(record.attributes["request.id"] == .string("call"))
    }

    @Test func anAttachedErrorBecomesExceptionAttributes() async throws {
        struct PaymentDeclined: Error, CustomStringConvertible {
            var description: String { "card expired" }
        }
        let pipeline = Pipeline()
        pipeline.logger().error("payment failed", error: PaymentDeclined())
        let record = try #require(await pipeline.records().first)
        #expect(record.severity == .error)
        #expect(record.attributes["exception.message"] == .string("card expired"))
        #expect(record.attributes["exception.type"].map { $0.text.hasSuffix("PaymentDeclined") } == true)
    }

    @Test func limitsDropAndCountAttributesAndTruncateValues() async throws {
        let pipeline = Pipeline(attributeCountLimit: 5, attributeValueLengthLimit: 4)
        var metadata: Logger.Metadata = [:]
        for index in 0..<10 { metadata["key\(index)"] = "value-\(index)" }
        metadata["nested"] = .array(["abcdefgh"])
        pipeline.logger().info("many", metadata: metadata)
        let record = try #require(await pipeline.records().first)
        // 10 + nested + three code.* attributes = 14, limit 5.
        #expect(record.attributes.count == 5)
        #expect(record.droppedAttributesCount == 9)
        for value in record.attributes.values {
            if case .string(let string) = value { #expect(string.count <= 4) }
        }
    }

    /// Found by the independent review: the limit counted Swift `Character`s, so one letter with 100,000 combining marks
    /// passed a limit of 4 whole. It counts Unicode scalars (as opentelemetry-python counts code points), in logs and spans.
    @Test func theLengthLimitBoundsCombiningMarks() async throws {
        let pipeline = Pipeline(attributeValueLengthLimit: 4)
        let zalgo = "e" + String(repeating: "\u{0301}", count: 100_000)
        pipeline.logger().info("marks", metadata: ["zalgo": .string(zalgo)])
        let record = try #require(await pipeline.records().first)
        guard case .string(let kept) = record.attributes["zalgo"] else {
            Issue.record("no zalgo attribute")
            return
        }
        #expect(kept.unicodeScalars.count == 4)

        let exporter = InMemorySpanExporter()
        let tracer = OtterTracer(
            sampler: AlwaysOnSampler(), processor: SimpleSpanProcessor(exporter: exporter),
            limits: SpanLimits(attributeValueLengthLimit: 4))
        tracer.withSpan("marks") { span in span.attributes["zalgo"] = zalgo }
        #expect(await tracer.forceFlush(timeout: .seconds(60)))
        let span = try #require(exporter.exportedSpans.first)
        #expect(span.attributes.get("zalgo") == .string("e" + String(repeating: "\u{0301}", count: 3)))
    }

    @Test func aFailingExporterMakesTheFlushSayFalse() async {
        struct Refused: Error {}
        struct RefusingExporter: LogRecordExporter {
            func export(_ batch: [OtterLogRecord]) async throws { throw Refused() }
        }
        let processor = BatchLogRecordProcessor(exporter: RefusingExporter())
        let emitter = OtterLogEmitter(resource: Resource(), processor: processor)
        let logger = Logger(label: "refused") { emitter.makeLogHandler(label: $0, metadataProvider: nil) }
        logger.error("lost")
        let flushed = await processor.forceFlush(timeout: .seconds(60))
        #expect(!flushed)
        #expect(processor.failedLogRecordCount == 1)
    }

    /// (The flushes here wait up to 60 s: a bound, not a delay; they return as soon as the exports are done. Under a
    /// loaded machine, with other suites' work on the cooperative pool, 100 one-record exports can take seconds.)
    @Test func theSimpleProcessorExportsEachRecordInOrder() async {
        let exporter = InMemoryLogRecordExporter()
        let processor = SimpleLogRecordProcessor(exporter: exporter)
        let emitter = OtterLogEmitter(resource: Resource(), processor: processor)
        let logger = Logger(label: "simple") { emitter.makeLogHandler(label: $0, metadataProvider: nil) }
        for index in 0..<100 { logger.info("line \(index)") }
        let flushed = await processor.forceFlush(timeout: .seconds(60))
        #expect(flushed)
        #expect(exporter.exportedLogRecords.map(\.body) == (0..<100).map { .string("line \($0)") })
    }

    /// Found by the independent review: deep metadata would make receivers refuse the whole batch, unusual integer
    /// types lost their type, and the application's attributes could push the call site out under the count limit.
    @Test func deepNestingIsCappedIntegersKeepTheirTypeAndTheCallSiteSurvivesTheLimit() async throws {
        var nested = Logger.MetadataValue.string("bottom")
        for _ in 0..<35 { nested = .dictionary(["level": nested]) }
        func depth(_ value: LogValue) -> Int {
            switch value {
            case .map(let values): return 1 + (values.values.map(depth).max() ?? 0)
            case .array(let values): return 1 + (values.map(depth).max() ?? 0)
            default: return 0
            }
        }
        #expect(depth(LogValue(nested)) == LogValue.maximumNestingDepth)
        #expect(LogValue(.stringConvertible(UInt8(7))) == .int(7))
        #expect(LogValue(.stringConvertible(Int16(-7))) == .int(-7))
        #expect(LogValue(.stringConvertible(UInt(7))) == .int(7))
        #expect(LogValue(.stringConvertible(UInt64.max)) == .string("18446744073709551615"))

        let pipeline = Pipeline(attributeCountLimit: 4)
        var metadata: Logger.Metadata = [:]
        for index in 0..<20 { metadata["a\(index)"] = "v" }
        pipeline.logger().info("crowded", metadata: metadata)
        let record = try #require(await pipeline.records().first)
        #expect(record.attributes.keys.filter { $0.hasPrefix("code.") }.count == 3)
        #expect(record.attributes.count == 4)
        #expect(record.droppedAttributesCount == 19)
    }

    /// An exporter that logs through the same handler while exporting (as a failing export's warning does, once
    /// the SDK's handler is the process's) does not feed its own pipeline: those lines are not exported.
    @Test func whatAnExporterLogsWhileExportingIsNotExported() async {
        final class LoggingExporter: LogRecordExporter {
            let exported = LockedValueBox<[OtterLogRecord]>([])
            let logger = LockedValueBox<Logger?>(nil)
            func export(_ batch: [OtterLogRecord]) async throws {
                exported.withLock { $0 += batch }
                logger.withLock { $0 }?.warning("exported \(batch.count) records")
            }
        }
        let exporter = LoggingExporter()
        let processor = SimpleLogRecordProcessor(exporter: exporter)
        let emitter = OtterLogEmitter(resource: Resource(), processor: processor)
        let logger = Logger(label: "app") { emitter.makeLogHandler(label: $0, metadataProvider: nil) }
        exporter.logger.withLock { $0 = logger }
        logger.info("one")
        logger.info("two")
        #expect(await processor.forceFlush(timeout: .seconds(60)))
        #expect(await processor.forceFlush(timeout: .seconds(60)))
        #expect(exporter.exported.withLock { $0.map(\.body) } == [.string("one"), .string("two")])
    }

    @Test func theConsoleExporterPrintsALineOrAJSONObjectPerRecord() async throws {
        let printed = LockedText()
        let record = OtterLogRecord(
            timeNanosecondsSinceEpoch: 1_700_000_000_123_456_000, severity: .error, severityText: "error",
            body: .string("payment declined\n\u{1B}[31m"), attributes: ["card": .map(["brand": .string("visa")]), "amount": .double(9.5)],
            spanContext: OtterSpanContext(traceID: TraceID(high: 1, low: 2), spanID: SpanID(3), traceFlags: .sampled),
            resource: Resource(attributes: ["service.name": "checkout"]), instrumentationScope: InstrumentationScope(name: "payments"))
        try await ConsoleLogRecordExporter(style: .line, output: .init { printed.append($0) }).export([record])
        try await ConsoleLogRecordExporter(style: .json, output: .init { printed.append($0) }).export([record])
        let lines = printed.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(
            lines.first
                == "2023-11-14T22:13:20.123456Z ERROR payments: payment declined\\n\\u{1B}[31m amount=9.5 card={brand: \"visa\"} "
                + "trace_id=00000000000000010000000000000002 span_id=0000000000000003")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(json["body"] as? String == "payment declined\n\u{1B}[31m")
        #expect(json["severity_number"] as? Int == 17)
        #expect(json["trace_id"] as? String == "0x00000000000000010000000000000002")
        #expect((json["attributes"] as? [String: Any])?["amount"] as? Double == 9.5)
        #expect(((json["resource"] as? [String: Any])?["attributes"] as? [String: Any])?["service.name"] as? String == "checkout")
    }
}

/// Text written by a console exporter, collected for a test.
final class LockedText: Sendable {
    private let storage = Mutex("")
    var text: String { storage.withLock { $0 } }
    func append(_ chunk: String) { storage.withLock { $0 += chunk } }
}

/// A value behind a lock, for test doubles.
final class LockedValueBox<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { storage.withLock { body(&$0) } }
}
