import GRPCCore
import GRPCProtobuf
import Otter
import OtterOTLP
import SwiftProtobuf

/// OTLP/gRPC `TraceService/Export`: stores the valid spans and reports the invalid ones (bad ids) in the answer's
/// `partial_success`; a request beyond ``OTLPRequestLimits`` gets RESOURCE_EXHAUSTED before it is decoded, a store
/// failure UNAVAILABLE (retryable).
package struct OTLPGRPCReceiver: Opentelemetry_Proto_Collector_Trace_V1_TraceService.SimpleServiceProtocol {
    package let store: any TraceStore

    package init(store: any TraceStore) {
        self.store = store
    }

    package func export(
        request: OTLPExportTraceServiceRequest, context: ServerContext
    ) async throws -> OTLPExportTraceServiceResponse {
        let rejections: [String]
        do {
            rejections = try await store.write(OTLPTraces(request))
        } catch {
            // UNAVAILABLE is retryable: the exporter keeps the spans and sends them again.
            throw RPCError(code: .unavailable, message: "spans not stored, retry later: \(error)")
        }
        return OTLPExportTraceServiceResponse(rejections: rejections)
    }

    /// The generated registration, with a deserializer that checks ``OTLPRequestLimits`` first.
    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor,
            deserializer: LimitedRequestDeserializer(limits: .default),
            serializer: ProtobufSerializer<OTLPExportTraceServiceResponse>(),
            handler: { request, context in try await self.export(request: request, context: context) })
    }
}

/// Decodes an `ExportTraceServiceRequest` only after ``OTLPRequestLimits/check(protobuf:)`` passed.
struct LimitedRequestDeserializer: MessageDeserializer {
    let limits: OTLPRequestLimits

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> OTLPExportTraceServiceRequest {
        try serializedMessageBytes.withUnsafeBytes { bytes in
            do {
                try limits.check(protobuf: bytes)
            } catch let exceeded as OTLPRequestLimits.Exceeded {
                throw RPCError(code: .resourceExhausted, message: "request too large: \(exceeded.description)")
            }
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = limits.protobufDepthLimit
            do {
                return try OTLPExportTraceServiceRequest(serializedBytes: Array(bytes), options: options)
            } catch {
                throw RPCError(code: .invalidArgument, message: "malformed OTLP request: \(error)")
            }
        }
    }
}
