import Foundation
import NIOCore
import Otter
import OtterOTLP
import SwiftProtobuf

/// What the libFuzzer targets (`Fuzz/OtterFuzz`, `scripts/fuzz.sh`) run: every parser that reads untrusted bytes,
/// end to end as the viewer uses it. Each must return for any input, within bounded memory, without trapping.
package enum FuzzEntryPoints {
    /// An OTLP/HTTP protobuf body: limits, decoding, reading the spans, the Jaeger and OTLP JSON answers built from it.
    package static func otlpProtobuf(_ bytes: UnsafeRawBufferPointer) {
        guard let request = try? OTLPRequestLimits.default.decode(OTLPExportTraceServiceRequest.self, protobuf: bytes) else { return }
        answers(request)
        storedAsReceived(Array(bytes), decoded: request)
    }

    /// Ingest keeps protobuf as received (``ReceivedSpanBytes``): whenever the bytes split, the regrouped block must
    /// decode to the same spans, in the same resources and scopes, as the request did.
    static func storedAsReceived(_ bytes: [UInt8], decoded request: OTLPExportTraceServiceRequest) {
        guard let split = ReceivedSpanBytes.split(bytes) else { return }
        // The store pairs the n-th piece with the n-th decoded span: each piece must decode to that span.
        var decodedSpans: [Opentelemetry_Proto_Trace_V1_Span] = []
        OTLPReading.forEachSpan(in: request) { span, _, _, _ in decodedSpans.append(span) }
        guard split.count == decodedSpans.count,
            zip(split, decodedSpans).allSatisfy({ (try? Opentelemetry_Proto_Trace_V1_Span(serializedBytes: Array($0.span))) == $1 })
        else {
            fatalError("the received bytes split into other spans than the request decodes to: \(bytes)")
        }
        func spans(_ request: OTLPExportTraceServiceRequest) -> [String] {
            request.resourceSpans.flatMap { resourceSpans in
                resourceSpans.scopeSpans.flatMap { scopeSpans in
                    scopeSpans.spans.map { span in
                        "\(resourceSpans.resource.hashValue) \(resourceSpans.schemaURL) \(scopeSpans.scope.hashValue) \(span.hashValue)"
                    }
                }
            }.sorted()
        }
        let block = ReceivedRequestAssembler.regrouping(split)
        guard
            let regrouped = try? block.withUnsafeBytes({
                try OTLPRequestLimits.default.decode(OTLPExportTraceServiceRequest.self, checkedProtobuf: $0)
            }),
            spans(regrouped) == spans(request)
        else {
            fatalError("stored as received, the spans differ from the request's: \(bytes)")
        }
        scannerReadsWhatTheDecoderReads(block, decoded: regrouped)
    }

    /// Searches and summaries read blocks with ``SpanBlockScanner``; the index was built from decoded spans. For the
    /// two to agree, the scanner must read every span's kind, status, service and attributes as a decoder does.
    static func scannerReadsWhatTheDecoderReads(_ block: [UInt8], decoded request: OTLPExportTraceServiceRequest) {
        let scanner = SpanBlockScanner(bytes: block)
        guard let (scanned, origins) = try? scanner.scan() else { fatalError("a regrouped block does not scan: \(block)") }
        var index = 0
        OTLPReading.forEachSpan(in: request) { otlp, _, _, result in
            defer { index += 1 }
            guard index < scanned.count else { fatalError("the scanner finds fewer spans than the decoder: \(block)") }
            let span = scanned[index]
            guard span.kind == otlp.kind.rawValue, span.statusCode == otlp.status.code.rawValue else {
                fatalError("the scanner reads another kind or status than the decoder: \(block)")
            }
            guard case .success(let finished) = result else { return }
            guard (try? scanner.serviceName(origins[span.resourceIndex])) == finished.resource.serviceNameOrUnknown else {
                fatalError("the scanner reads another service name than the decoder: \(block)")
            }
            finished.attributes.forEach { key, value in
                let text = try? scanner.attributeText(Array(key.utf8), in: span.range, attributeField: 9)
                guard text == AttributeText.searchText(value) else {
                    fatalError("the scanner reads attribute \(key) differently from the decoder: \(block)")
                }
            }
        }
    }

    /// An OTLP/HTTP JSON body.
    package static func otlpJSON(_ bytes: UnsafeRawBufferPointer) {
        guard let request = try? OTLPJSON.decodeRequest(Data(bytes)) else { return }
        answers(request)
    }

    /// An OTLP/HTTP logs body, protobuf or (starting with `{`) JSON: limits, decoding, validation, the records as the
    /// SDK's model, the index terms, the OTLP/JSON answer, and the received bytes regrouped as the store keeps them.
    package static func otlpLogs(_ bytes: UnsafeRawBufferPointer) {
        let logs: OTLPLogs
        if bytes.first == UInt8(ascii: "{") {
            guard let decoded = try? OTLPLogs(json: Data(bytes)) else { return }
            logs = decoded
        } else {
            guard let decoded = try? OTLPLogs(protobuf: Array(bytes)) else { return }
            logs = decoded
        }
        let (valid, _) = logs.validated()
        _ = valid.records
        _ = valid.json()
        let matcher = LogMatcher(LogQuery(service: "checkout", minimumSeverity: .info, words: ["order"], tags: [("k", "v")]))
        for resourceLogs in valid.request.resourceLogs {
            let resource = matcher.matches(resource: resourceLogs.resource)
            for scopeLogs in resourceLogs.scopeLogs {
                for record in scopeLogs.logRecords.prefix(1_000) {
                    _ = LogTerm.tags(of: record)
                    _ = LogTerm.words(of: record)
                    _ = matcher.matches(record, resourceTags: resource.tags)
                }
            }
        }
        guard let received = logs.receivedProtobuf, let split = ReceivedSpanBytes.split(received), split.count == logs.recordCount
        else { return }
        guard
            let regrouped = try? ReceivedRequestAssembler.regrouping(split).withUnsafeBytes({
                try OTLPRequestLimits.default.decode(OTLPExportLogsServiceRequest.self, checkedProtobuf: $0)
            }),
            OTLPLogs(regrouped).recordCount == logs.recordCount
        else {
            fatalError("stored as received, the log records differ from the request's: \(received)")
        }
    }

    /// A stored block, as read back after a restart: scanning, service names, attribute lookups, decoding every span.
    package static func blockScanner(_ bytes: UnsafeRawBufferPointer) {
        let scanner = SpanBlockScanner(bytes: Array(bytes))
        guard let (spans, origins) = try? scanner.scan() else { return }
        for origin in origins {
            _ = try? scanner.serviceName(origin)
            _ = try? scanner.resource(origin)
            for index in origin.scopes.indices { _ = try? scanner.scope(origin, index) }
        }
        for span in spans.prefix(1_000) {
            _ = try? scanner.attributeText(Array("http.route".utf8), in: span.range, attributeField: 9)
            _ = scanner.string(span.name)
            if let decoded = try? scanner.decodeSpan(span) {
                var request = OTLPExportTraceServiceRequest()
                request.resourceSpans = [Opentelemetry_Proto_Trace_V1_ResourceSpans()]
                request.resourceSpans[0].scopeSpans = [Opentelemetry_Proto_Trace_V1_ScopeSpans()]
                request.resourceSpans[0].scopeSpans[0].spans = [decoded]
                answers(request)
            }
        }
    }

    /// A query string, given to every parser of request parameters: v1 search, v3 search, dependencies and
    /// metrics parameters, trace ids, durations, sizes, logfmt tags.
    package static func queryParsers(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let parameters = QueryParameters(text)
        _ = try? JaegerSearch.parse(parameters, nowNanoseconds: 1_800_000_000_000_000_000)
        _ = try? JaegerQueryAPIv3.parseSearch(parameters)
        _ = try? JaegerQueryAPI.checkTraceFetchParameters(parameters)
        _ = try? SpanMetricsAPI.metric("latencies", parameters)
        _ = try? LogsAPI.parse(parameters, nowNanoseconds: 1_800_000_000_000_000_000)
        if let query = try? SpanMetricsAPI.query(parameters, nowNanoseconds: 1_800_000_000_000_000_000) {
            _ = SpanMetrics.series(.latencies(quantile: 0.5), query: query, rows: [])
        }
        for name in parameters.names {
            let value = parameters.get(name) ?? ""
            _ = TraceIDText.parse(value)
            _ = TraceIDText.parseError(value)
            _ = try? UntrustedValue.duration(name, value)
            _ = try? UntrustedValue.byteSize(name, value)
            _ = try? UntrustedValue.timestamp(name, value, unitNanoseconds: 1_000_000)
            _ = try? UntrustedValue.interval(name, value, unitNanoseconds: 1_000)
            _ = try? UntrustedValue.integer(name, value, in: 0...10_000)
            _ = try? LogfmtTags.parse(value)
            _ = RFC3339.nanoseconds(value)
        }
    }

    /// Builds every answer the viewer derives from a request, as a read would.
    private static func answers(_ request: OTLPExportTraceServiceRequest) {
        let read = OTLPReading.readSpans(from: request)
        _ = TraceModel(spans: read.spans).map { TracePage($0) }
        _ = TraceSummary(spans: read.spans)
        _ = HTTPAnswer.json(JaegerEnvelope(data: JaegerTrace.traces(from: request), total: 0))
        _ = OTLPJSON.encode(request, omittingDefaults: true)
    }
}
