import Foundation
import Hummingbird
import NIOCore
import Otter
import OtterOTLP

/// The answers that hold a whole trace (`/api/traces/{id}` in Jaeger's JSON, `/api/v3/traces/{id}` in OTLP/JSON),
/// written a stored part of the trace at a time (``TraceParts``): a 1,000,000-span trace costs the viewer one part's
/// spans, not the trace's. A part that cannot be read after the answer has begun ends the answer with the spans before
/// it and, in Jaeger's JSON, a warning that says so.
enum WholeTraceAnswer {
    /// Jaeger's `{"data":[{"traceID":…,"spans":[…],"processes":{…},"warnings":…}],…}`; nil when the trace is unknown.
    static func jaeger(_ traceID: TraceID, store: any TraceReader) async throws -> Response? {
        let parts = try await store.traceParts(traceID)
        guard let first = try await parts.next() else { return nil }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                var converter = JaegerTrace.Converter()
                var warnings: [String] = []
                let id = JaegerTrace.jaegerID(Data(traceID.bytes))
                try await writer.write(ByteBuffer(string: #"{"data":[{"traceID":"\#(id)","spans":["#))
                var part: OTLPTraces? = first
                var separator = ""
                while let current = part {
                    let spans = converter.spans(current.request)
                    if !spans.isEmpty {
                        var text = try HTTPAnswer.encoded(spans)
                        // The array's brackets: this part's spans join the others in one array.
                        text = text.dropFirst().dropLast()
                        try await writer.write(ByteBuffer(string: separator + String(decoding: text, as: UTF8.self)))
                        separator = ","
                    }
                    do {
                        part = try await parts.next()
                    } catch {
                        warnings.append("the trace could not be read whole: \(ErrorText.short(error))")
                        part = nil
                    }
                }
                let processes = String(decoding: try HTTPAnswer.encoded(converter.processes), as: UTF8.self)
                let warningText = warnings.isEmpty ? "null" : String(decoding: try HTTPAnswer.encoded(warnings), as: UTF8.self)
                try await writer.write(
                    ByteBuffer(
                        string: #"],"processes":\#(processes),"warnings":\#(warningText)}],"total":0,"limit":0,"offset":0,"errors":null}"#))
                try await writer.finish(nil)
            })
    }

    /// api_v3's `{"result":{"resourceSpans":[…]}}`; nil when the trace is unknown.
    static func otlpJSON(_ traceID: TraceID, store: any TraceReader) async throws -> Response? {
        let parts = try await store.traceParts(traceID)
        guard let first = try await parts.next() else { return nil }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: #"{"result":{"resourceSpans":["#))
                var part: OTLPTraces? = first
                var separator = ""
                while let current = part {
                    try await writer.write(ByteBuffer(string: separator))
                    try await writer.write(ByteBuffer(bytes: resourceSpansElements(current.request)))
                    separator = ","
                    // An unreadable part ends the answer with what was written (api_v3 has no warnings).
                    part = try? await parts.next()
                }
                try await writer.write(ByteBuffer(string: "]}}"))
                try await writer.finish(nil)
            })
    }

    /// The elements of a request's `resourceSpans` array in OTLP/JSON, without the brackets.
    static func resourceSpansElements(_ request: OTLPExportTraceServiceRequest) -> ArraySlice<UInt8> {
        let whole = [UInt8](OTLPJSON.encode(request, omittingDefaults: true))
        let prefix = Array(#"{"resourceSpans":["#.utf8)
        guard whole.starts(with: prefix), whole.count >= prefix.count + 2 else { return [] }
        return whole[prefix.count..<(whole.count - 2)]
    }
}
