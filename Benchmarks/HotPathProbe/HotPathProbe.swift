import Dispatch
import Logging
import OTel
import Otter
import ServiceLifecycle
import Tracing

/// Runs one hot-path workload a given number of times, the way an application runs it, for
/// `scripts/callgrind.py`: that script runs it under callgrind (and under a malloc counter) at N and 2N operations
/// and divides the difference by N, so start-up, warm-up and shutdown cancel out.
///
///     HotPathProbe SDK WORKLOAD COUNT
///
/// SDK: `otter` (Otter.bootstrap with a discarding exporter behind the default BatchSpanProcessor, its service
/// running), `swift-otel` (OTel.makeTracingBackend with exporter `none`, its service running), both with a queue
/// that holds every span of the run or `noop`
/// (NoOpTracer, the floor). Every SDK is installed with `InstrumentationSystem.bootstrap` and every span is made
/// through the global API, as libraries and applications make them.
///
/// WORKLOAD (one operation):
/// - `sampled`: `withSpan("op") { span in span.attributes["a"] = "x"; span.attributes["b"] = 42 }`, always_on.
/// - `unsampled`: the same span with always_off.
/// - `parent-child`: a span with one child span inside it, always_on, no attributes.
/// - `propagation`: inject the current span's context into HTTP-style headers, extract it into a new context.
/// - `log`: `logger.info("order placed", metadata: ["a": "x", "b": "42"])` inside a span, through the process's
///   swift-log handler: Otter's `OtterLogHandler` (installed by `Otter.bootstrap`, a discarding log exporter behind
///   the default batch log record processor), swift-otel's `OTelLogHandler` (`OTel.bootstrap`, logs exporter `none`),
///   `stream` (swift-log's `StreamLogHandler` to standard output, NoOpTracer) or `noop` (swift-log's no-op handler).
@main
struct HotPathProbe {
    /// A synchronous main that waits for a task: valgrind 3.19 crashes when a thread starts while the main thread
    /// waits in `dispatch_main`, which is where an `async` main waits.
    static func main() {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                try await measure()
            } catch {
                fatalError("\(error)")
            }
            done.signal()
        }
        done.wait()
    }

    static func measure() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 4, let count = Int(arguments[3]), count >= 0,
            let workload = Workload(rawValue: arguments[2]), let sdk = SDK(rawValue: arguments[1])
        else {
            print("usage: HotPathProbe otter|swift-otel|stream|noop sampled|unsampled|parent-child|propagation|log COUNT")
            return
        }
        var logger = Logger(label: "probe")
        logger.logLevel = .error
        let sampled = workload != .unsampled
        // Every span is exported, none dropped: callgrind runs one thread at a time, so the exporting task runs
        // only when the scheduler switches to it, and a default-sized queue (2048) would overflow. The batch size
        // and schedule delay keep their defaults (512, 5 s). A dropped span would cost less than an exported one.
        let queueSize = 1 << 20

        let service: (any Service)?
        switch sdk {
        case .otter:
            service = try Otter.bootstrap(
                .init(
                    serviceName: "probe", exporter: DiscardingExporter(), sampler: sampled ? AlwaysOnSampler() : AlwaysOffSampler(),
                    environment: ["OTEL_BSP_MAX_QUEUE_SIZE": "\(queueSize)", "OTEL_BLRP_MAX_QUEUE_SIZE": "\(queueSize)"],
                    logExporter: DiscardingLogExporter(), logger: logger), bootstrapsLogging: workload == .log)
        case .swiftOTel:
            var configuration = OTel.Configuration.default
            configuration.serviceName = "probe"
            configuration.traces.exporter = .none
            configuration.traces.sampler = sampled ? .alwaysOn : .alwaysOff
            configuration.traces.batchSpanProcessor.maxQueueSize = queueSize
            configuration.diagnosticLogLevel = .error
            if workload == .log {
                configuration.metrics.enabled = false
                configuration.logs.exporter = .none
                configuration.logs.batchLogRecordProcessor.maxQueueSize = queueSize
                service = try OTel.bootstrap(configuration: configuration)
            } else {
                let (tracer, tracingService) = try OTel.makeTracingBackend(configuration: configuration)
                InstrumentationSystem.bootstrap(tracer)
                service = tracingService
            }
        case .stream:
            InstrumentationSystem.bootstrap(NoOpTracer())
            LoggingSystem.bootstrap(StreamLogHandler.standardOutput)
            service = nil
        case .noop:
            InstrumentationSystem.bootstrap(NoOpTracer())
            if workload == .log { LoggingSystem.bootstrap(SwiftLogNoOpLogHandler.init) }
            service = nil
        }
        let group = ServiceGroup(services: service.map { [$0] } ?? [], logger: logger)
        let running = Task { try await group.run() }

        // Warm-up: caches, lazily made metadata and the first batches behave as later ones do.
        run(workload, times: 1_000)
        run(workload, times: count)
        await group.triggerGracefulShutdown()
        try await running.value
        if let batchProcessor = (service as? OtterService)?.tracer.processor as? BatchSpanProcessor {
            let dropped = batchProcessor.droppedSpanCount
            if dropped > 0 { fatalError("Otter dropped \(dropped) spans: the probe must measure exported spans") }
        }
        if let logProcessor = (service as? OtterService)?.logEmitter.processor as? BatchLogRecordProcessor {
            let dropped = logProcessor.droppedLogRecordCount
            if dropped > 0 { fatalError("Otter dropped \(dropped) log records: the probe must measure exported records") }
        }
    }

    @inline(never)
    static func run(_ workload: Workload, times: Int) {
        switch workload {
        case .sampled, .unsampled:
            for _ in 0..<times {
                withSpan("op") { span in
                    span.attributes["a"] = "x"
                    span.attributes["b"] = 42
                }
            }
        case .parentChild:
            for _ in 0..<times {
                withSpan("parent") { _ in
                    withSpan("child") { span in blackHole(span) }
                }
            }
        case .propagation:
            withSpan("current") { _ in
                for _ in 0..<times {
                    var headers: [(String, String)] = []
                    headers.reserveCapacity(4)
                    InstrumentationSystem.instrument.inject(
                        InstrumentationContext.current ?? .topLevel, into: &headers, using: HeaderInjector())
                    var extracted = InstrumentationContext.topLevel
                    InstrumentationSystem.instrument.extract(headers, into: &extracted, using: HeaderExtractor())
                    blackHole(extracted)
                }
            }
        case .log:
            var logger = Logger(label: "app")
            logger.logLevel = .info
            withSpan("request") { _ in
                for _ in 0..<times {
                    logger.info("order placed", metadata: ["a": "x", "b": "42"])
                }
            }
        }
    }
}

enum SDK: String {
    case otter
    case swiftOTel = "swift-otel"
    case stream
    case noop
}

enum Workload: String {
    case sampled
    case unsampled
    case parentChild = "parent-child"
    case propagation
    case log
}

/// Drops every batch: the probe measures the SDK, not an exporter.
struct DiscardingExporter: SpanExporter {
    func export(_ batch: [FinishedSpan]) async throws {}
}

/// Drops every batch of log records.
struct DiscardingLogExporter: LogRecordExporter {
    func export(_ batch: [OtterLogRecord]) async throws {}
}

struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [(String, String)]) {
        carrier.append((key, value))
    }
}

struct HeaderExtractor: Extractor {
    func extract(key: String, from carrier: [(String, String)]) -> String? {
        carrier.first { $0.0 == key }?.1
    }
}

@inline(never)
func blackHole<T>(_ value: T) {}
