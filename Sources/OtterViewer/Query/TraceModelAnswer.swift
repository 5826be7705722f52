import Foundation
import Hummingbird
import NIOCore
import Otter
import Synchronization

/// The explorer's trace models (``TraceModel``) as JSON answers written a thousand spans at a time. A model's JSON is
/// about as big as its trace, and encoding one whole holds that JSON, and the encoder's tree of it, at once: a
/// 90,000-span upload cost hundreds of megabytes that way. The bytes are the same as `HTTPAnswer.json(model)`'s.
enum TraceModelAnswer {
    /// How many spans are encoded at once.
    static let spansPerChunk = 1_000

    /// One model: `/api/otter/traces/{id}`.
    static func json(_ model: TraceModel) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                try await write(model) { try await writer.write($0) }
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
                try await writer.write(ByteBuffer(string: #"{"traces":["#))
                var separator = ""
                while let spans = pending.next() {
                    guard let model = TraceModel(spans: spans, colors: colors) else { continue }
                    try await writer.write(ByteBuffer(string: separator))
                    try await write(model) { try await writer.write($0) }
                    separator = ","
                }
                try await writer.write(ByteBuffer(string: "]}"))
                try await writer.finish(nil)
            })
    }

    /// `model`'s JSON, keys in the order the sorted encoder writes them, its spans a chunk at a time.
    static func write(_ model: TraceModel, to write: (ByteBuffer) async throws -> Void) async throws {
        func member(_ key: String, _ value: some Encodable) throws -> String {
            #""\#(key)":"# + String(decoding: try HTTPAnswer.encoded(value), as: UTF8.self)
        }
        let head = try [
            member("durationMicros", model.durationMicros), member("rootName", model.rootName),
            member("rootService", model.rootService), member("services", model.services),
        ]
        try await write(ByteBuffer(string: "{" + head.joined(separator: ",") + #","spans":["#))
        var start = 0
        while start < model.encodedSpanCount {
            let end = min(start + spansPerChunk, model.encodedSpanCount)
            let chunk = try HTTPAnswer.encoded((start..<end).map(model.span(at:)))
            // The chunk's own brackets: its spans join the others in one array.
            var buffer = ByteBuffer(string: start == 0 ? "" : ",")
            buffer.writeBytes(chunk.dropFirst().dropLast())
            try await write(buffer)
            start = end
        }
        let tail = try [
            member("startTimeUnixMicros", model.startTimeUnixMicros), member("statistics", model.statistics),
            member("traceID", model.traceID),
        ]
        try await write(ByteBuffer(string: "]," + tail.joined(separator: ",") + "}"))
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
