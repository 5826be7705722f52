import Logging
import Otter
import Synchronization

/// A log record processor that keeps every record in memory, in the order they were written. ``TestTracer`` records
/// the test's logs through one; use it directly to record from a log emitter of your own.
public final class LogRecordRecorder: LogRecordProcessor {
    /// Records kept at most; later ones are counted in ``droppedCount``.
    public let maximumRecords: Int

    private let state = Mutex<(records: [OtterLogRecord], dropped: Int)>(([], 0))

    /// Makes a recorder that keeps up to `maximumRecords` records (negative counts as 0).
    public init(maximumRecords: Int = 100_000) {
        self.maximumRecords = max(0, maximumRecords)
    }

    /// Keeps the record, or counts it in ``droppedCount`` once ``maximumRecords`` are kept; safe from any thread.
    public func onEmit(_ record: OtterLogRecord) {
        state.withLock { state in
            if state.records.count < maximumRecords {
                state.records.append(record)
            } else {
                state.dropped += 1
            }
        }
    }

    /// The records, in the order they were written.
    public var records: [OtterLogRecord] { state.withLock { $0.records } }

    /// Records written after ``maximumRecords`` were kept.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    /// Forgets every recorded record.
    public func reset() {
        state.withLock { $0 = ([], 0) }
    }
}

extension Sequence<OtterLogRecord> {
    /// The records at least as severe as `severity` (`.warn`, `.error`, …).
    public func atLeast(_ severity: LogSeverity) -> [OtterLogRecord] {
        filter { $0.severity >= severity }
    }

    /// The records whose message contains `text`.
    public func containing(_ text: String) -> [OtterLogRecord] {
        filter { $0.body.text.contains(text) }
    }

    /// The messages, in order.
    public var messages: [String] { map(\.body.text) }
}

/// swift-log's global handler after ``TestTracer/bootstrapLogging(otherwise:)``: each record goes to the log emitter of
/// the test tracer of the task that writes it, or to `otherwise` outside a traced test.
struct TaskLocalLogHandler: LogHandler {
    let label: String
    var otherwise: any LogHandler
    var metadata: Logger.Metadata = [:] {
        didSet { otherwise.metadata = metadata }
    }
    var logLevel: Logger.Level = .info {
        didSet { otherwise.logLevel = logLevel }
    }

    init(label: String, otherwise: any LogHandler) {
        self.label = label
        self.otherwise = otherwise
        self.otherwise.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard let testTracer = TestTracer.taskLocal else {
            otherwise.log(event: event)
            return
        }
        var handler = testTracer.logEmitter.makeLogHandler(label: label, metadataProvider: otherwise.metadataProvider)
        handler.metadata = metadata
        handler.logLevel = logLevel
        handler.log(event: event)
    }
}
