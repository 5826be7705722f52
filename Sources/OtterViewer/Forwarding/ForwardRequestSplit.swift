import OtterOTLP
import SwiftProtobuf

/// Halves of an OTLP export request, for an upstream that refuses one as too large (HTTP 413, gRPC RESOURCE_EXHAUSTED
/// without a retry delay, or a message over its receive limit): each half keeps the resource and scope of its items.
enum ForwardRequestSplit {
    /// The first and second half of `request` (protobuf) by item (span or log record), with their item counts; nil
    /// when it holds fewer than two items or cannot be read.
    static func halves(_ request: [UInt8], signal: ForwardedSignal) -> [(bytes: [UInt8], itemCount: Int)]? {
        switch signal {
        case .spans:
            guard let decoded = try? OTLPExportTraceServiceRequest(serializedBytes: request) else { return nil }
            let count = decoded.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
            guard count >= 2 else { return nil }
            return [0..<count / 2, count / 2..<count].compactMap { range in
                var part = decoded
                var index = 0
                for resource in part.resourceSpans.indices {
                    for scope in part.resourceSpans[resource].scopeSpans.indices {
                        let spans = part.resourceSpans[resource].scopeSpans[scope].spans
                        let kept = range.clamped(to: index..<index + spans.count)
                        part.resourceSpans[resource].scopeSpans[scope].spans = Array(
                            spans[(kept.lowerBound - index)..<(kept.upperBound - index)])
                        index += spans.count
                    }
                    part.resourceSpans[resource].scopeSpans.removeAll { $0.spans.isEmpty }
                }
                part.resourceSpans.removeAll { $0.scopeSpans.isEmpty }
                return (try? part.serializedBytes() as [UInt8]).map { ($0, range.count) }
            }
        case .logs:
            guard let decoded = try? OTLPExportLogsServiceRequest(serializedBytes: request) else { return nil }
            let count = decoded.resourceLogs.reduce(0) { $0 + $1.scopeLogs.reduce(0) { $0 + $1.logRecords.count } }
            guard count >= 2 else { return nil }
            return [0..<count / 2, count / 2..<count].compactMap { range in
                var part = decoded
                var index = 0
                for resource in part.resourceLogs.indices {
                    for scope in part.resourceLogs[resource].scopeLogs.indices {
                        let records = part.resourceLogs[resource].scopeLogs[scope].logRecords
                        let kept = range.clamped(to: index..<index + records.count)
                        part.resourceLogs[resource].scopeLogs[scope].logRecords = Array(
                            records[(kept.lowerBound - index)..<(kept.upperBound - index)])
                        index += records.count
                    }
                    part.resourceLogs[resource].scopeLogs.removeAll { $0.logRecords.isEmpty }
                }
                part.resourceLogs.removeAll { $0.scopeLogs.isEmpty }
                return (try? part.serializedBytes() as [UInt8]).map { ($0, range.count) }
            }
        }
    }

    /// Whether the upstream refused the request for its size, so that halves may pass.
    static func isTooLarge(_ error: OTLPExportError) -> Bool {
        switch error {
        case .requestTooLarge: true
        case .rejected(let status, _): status == 413
        case .rejectedRPC(let code, _): code.lowercased().contains("resourceexhausted") || code.lowercased().contains("resource exhausted")
        case .gaveUp: false
        }
    }
}
