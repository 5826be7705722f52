import CompressNIO
import Foundation
import GRDB
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf
import Tracing

/// Log records are stored as spans are (``SQLiteTraceStore``): blocks of at most ``maximumRecordsPerBlock`` records of
/// the same hour, each block one deflated OTLP `ExportLogsServiceRequest` (`log_block`, with its time range and
/// highest severity), and small indexes into the blocks: `log_trace_block` (trace id → blocks) and `log_term_block`
/// (hashes of the service, of each attribute key and value, and of each word of the bodies and values → blocks).
/// A search picks candidate blocks from the indexes, newest first, and checks every record of them.
extension SQLiteTraceStore: LogWriter {
    /// A block never holds more records than this.
    static let maximumRecordsPerBlock = 1024

    /// A record to store: what the indexes need, and its OTLP bytes with its resource's and scope's.
    struct IngestLogRecord {
        /// The time it is found by: its time, else its observed time.
        var time: UInt64
        var severity: Int
        var traceID: [UInt8]?
        /// The service's and the attributes' terms.
        var terms: [Int64]
        var words: LogTerm.Words
        var bytes: ReceivedSpanBytes
    }

    /// Stores the valid records of `logs` in one transaction, as received, and indexes their time, severity, trace,
    /// service, attributes and words; returns why the others were refused. A record with neither a time nor an observed
    /// time gets its arrival time as its observed time. When the store is at its size bound, the oldest data is
    /// deleted first; throws `StoreFullError` when the disk has no room even then.
    @discardableResult
    public func write(_ logs: OTLPLogs) async throws -> [String] {
        let arrival = DefaultTracerClock.now.nanosecondsSinceEpoch
        // Protobuf as received is stored as received: a logs request has the layout of a traces request (resource 1,
        // scope records 2, schema URL 3; scope 1, records 2), so the same splitter finds each record's bytes.
        let received = logs.receivedProtobuf.flatMap(ReceivedSpanBytes.split).flatMap { $0.count == logs.recordCount ? $0 : nil }
        var records: [IngestLogRecord] = []
        var servicesSeen = Set<String>()
        var rejections: [String] = []
        var position = 0
        for resourceLogs in logs.request.resourceLogs {
            let service = Self.serviceName(of: resourceLogs.resource.attributes)
            servicesSeen.insert(service)
            var resourceTerms = [LogTerm.service(service)]
            for attribute in resourceLogs.resource.attributes {
                resourceTerms.append(LogTerm.tag(attribute.key, LogTerm.text(attribute.value)))
            }
            let resourceBytes = resourceLogs.hasResource ? ArraySlice(try resourceLogs.resource.serializedBytes() as [UInt8]) : nil
            let schemaURL = resourceLogs.schemaURL.isEmpty ? nil : ArraySlice(resourceLogs.schemaURL.utf8)
            for scopeLogs in resourceLogs.scopeLogs {
                let scopeBytes = scopeLogs.hasScope ? ArraySlice(try scopeLogs.scope.serializedBytes() as [UInt8]) : nil
                for var record in scopeLogs.logRecords {
                    defer { position += 1 }
                    if let problem = OTLPLogsMapping.idProblem(of: record) {
                        rejections.append(problem)
                        continue
                    }
                    var bytes = received?[position]
                    if record.timeUnixNano == 0 && record.observedTimeUnixNano == 0 {
                        record.observedTimeUnixNano = arrival
                        bytes = nil
                    }
                    let recordBytes =
                        try bytes
                        ?? ReceivedSpanBytes(
                            span: ArraySlice(try record.serializedBytes() as [UInt8]), resource: resourceBytes, schemaURL: schemaURL,
                            scope: scopeBytes)
                    let traceID = record.traceID.count == 16 && record.traceID.contains { $0 != 0 } ? Array(record.traceID) : nil
                    records.append(
                        IngestLogRecord(
                            time: record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano,
                            severity: record.severityNumber.rawValue, traceID: traceID,
                            terms: resourceTerms + LogTerm.tags(of: record), words: LogTerm.words(of: record), bytes: recordBytes))
                }
            }
        }
        guard !records.isEmpty else { return rejections }
        let blocks = Self.encodeLogBlocks(records)
        let services = servicesSeen
        try await writeMakingRoom(bytes: blocks.reduce(0) { $0 + $1.deflated.count }) { db in
            for block in blocks { try Self.insert(block, into: db) }
            for service in services {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO log_service (name, term) VALUES (?, ?)", arguments: [service, LogTerm.service(service)])
            }
        }
        return rejections
    }

    /// The resource's `service.name` as a string, or `unknown_service` as the SDKs name a service without one.
    static func serviceName(of attributes: [Opentelemetry_Proto_Common_V1_KeyValue]) -> String {
        guard let value = attributes.first(where: { $0.key == "service.name" })?.value, case .stringValue(let name) = value.value
        else { return "unknown_service" }
        return name
    }

    struct EncodedLogBlock {
        var minimumTime: UInt64
        var maximumTime: UInt64
        var maximumSeverity: Int
        var recordCount: Int
        var traceIDs: Set<[UInt8]>
        /// Sorted, each once: the tag and service terms, and the word terms when ``wordsIndexed``.
        var terms: [Int64]
        /// False when the block's words are too many to index (a search for words then reads the block).
        var wordsIndexed: Bool
        var decodedSize: Int
        var deflated: [UInt8]
    }

    /// Sorts records by time and cuts them into blocks (same hour, at most ``maximumRecordsPerBlock``).
    static func encodeLogBlocks(_ records: [IngestLogRecord]) -> [EncodedLogBlock] {
        let sorted = records.sorted { $0.time < $1.time }
        var blocks: [EncodedLogBlock] = []
        var start = 0
        while start < sorted.count {
            let hour = sorted[start].time / blockTimeSpanNanoseconds
            var end = start + 1
            while end < sorted.count, end - start < maximumRecordsPerBlock, sorted[end].time / blockTimeSpanNanoseconds == hour {
                end += 1
            }
            let blockRecords = sorted[start..<end]
            var encoded = ByteBuffer(bytes: ReceivedRequestAssembler.regrouping(blockRecords.map(\.bytes)))
            let decodedSize = encoded.readableBytes
            let deflated =
                (try? encoded.compress(with: .deflate(configuration: .init(compressionLevel: 1))))
                .map { Array($0.readableBytesView) } ?? []
            // Sorted and deduplicated in place: cheaper than hashing every term into a set.
            func sortedUnique(_ terms: [Int64]) -> [Int64] {
                var terms = terms
                terms.sort()
                return terms.indices.compactMap { index in index == 0 || terms[index] != terms[index - 1] ? terms[index] : nil }
            }
            let words = sortedUnique(blockRecords.flatMap(\.words.terms))
            let wordsIndexed = words.count <= LogTerm.maximumWordsPerBlock && blockRecords.allSatisfy(\.words.isComplete)
            let terms = sortedUnique(blockRecords.flatMap(\.terms) + (wordsIndexed ? words : []))
            blocks.append(
                EncodedLogBlock(
                    minimumTime: blockRecords.first!.time, maximumTime: blockRecords.last!.time,
                    maximumSeverity: blockRecords.map(\.severity).max() ?? 0, recordCount: blockRecords.count,
                    traceIDs: Set(blockRecords.compactMap(\.traceID)), terms: terms, wordsIndexed: wordsIndexed, decodedSize: decodedSize,
                    deflated: deflated))
            start = end
        }
        return blocks
    }

    static func insert(_ block: EncodedLogBlock, into db: Database) throws {
        try db.execute(
            sql: "INSERT INTO log_block (id, minTime, maxTime, maxSeverity, recordCount, decodedSize, deflated, wordsIndexed) VALUES ("
                + nextBlockIDExpression(.logs) + ", ?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                Int64(clamping: block.minimumTime), Int64(clamping: block.maximumTime), block.maximumSeverity, block.recordCount,
                block.decodedSize, Data(block.deflated), block.wordsIndexed ? 1 : 0,
            ])
        let blockID = db.lastInsertedRowID
        let segment = Self.segment(ofBlock: blockID)
        try insertRows(
            "INSERT OR IGNORE INTO log_trace_block (segment, traceID, blockID) VALUES ", columns: 3,
            values: block.traceIDs.sorted { $0.lexicographicallyPrecedes($1) }.flatMap {
                [.integer(segment), .blob($0), .integer(blockID)]
            }, db)
        try insertRows(
            "INSERT OR IGNORE INTO log_term_block (segment, term, blockID) VALUES ", columns: 3,
            values: block.terms.flatMap { [.integer(segment), .integer($0), .integer(blockID)] }, db)
    }
}

/// The log index's terms: 64-bit hashes (``SearchTerm``) of a service, an attribute key and value, or a word, each
/// kind with its own prefix so that they never meet.
enum LogTerm {
    static func service(_ name: String) -> Int64 { SearchTerm.hash(service: "\u{1}service", key: name, value: "") }
    static func tag(_ key: String, _ value: String) -> Int64 { SearchTerm.hash(service: "\u{1}tag", key: key, value: value) }
    static func word(_ word: String) -> Int64 { SearchTerm.hash(service: "\u{1}word", key: word, value: "") }

    /// The word term of `bytes` (a word's lowercased UTF-8), equal to ``word(_:)`` of the same text without making it.
    static func word(bytes: some Sequence<UInt8>) -> Int64 {
        var hasher = wordPrefix
        hasher.mix(bytes)
        hasher.mix(EmptyCollection())
        return hasher.value
    }

    private static let wordPrefix: SearchTerm.Hasher = {
        var hasher = SearchTerm.Hasher()
        hasher.mix("\u{1}word".utf8)
        return hasher
    }()

    /// The record's attribute terms (key and value).
    static func tags(of record: OTLPLogRecord) -> [Int64] {
        record.attributes.map { tag($0.key, text($0.value)) }
    }

    /// The words of a record's body and attribute values that the index holds.
    struct Words {
        var terms: [Int64] = []
        /// False when a text was longer than ``maximumIndexedTextBytes``: its later words are not among `terms`.
        var isComplete = true
    }

    /// Words are indexed from at most this much of each text (a 60 MB body would otherwise cost minutes and
    /// hundreds of MB of index); the block of a longer one is read by every word search instead.
    static let maximumIndexedTextBytes = 16 << 10
    /// Distinct words a block's index holds at most; a block with more is read by every word search instead.
    static let maximumWordsPerBlock = 16_384

    static func words(of record: OTLPLogRecord) -> Words {
        var words = Words()
        func add(_ text: String) {
            if text.utf8.count > maximumIndexedTextBytes {
                words.isComplete = false
                return
            }
            LogWords.forEachWord(in: text) { words.terms.append(word(bytes: $0)) }
        }
        for attribute in record.attributes { add(text(attribute.value)) }
        add(text(record.body))
        return words
    }

    /// A value's text as searches compare it: strings as they are (without building a `LogValue`).
    static func text(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> String {
        if case .stringValue(let string) = value.value { return string }
        return OTLPLogsMapping.logValue(value).text
    }
}
