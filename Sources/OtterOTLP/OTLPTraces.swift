import Foundation
import Otter
import SwiftProtobuf

/// Spans in OTLP form, grouped by resource and instrumentation scope as an OTLP `ExportTraceServiceRequest` holds
/// them: what a trace store writes and reads (the role of the OpenTelemetry Collector's `ptrace.Traces`).
/// Every value OTLP carries survives, including those `FinishedSpan` cannot express (unspecified kinds, flags,
/// byte arrays and nested values).
public struct OTLPTraces: Sendable, Equatable {
    package var request: OTLPExportTraceServiceRequest {
        didSet { receivedProtobuf = nil }
    }
    /// The protobuf bytes `request` was decoded from, when it was: a store can keep them as they are instead of
    /// encoding the spans again.
    package private(set) var receivedProtobuf: [UInt8]?

    package init(_ request: OTLPExportTraceServiceRequest, receivedProtobuf: [UInt8]? = nil) {
        self.request = request
        self.receivedProtobuf = receivedProtobuf
    }

    /// Equal when the requests are: the same spans in the same resources and scopes, however they arrived.
    public static func == (lhs: OTLPTraces, rhs: OTLPTraces) -> Bool {
        lhs.request == rhs.request
    }

    /// No spans.
    public init() {
        request = OTLPExportTraceServiceRequest()
        receivedProtobuf = nil
    }

    /// The spans, grouped by resource and then scope in first-seen order.
    public init(_ spans: [FinishedSpan]) {
        request = OTLPMapping.request(for: spans)
        receivedProtobuf = nil
    }

    /// Decodes an OTLP/HTTP protobuf body (`application/x-protobuf`), within the default request limits (500,000 messages, nesting 32).
    public init(protobuf bytes: [UInt8]) throws {
        request = try bytes.withUnsafeBytes { try OTLPRequestLimits.default.decode(protobuf: $0, signal: .traces) }
        receivedProtobuf = bytes
    }

    /// Decodes an OTLP/JSON body (`application/json`, hex ids), within the default request limits (500,000 messages, nesting 32).
    public init(json: Data) throws {
        request = try OTLPJSON.decodeRequest(json)
        receivedProtobuf = nil
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
        OTLPReading.readSpans(from: request).spans
    }

    /// The spans that can be stored (valid trace, span and parent ids), with their resources and scopes as received,
    /// and one message per span refused: what a trace store keeps, and returns for OTLP's `partial_success`. (Links
    /// with invalid ids are kept as received; ``spans`` drops them, as Jaeger does.)
    public func validated() -> (valid: OTLPTraces, rejections: [String]) {
        var builder = OTLPRequestBuilder<Int, Int>()
        var rejections: [String] = []
        for (resourceIndex, resourceSpans) in request.resourceSpans.enumerated() {
            for (scopeIndex, scopeSpans) in resourceSpans.scopeSpans.enumerated() {
                for otlp in scopeSpans.spans {
                    switch OTLPReading.validatedSpan(otlp) {
                    case .success(let span):
                        builder.append(
                            span, resourceKey: resourceIndex, resource: { (resourceSpans.resource, resourceSpans.schemaURL) },
                            scopeKey: scopeIndex, scope: { scopeSpans.scope })
                    case .failure(let invalid):
                        rejections.append(invalid.description)
                    }
                }
            }
        }
        return (OTLPTraces(builder.request), rejections)
    }

    /// The ids of the traces the spans belong to (spans with an invalid trace id left out).
    public var traceIDs: Set<TraceID> {
        var ids: Set<TraceID> = []
        for resourceSpans in request.resourceSpans {
            for scopeSpans in resourceSpans.scopeSpans {
                for span in scopeSpans.spans {
                    if let traceID = TraceID(bytes: span.traceID), traceID.isValid { ids.insert(traceID) }
                }
            }
        }
        return ids
    }

    /// Only the spans of these traces, each under its resource and scope as received.
    public func selecting(traceIDs: Set<TraceID>) -> OTLPTraces {
        var selected = OTLPExportTraceServiceRequest()
        for resourceSpans in request.resourceSpans {
            var kept = resourceSpans
            kept.scopeSpans = resourceSpans.scopeSpans.compactMap { scopeSpans in
                var scope = scopeSpans
                scope.spans = scopeSpans.spans.filter { span in
                    TraceID(bytes: span.traceID).map { traceIDs.contains($0) } ?? false
                }
                return scope.spans.isEmpty ? nil : scope
            }
            if !kept.scopeSpans.isEmpty { selected.resourceSpans.append(kept) }
        }
        return OTLPTraces(selected)
    }

    /// Adds `other`'s spans, with their resources and scopes.
    public mutating func append(_ other: OTLPTraces) {
        request.resourceSpans += other.request.resourceSpans
    }
}
