import GRPCCore
import Otter
import OtterOTLP

/// OTLP/gRPC `TraceService/Export`: stores the request whole, or answers INVALID_ARGUMENT with a message and
/// stores nothing.
public struct OTLPGRPCReceiver: Opentelemetry_Proto_Collector_Trace_V1_TraceService.SimpleServiceProtocol {
    public let store: any TraceStore

    public init(store: any TraceStore) {
        self.store = store
    }

    public func export(
        request: OTLPExportTraceServiceRequest, context: ServerContext
    ) async throws -> OTLPExportTraceServiceResponse {
        let spans: [FinishedSpan]
        do {
            spans = try OTLPMapping.finishedSpans(from: request)
        } catch {
            throw RPCError(code: .invalidArgument, message: "\(error)")
        }
        do {
            try await store.write(spans)
        } catch {
            // UNAVAILABLE is retryable: the exporter keeps the spans and sends them again.
            throw RPCError(code: .unavailable, message: "spans not stored, retry later: \(error)")
        }
        return OTLPExportTraceServiceResponse()
    }
}
