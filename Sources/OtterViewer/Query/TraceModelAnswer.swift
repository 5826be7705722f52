import Foundation
import Hummingbird
import NIOCore
import Otter
import Synchronization
import Tracing

/// The explorer's trace models (``TraceModel``) as JSON answers written a thousand spans at a time. A model's JSON is
/// about as big as its trace, and encoding one whole holds that JSON, and the encoder's tree of it, at once: a
/// 90,000-span upload cost hundreds of megabytes that way. The bytes are the same as `HTTPAnswer.json(model)`'s.
enum TraceModelAnswer {
    /// How many spans are encoded at once.
    static let spansPerChunk = 100

    /// One model: `/api/otter/traces/{id}`. `reservation` is held until the answer is written or dropped.
    static func json(_ model: TraceModel, holding reservation: MemoryBudget.Reservation? = nil) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                defer { withExtendedLifetime(reservation) {} }
                var output = Output()
                try await write(model, to: &output) { try await writer.write($0) }
                if let rest = output.rest() { try await writer.write(rest) }
                try await writer.finish(nil)
            })
    }

    /// The models of an uploaded file's traces, `{"traces":[…]}`: each trace's model is made as it is written and its
    /// spans are let go after, so the answer holds one model at a time. Nil when no trace has a span.
    static func uploaded(_ traces: [[FinishedSpan]], colors: [String: String]) -> Response? {
        guard traces.contains(where: { !$0.isEmpty }) else { return nil }
        let pending = PendingTraces(traces)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                var output = Output()
                if let full = output.add(#"{"traces":["#.utf8) { try await writer.write(full) }
                var separator = ""
                while let spans = pending.next() {
                    guard let model = TraceModel(spans: spans, colors: colors) else { continue }
                    if let full = output.add(separator.utf8) { try await writer.write(full) }
                    try await write(model, to: &output) { try await writer.write($0) }
                    separator = ","
                }
                if let full = output.add("]}".utf8) { try await writer.write(full) }
                if let rest = output.rest() { try await writer.write(rest) }
                try await writer.finish(nil)
            })
    }

    /// About what `span` holds in memory, in bytes: its texts and a fixed share for the rest (a model of it holds about
    /// twice as much again while it is written).
    static func estimatedBytes(_ span: FinishedSpan) -> Int {
        func size(_ attributes: SpanAttributes) -> Int {
            var total = 0
            attributes.forEach { key, value in
                total += key.utf8.count + 32
                switch value {
                case .string(let text): total += text.utf8.count
                case .stringArray(let texts): total += texts.reduce(0) { $0 + $1.utf8.count + 16 }
                default: break
                }
            }
            return total
        }
        return 512 + span.operationName.utf8.count + (span.status?.message?.utf8.count ?? 0) + size(span.attributes)
            + span.events.reduce(0) { $0 + 64 + $1.name.utf8.count + size($1.attributes) }
            + span.links.reduce(0) { $0 + 64 + size($1.attributes) }
    }

    /// `model`'s JSON, keys in the order the sorted encoder writes them, its spans a chunk at a time, into `output`;
    /// `send` gets what `output` passes on.
    static func write(_ model: TraceModel, to output: inout Output, send: (ByteBuffer) async throws -> Void) async throws {
        // The keys before "spans" and those after, each group encoded at once (sorted, as the whole model's are).
        struct Head: Encodable {
            var durationMicros: Double
            var rootName: String
            var rootService: String
            var services: [TraceModel.Service]
        }
        struct Tail: Encodable {
            var startTimeUnixMicros: Double
            var statistics: [TraceModel.Statistic]
            var traceID: String
        }
        func put(_ bytes: some Sequence<UInt8>) async throws {
            if let full = output.add(bytes) { try await send(full) }
        }
        let head = try HTTPAnswer.encoded(
            Head(durationMicros: model.durationMicros, rootName: model.rootName, rootService: model.rootService, services: model.services))
        try await put(head.dropLast())
        try await put(#","spans":["#.utf8)
        var start = 0
        while start < model.encodedSpanCount {
            let end = min(start + spansPerChunk, model.encodedSpanCount)
            let chunk = try HTTPAnswer.encoded((start..<end).map(model.span(at:)))
            // The chunk's own brackets: its spans join the others in one array.
            if start > 0 { try await put(",".utf8) }
            try await put(chunk.dropFirst().dropLast())
            start = end
        }
        try await put("],".utf8)
        let tail = try HTTPAnswer.encoded(
            Tail(startTimeUnixMicros: model.startTimeUnixMicros, statistics: model.statistics, traceID: model.traceID))
        try await put(tail.dropFirst())
    }

    /// Bytes on their way to the answer, passed on 256 KB at a time: an upload of 300,000 one-span traces is a few
    /// hundred writes, not a million.
    struct Output {
        private var buffer = ByteBuffer()
        static let flushBytes = 256 << 10

        /// Adds `bytes`; answers what is buffered once it reaches ``flushBytes``, to be sent.
        mutating func add(_ bytes: some Sequence<UInt8>) -> ByteBuffer? {
            buffer.writeBytes(bytes)
            return buffer.readableBytes >= Self.flushBytes ? rest() : nil
        }

        /// What is buffered, to be sent; nil when nothing is.
        mutating func rest() -> ByteBuffer? {
            guard buffer.readableBytes > 0 else { return nil }
            defer { buffer = ByteBuffer() }
            return buffer
        }
    }

    /// An upload's traces not yet written, each let go as it is taken.
    private final class PendingTraces: Sendable {
        private let traces: Mutex<(list: [[FinishedSpan]], next: Int)>

        init(_ traces: [[FinishedSpan]]) {
            self.traces = Mutex((traces, 0))
        }

        func next() -> [FinishedSpan]? {
            traces.withLock { state in
                guard state.next < state.list.count else { return nil }
                defer {
                    state.list[state.next] = []
                    state.next += 1
                }
                return state.list[state.next]
            }
        }
    }
}
