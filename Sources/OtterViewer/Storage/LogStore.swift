import Otter
import OtterOTLP

/// Where the viewer keeps log records, beside the spans: a ``LogWriter`` and a ``LogReader``, as ``TraceStore``
/// splits spans. ``SQLiteTraceStore`` keeps both in one file.
public typealias LogStore = LogWriter & LogReader

/// Stores log records.
public protocol LogWriter: Sendable {
    /// Stores the valid records of `logs` atomically (every one of them, or none) and returns why the others (a trace
    /// id that is not 16 bytes, a span id that is not 8) were refused, for OTLP's `partial_success`. Records are kept
    /// as received; one with neither a time nor an observed time gets the time it arrived as its observed time.
    @discardableResult
    func write(_ logs: OTLPLogs) async throws -> [String]
}

/// Finds stored log records.
public protocol LogReader: Sendable {
    /// The records matching every condition of `query`, newest first (by time, or observed time when the time is
    /// missing), at most `query.limit`; each with its resource and scope. Every stored record appears: log records carry
    /// no id, so an exporter's retry after a timeout (OTLP delivers at least once) cannot be told from a repeated line
    /// and shows twice, as it would behind an OpenTelemetry Collector.
    func logs(_ query: LogQuery) async throws -> OTLPLogs
    /// The service names that have sent log records, sorted.
    func logServices() async throws -> [String]
    /// Where the store is in arrival order: records stored from now on are found by a query whose
    /// ``LogQuery/storedAfter`` is this value, whatever their own times (a live tail asks for them so).
    func logCursor() async throws -> UInt64
}

/// A log search: every condition must hold for a record to match.
public struct LogQuery: Sendable, Equatable {
    /// The resource's `service.name`.
    public var service: String?
    /// Only records written inside a span of this trace; nil matches any.
    public var traceID: TraceID?
    /// Only records written inside the span with this id; nil matches any.
    public var spanID: SpanID?
    /// Records at least this severe; records with an unspecified severity (0) only match when this is 0.
    public var minimumSeverity: LogSeverity
    /// Words that must all appear in the body or an attribute value (whole words, case-insensitive).
    public var words: [String]
    /// Attributes of the record or its resource that must all have these values (as text).
    public var tags: [(key: String, value: String)]
    /// The earliest record time that matches, in nanoseconds since 1970-01-01 00:00 UTC, inclusive; a record without
    /// a time is placed at its observed time.
    public var startNanoseconds: UInt64
    /// The latest record time that matches, in nanoseconds since 1970-01-01 00:00 UTC, inclusive.
    public var endNanoseconds: UInt64
    /// Only records stored after this ``LogReader/logCursor()`` (nil: any).
    public var storedAfter: UInt64?
    /// The most records returned, newest first; zero or less returns none.
    public var limit: Int

    /// Makes a search; by default every record matches, and at most 100 are returned.
    public init(
        service: String? = nil, traceID: TraceID? = nil, spanID: SpanID? = nil, minimumSeverity: LogSeverity = .unspecified,
        words: [String] = [], tags: [(key: String, value: String)] = [], startNanoseconds: UInt64 = 0,
        endNanoseconds: UInt64 = .max, storedAfter: UInt64? = nil, limit: Int = 100
    ) {
        self.storedAfter = storedAfter
        self.service = service
        self.traceID = traceID
        self.spanID = spanID
        self.minimumSeverity = minimumSeverity
        self.words = words
        self.tags = tags
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = endNanoseconds
        self.limit = limit
    }

    /// The words of a search text, split as records are for the index: runs of letters and digits, lowercased.
    public static func words(in text: String) -> [String] {
        LogWords.words(in: text)
    }

    /// True when every condition is the same, words and tags compared in order.
    public static func == (lhs: LogQuery, rhs: LogQuery) -> Bool {
        lhs.service == rhs.service && lhs.traceID == rhs.traceID && lhs.spanID == rhs.spanID
            && lhs.minimumSeverity == rhs.minimumSeverity && lhs.words == rhs.words
            && lhs.tags.map { "\($0.key)=\($0.value)" } == rhs.tags.map { "\($0.key)=\($0.value)" }
            && lhs.startNanoseconds == rhs.startNanoseconds && lhs.endNanoseconds == rhs.endNanoseconds
            && lhs.storedAfter == rhs.storedAfter && lhs.limit == rhs.limit
    }
}

/// The words of log text: runs of letters and digits (any non-ASCII byte counts as a letter), ASCII lowercased, each cut
/// to at most 64 bytes at a character boundary (so a word's words are itself). Searches and the index split text the
/// same way.
enum LogWords {
    static let maximumWordBytes = 64

    static func words(in text: String) -> [String] {
        var words: [String] = []
        forEachWord(in: text) { words.append(String(decoding: $0, as: UTF8.self)) }
        return words
    }

    /// Calls `body` with each word's lowercased UTF-8 bytes (valid only during the call). Words without upper-case
    /// letters are passed in place, without copying.
    static func forEachWord(in text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            var lowered: [UInt8] = []
            var start = 0
            var hasUpperCase = false
            func emit(_ end: Int) {
                guard end > start else { return }
                var length = end - start
                if length > maximumWordBytes {
                    length = maximumWordBytes
                    while length > 0, bytes[start + length] & 0xC0 == 0x80 { length -= 1 }
                }
                if hasUpperCase {
                    lowered.removeAll(keepingCapacity: true)
                    for byte in bytes[start..<start + length] {
                        lowered.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
                    }
                    lowered.withUnsafeBufferPointer(body)
                } else {
                    body(UnsafeBufferPointer(rebasing: bytes[start..<start + length]))
                }
            }
            for index in 0..<bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...:
                    continue
                case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    hasUpperCase = true
                default:
                    emit(index)
                    start = index + 1
                    hasUpperCase = false
                }
            }
            emit(bytes.count)
        }
    }
}
