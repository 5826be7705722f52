import AsyncHTTPClient
import Foundation
import Glibc
import NIOCore
import Otter
import Testing
import Tracing

@testable import OtterViewer

/// An uploaded Jaeger file is read in place, a span at a time, and the explorer's models are written a chunk of spans
/// at a time: the same spans and the same bytes as decoding and encoding each whole, without holding either whole.
@Suite("uploads and models read and written a part at a time")
struct TraceUploadTests {
    /// A trace of `count` spans below one root, in two services, with attributes and an event each.
    static func wideTrace(_ count: Int, traceLow: UInt64 = 0x5EED) -> [FinishedSpan] {
        let traceID = TraceID(high: 0x0B16, low: traceLow)
        let start: UInt64 = 1_700_000_000_000_000_000
        return (1...UInt64(count)).map { id in
            FinishedSpan(
                operationName: "op \(id % 7) \"quoted\" [x]}", kind: id == 1 ? .server : .internal,
                spanContext: OtterSpanContext(traceID: traceID, spanID: SpanID(id), traceFlags: .sampled),
                parentSpanContext: id == 1 ? nil : OtterSpanContext(traceID: traceID, spanID: SpanID(1 + id / 50), traceFlags: .sampled),
                startTimeNanosecondsSinceEpoch: start + id * 1_000, endTimeNanosecondsSinceEpoch: start + id * 1_000 + 500,
                attributes: ["i": .int64(Int64(id)), "text": .string("value \\ \(id)")],
                events: [SpanEvent(name: "tick", at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: start + id * 1_000 + 100))],
                resource: Resource(attributes: ["service.name": .string(id % 2 == 0 ? "even" : "odd")]),
                instrumentationScope: InstrumentationScope(name: "upload"))
        }
    }

    /// The Jaeger JSON traces of `spans`, as the viewer's `/api/traces` writes them.
    static func jaegerTraces(_ spans: [FinishedSpan]) async throws -> [JaegerTrace] {
        let store = try SQLiteTraceStore(path: ":memory:")
        try await store.write(spans)
        var ids: [TraceID] = []
        for span in spans where !ids.contains(span.spanContext.traceID) { ids.append(span.spanContext.traceID) }
        return JaegerTrace.traces(from: try await store.traces(ids).request)
    }

    /// What a test compares of a span.
    static func summary(_ span: FinishedSpan) -> String {
        var attributes: [String] = []
        span.attributes.forEach { key, value in attributes.append("\(key)=\(value)") }
        attributes.sort()
        return [
            span.spanContext.traceID.hexString, span.spanContext.spanID.hexString, span.parentSpanContext?.spanID.hexString ?? "-",
            span.operationName, "\(span.kind)", "\(span.startTimeNanosecondsSinceEpoch)", "\(span.endTimeNanosecondsSinceEpoch)",
            span.resource.serviceName ?? "?", attributes.joined(separator: ","), span.events.map(\.name).joined(separator: ","),
        ].joined(separator: " | ")
    }

    /// Each trace of a file decoded whole, the way the viewer read files before.
    static func decodedWhole(_ traces: [JaegerTrace]) throws -> [[String]] {
        try traces.map { trace in try trace.spans.map { summary(try JaegerJSONImport.finishedSpan($0, processes: trace.processes)) } }
    }

    @Test func jaegerFilesReadInPlaceGiveTheSpansOfTheWholeDecodingInEveryForm() async throws {
        let traces = try await Self.jaegerTraces(Self.wideTrace(300) + Self.wideTrace(20, traceLow: 2))
        let expected = try Self.decodedWhole(traces)
        #expect(expected.map(\.count) == [300, 20])
        let encoder = JSONEncoder()
        let list = String(decoding: try encoder.encode(traces), as: UTF8.self)
        let one = String(decoding: try encoder.encode(traces[0]), as: UTF8.self)
        // Processes before spans, escaped keys, white space and an unknown member holding brackets in a string.
        let spans = String(decoding: try encoder.encode(traces[1].spans), as: UTF8.self)
        let processes = String(decoding: try encoder.encode(traces[1].processes), as: UTF8.self)
        let reordered = " {\n \"processes\" : \(processes) , \"note\": \"]}[{\\\"\", \"sp\\u0061ns\"\t:\r\n\(spans) } "
        let forms: [(String, [[String]])] = [
            (#"{"data":\#(list),"total":0,"limit":0,"offset":0,"errors":null}"#, expected),
            (list, expected),
            (one, [expected[0]]),
            (#"{"errors":null,"data":[\#(reordered)]}"#, [expected[1]]),
            (reordered, [expected[1]]),
            (#"{"data":[{"spans":[],"processes":null}]}"#, [[]]),
            // A UTF-8 byte order mark is passed over.
            ("\u{FEFF}" + list, expected),
            // Jaeger's envelope before a trace's own keys, and a key given twice counts the first time, as a JSON
            // decoder reads them.
            (#"{"data":\#(list),"spans":[]}"#, expected),
            (#"{"data":[\#(reordered)],"data":[]}"#, [expected[1]]),
            (#"{"spans":\#(spans),"processes":\#(processes),"spans":[],"processes":{}}"#, [expected[1]]),
        ]
        for (text, want) in forms {
            let read = try JaegerJSONImport.traces(Data(text.utf8))
            #expect(read.map { $0.map(Self.summary) } == want, "\(text.prefix(80))")
        }
    }

    @Test func brokenOrHostileFilesAreRefusedWithWhereAndWhy() throws {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        let cases: [(String, String)] = [
            ("", "the file is empty"),
            (" \n", "the file is empty"),
            ("[1,2", "a trace is not an object"),
            (#"[{"spans":[]},"#, "a trace is not an object"),
            (#"[{"spans":[]}"#, "the array does not end"),
            (#"{"data":null}"#, "\"data\" holds no list of traces"),
            (#"{"total":0}"#, "no \"spans\""),
            ("<html>", "not valid JSON at byte 0"),
            (#"{"data":{"spans":[]}}"#, "\"data\" holds no list of traces"),
            (#"{"data":[{"spans":{}}]}"#, "\"spans\" is not a list"),
            (#"{"data":[{"spans":[{]}]}"#, "unexpected ']'"),
            (#"{"data":[{"spans":[]}]} x"#, "'x' after the document"),
            (#"{"data":[{"spans":["abc]}]}"#, "the string does not end"),
            (#"{"data":[{"spans":[{"spanID":"zz","traceID":"1","startTime":1,"duration":1}]}]}"#, "invalid trace or span id"),
            (#"{"data":[{"spans":[{"spanID":"1","traceID":"1","startTime":"soon","duration":1}]}]}"#, "span 1"),
            (#"{"data":[{"spans":[],"processes":[1]}]}"#, "cannot read its processes"),
            (#"{"sp\u00zz":1}"#, "without four hexadecimal digits"),
            (#"{"sp\uD800":1}"#, "a string with a bad escape"),
            ("[\(deep)]", "a trace is not an object"),
            // Whatever the walk passes over must be JSON too, as a decoder of the whole file would have it.
            (#"{"data":[{"spans":[]}],"junk":tru}"#, "not a JSON value"),
            (#"{"data":[{"spans":[]}],"junk":-abc}"#, "not a JSON value"),
            (#"{"data":[{"spans":[]}],"junk":[1 2]}"#, "unexpected '2'"),
            (#"{"data":[{"spans":[]}],"junk":{"a" "b"}}"#, "unexpected '\"'"),
            (#"{"data":[{"spans":[],"warnings":[,]}]}"#, "unexpected ','"),
            (#"{"data":[{"spans":[],"processes":nul}]}"#, "not a JSON value"),
            (#"{"data":[{"spans":[]}],"junk":01}"#, "not a JSON value"),
            (#"{"data":[{"spans":[]}],"junk":1.}"#, "without digits after '.'"),
            (#"{"data":[{"spans":[]}],"junk":1e}"#, "without exponent digits"),
            (#"{"data":[{"spans":[]}],"junk":"\x"}"#, "an unknown escape"),
            (#"{"data":[{"spans":[]}],"junk":"\u12"}"#, "without four hexadecimal digits"),
            ("{\"data\":[{\"spans\":[]}],\"junk\":\"a\u{01}b\"}", "a control character"),
            (#"{"data":[{"spans":[]}],"junk":[1,2"#, "is never closed"),
            (#"{"data":[{"spans":[]}],"junk":"\"#, "the string does not end"),
            (deep, "a trace is not an object"),
        ]
        let invalidUTF8 = Data(#"{"data":[{"spans":[]}],"j"#.utf8) + Data([0xFF]) + Data(#"nk":1}"#.utf8)
        #expect(throws: JaegerJSONImport.ImportError.self) { try JaegerJSONImport.traces(invalidUTF8) }
        do {
            _ = try JaegerJSONImport.traces(invalidUTF8)
        } catch {
            #expect("\(error)".contains("not UTF-8"), "\(error)")
        }
        for (text, reason) in cases {
            do {
                let traces = try JaegerJSONImport.traces(Data(text.utf8))
                Issue.record("\(text.prefix(60)) was read: \(traces.count) traces")
            } catch let error as JaegerJSONImport.ImportError {
                #expect(error.description.contains(reason), "\(text.prefix(60)): \(error.description)")
            }
        }
    }

    @Test func aModelWrittenInChunksIsTheModelEncodedWhole() async throws {
        let spans = Self.wideTrace(2 * TraceModelAnswer.spansPerChunk + 500)
        let small = Array(spans.prefix(3))
        let models = [try #require(TraceModel(spans: spans)), try #require(TraceModel(spans: small))]
        for model in models {
            let written = try await Self.written(model)
            #expect(written == Array(try HTTPAnswer.encoded(model)))
        }
        // An outlined model's JSON has no spans, written or encoded.
        let store = try SQLiteTraceStore(path: ":memory:")
        try await store.write(spans)
        let outlined = try #require(
            TraceModel(traceID: spans[0].spanContext.traceID, outline: try await store.outline(spans[0].spanContext.traceID)))
        let written = try await Self.written(outlined)
        #expect(written == Array(try HTTPAnswer.encoded(outlined)) && outlined.encodedSpanCount == 0)
    }

    /// The bytes ``TraceModelAnswer`` writes for `model`.
    static func written(_ model: TraceModel) async throws -> [UInt8] {
        var output = TraceModelAnswer.Output()
        var bytes: [UInt8] = []
        try await TraceModelAnswer.write(model, to: &output) { bytes += Array($0.readableBytesView) }
        if let rest = output.rest() { bytes += Array(rest.readableBytesView) }
        return bytes
    }

    @Test func manySmallWritesArePassedOnInQuarterMegabytes() {
        var output = TraceModelAnswer.Output()
        var sent: [Int] = []
        let piece = [UInt8](repeating: 0x78, count: 1_000)
        for _ in 0..<1_000 { if let full = output.add(piece) { sent.append(full.readableBytes) } }
        if let rest = output.rest() { sent.append(rest.readableBytes) }
        #expect(sent.count == 4, "1,000,000 bytes in sends of 262,144 or more: 4 sends, not 1,000")
        #expect(sent.dropLast().allSatisfy { $0 >= TraceModelAnswer.Output.flushBytes } && sent.reduce(0, +) == 1_000_000)
        #expect(output.rest() == nil)
    }

    @Test func theModelEndpointWritesTheWholeModelAndRefusesATraceTooBigForOne() async throws {
        let viewer = try await RunningViewer(maximumModelSpans: 2_500)
        let fits = Self.wideTrace(2_500)
        let tooBig = Self.wideTrace(2_501, traceLow: 7)
        try await viewer.store.write(fits)
        try await viewer.store.write(Array(fits.prefix(100)))  // a retry: read once
        try await viewer.store.write(tooBig)
        let traceID = fits[0].spanContext.traceID
        let answer = try await viewer.html("/api/otter/traces/\(traceID.hexString)")
        let model = try #require(TraceModel(spans: try await viewer.store.trace(traceID), colors: try await viewer.store.serviceColors()))
        let expected = String(decoding: try HTTPAnswer.encoded(model), as: UTF8.self)
        #expect(answer.status == 200 && answer.body == expected)
        let refused = try await viewer.get("/api/otter/traces/\(tooBig[0].spanContext.traceID.hexString)")
        let message = (refused.json["errors"] as? [[String: Any]])?.first?["msg"] as? String ?? ""
        #expect(refused.status == 422 && message.contains("more than 2500 spans") && message.contains("/api/v3/traces/{id}"), "\(message)")
        #expect(try await viewer.get("/api/otter/traces/\(TraceID(high: 1, low: 2).hexString)").status == 404)
        await viewer.stop()
    }

    @Test func modelsBeingWrittenShareOneBudgetThatAStalledReaderHoldsUntilItGoes() async throws {
        // A budget smaller than the big model, which is admitted because nothing else is in flight.
        let viewer = try await RunningViewer(maximumModelSpans: 20_000, modelBudgetBytes: 1 << 20)
        // About 9 MB of JSON: more than the socket buffers between a reader that stops and the viewer can take.
        let big = Self.wideTrace(20_000)
        let small = Self.wideTrace(10, traceLow: 9)
        try await viewer.store.write(big + small)
        let stalled = try await StalledReader.open(
            port: viewer.queryPort, path: "/api/otter/traces/\(big[0].spanContext.traceID.hexString)")
        #expect(stalled.head.hasPrefix("HTTP/1.1 200"), "\(stalled.head)")
        let busy = try await viewer.query("/api/otter/traces/\(small[0].spanContext.traceID.hexString)")
        #expect(busy.status == 503 && busy.body.contains("other models are being written"), "\(busy.status) \(busy.body)")
        #expect(busy.headers["retry-after"] == "1")
        // The page and Jaeger's answers do not share the budget.
        #expect(try await viewer.get("/api/traces/\(small[0].spanContext.traceID.hexString)").status == 200)
        stalled.close()
        // Once the viewer finds the reader gone (its next write fails), the model is let go.
        var status = 0
        for _ in 0..<500 {
            status = try await viewer.query("/api/otter/traces/\(small[0].spanContext.traceID.hexString)").status
            if status == 200 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(status == 200, "the stalled reader's model was let go")
        await viewer.stop()
    }

    /// A client that sends a request, reads the answer's head and then reads nothing more, its receive buffer small.
    struct StalledReader: Sendable {
        let descriptor: Int32
        let head: String

        static func open(port: Int, path: String) async throws -> StalledReader {
            try await withCheckedThrowingContinuation { continuation in
                // A thread of its own: a blocking read on Swift concurrency's pool would starve the viewer under test.
                Thread { continuation.resume(with: Result { try blockingOpen(port: port, path: path) }) }.start()
            }
        }

        private static func blockingOpen(port: Int, path: String) throws -> StalledReader {
            let descriptor = try RawHTTPResponse.connectedSocket(port: port, timeoutSeconds: 120, receiveBufferBytes: 4_096)
            let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1_024)
            while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                received.append(contentsOf: buffer[0..<count])
            }
            let text = String(decoding: received, as: UTF8.self)
            return StalledReader(descriptor: descriptor, head: String(text.prefix { $0 != "\r" }))
        }

        func close() {
            Glibc.close(descriptor)
        }
    }

    @Test func anUploadIsAnsweredAModelAtATime() async throws {
        let viewer = try await RunningViewer()
        let big = Self.wideTrace(2_500)
        let traces = try await Self.jaegerTraces(big + Self.wideTrace(4, traceLow: 3))
        let file = try JSONEncoder().encode(JaegerEnvelope(data: traces, total: 0))
        let (status, body) = try await ViewerUITests.upload(viewer, Array(file))
        #expect(status == 200)
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let models = try #require(answer["traces"] as? [[String: Any]])
        #expect(models.map { ($0["spans"] as? [Any])?.count ?? -1 } == [2_500, 4])
        #expect(
            models.map { $0["traceID"] as? String ?? "" } == [
                big[0].spanContext.traceID.hexString, TraceID(high: 0x0B16, low: 3).hexString,
            ])
        // Byte for byte the models encoded whole, one after the other.
        let whole = try JaegerJSONImport.traces(file).map { try HTTPAnswer.encoded(try #require(TraceModel(spans: $0))) }
        #expect(body == #"{"traces":["# + whole.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",") + "]}")
        let broken = try await ViewerUITests.upload(viewer, Array(#"{"data":[{"spans":[{]}]}"#.utf8))
        #expect(broken.status == 400 && broken.body.contains("not valid JSON at byte"), "\(broken.body)")
        var gzipped = HTTPClientRequest(url: "http://127.0.0.1:\(viewer.queryPort)/api/otter/trace-models")
        gzipped.method = .POST
        gzipped.headers.add(name: "Content-Type", value: "application/json")
        gzipped.headers.add(name: "Content-Encoding", value: "gzip")
        gzipped.body = .bytes(ByteBuffer(bytes: Array(file)))
        let refused = try await HTTPClient.shared.execute(gzipped, timeout: .seconds(30))
        let refusal = String(buffer: try await refused.body.collect(upTo: 1 << 20))
        #expect(refused.status == .unsupportedMediaType && refusal.contains("send the file uncompressed"), "\(refusal)")
        let unlabelled = try await ViewerUITests.upload(viewer, [0x1F, 0x8B, 0x08, 0x00] + Array(file.prefix(100)))
        #expect(unlabelled.status == 415 && unlabelled.body.contains("gzip-compressed"), "\(unlabelled.body)")
        let empty = try await ViewerUITests.upload(viewer, Array(#"{"data":[{"spans":[]}]}"#.utf8))
        #expect(empty.status == 400 && empty.body.contains("the file holds no spans"))
        await viewer.stop()
    }
}
