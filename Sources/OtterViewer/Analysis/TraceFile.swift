import Foundation
import Otter
import OtterOTLP

/// A file of traces someone uploads or compares: OTLP JSON or Jaeger JSON, read into spans grouped by trace.
enum TraceFile {
    /// The traces of an uploaded file: OTLP JSON (an export request with `resourceSpans`; the viewer's own api_v3
    /// answer, which wraps one in `result`; or the Collector file exporter's JSON Lines, one request per line) or
    /// Jaeger JSON.
    static func traces(_ data: Data) throws -> [[FinishedSpan]] {
        try data.withUnsafeBytes { try traces($0) }
    }

    /// The traces of an uploaded file's bytes (see the `Data` form). Jaeger JSON is read in place.
    static func traces(_ bytes: UnsafeRawBufferPointer) throws -> [[FinishedSpan]] {
        if bytes.firstRange(of: Array(#""resourceSpans""#.utf8)) != nil {
            // Without a UTF-8 byte order mark, which the OTLP JSON decoder refuses.
            let data = Data(bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? UnsafeRawBufferPointer(rebasing: bytes[3...]) : bytes)
            var spans: [FinishedSpan] = []
            for line in Self.otlpDocuments(data) {
                let request: OTLPExportTraceServiceRequest
                do {
                    request = try OTLPJSON.decodeRequest(line)
                } catch {
                    throw JaegerJSONImport.ImportError(description: "cannot read the OTLP JSON: \(ErrorText.short(error))")
                }
                spans += OTLPTraces(request).spans
            }
            var order: [TraceID] = []
            var byTrace: [TraceID: [FinishedSpan]] = [:]
            for span in spans {
                if byTrace[span.spanContext.traceID] == nil { order.append(span.spanContext.traceID) }
                byTrace[span.spanContext.traceID, default: []].append(span)
            }
            return order.compactMap { byTrace[$0] }
        }
        return try JaegerJSONImport.traces(bytes)
    }

    /// The OTLP requests in a file: the whole file, the `result` of an api_v3 answer, or one per line (JSON Lines).
    static func otlpDocuments(_ data: Data) -> [Data] {
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let result = object["result"] as? [String: Any], let unwrapped = try? JSONSerialization.data(withJSONObject: result) {
                return [unwrapped]
            }
            return [data]
        }
        let lines = data.split(separator: UInt8(ascii: "\n")).filter { line in
            line.contains { ![UInt8(ascii: " "), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) }
        }
        return lines.count > 1 ? lines.map { Data($0) } : [data]
    }
}
