import Foundation
import Otter
import SwiftProtobuf

/// Spans in OTLP form, grouped by resource and instrumentation scope as an OTLP `ExportTraceServiceRequest` holds
/// them: what a trace store writes and reads (the role of the OpenTelemetry Collector's `ptrace.Traces`).
/// Every value OTLP carries survives, including those `FinishedSpan` cannot express (unspecified kinds, flags,
/// byte arrays and nested values).
public struct OTLPTraces: Sendable, Equatable {
    package var request: OTLPExportTraceServiceRequest

    package init(_ request: OTLPExportTraceServiceRequest) {
        self.request = request
    }

    /// No spans.
    public init() {
        request = OTLPExportTraceServiceRequest()
    }

    /// The spans, grouped by resource and then scope in first-seen order.
    public init(_ spans: [FinishedSpan]) {
        request = OTLPMapping.request(for: spans)
    }

    /// Decodes an OTLP/HTTP protobuf body (`application/x-protobuf`), within the default request limits (500,000 messages, nesting 32).
    public init(protobuf bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try OTLPRequestLimits.default.check(protobuf: $0) }
        request = try OTLPExportTraceServiceRequest(serializedBytes: bytes)
    }

    /// Decodes an OTLP/JSON body (`application/json`, hex ids), within the default request limits (500,000 messages, nesting 32).
    public init(json: Data) throws {
        request = try OTLPJSON.decodeRequest(json)
    }

    /// The OTLP protobuf encoding.
    public func protobuf() throws -> [UInt8] {
        try request.serializedBytes()
    }

    /// The OTLP/JSON encoding (hex ids, enum numbers), as exporters send it.
    public func json() -> Data {
        OTLPJSON.encode(request)
    }

    /// The number of spans.
    public var spanCount: Int {
        request.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
    }

    /// The spans that can be read as `FinishedSpan`s (valid trace and span ids), in order.
    public var spans: [FinishedSpan] {
        OTLPMapping.readSpans(from: request).spans
    }
}
