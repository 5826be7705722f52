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
            deserializer: LimitedRequestDeserializer<OTLPExportTraceServiceRequest>(limits: .default, signal: .traces),
            serializer: ProtobufSerializer<OTLPExportTraceServiceResponse>(),
            handler: { request, context in try await self.export(request: request, context: context) })
    }
}

/// OTLP/gRPC `LogsService/Export`: stores the valid log records and reports the invalid ones (bad ids) in the answer's
/// `partial_success`, with the same limits and statuses as ``OTLPGRPCReceiver``.
package struct OTLPGRPCLogsReceiver: Opentelemetry_Proto_Collector_Logs_V1_LogsService.SimpleServiceProtocol {
    package let store: any LogStore

    package init(store: any LogStore) {
        self.store = store
    }

    package func export(request: OTLPExportLogsServiceRequest, context: ServerContext) async throws -> OTLPExportLogsServiceResponse {
        let rejections: [String]
        do {
            rejections = try await store.write(OTLPLogs(request))
        } catch {
            throw RPCError(code: .unavailable, message: "log records not stored, retry later: \(error)")
        }
        return OTLPExportLogsServiceResponse(rejections: rejections)
    }

    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Opentelemetry_Proto_Collector_Logs_V1_LogsService.Method.Export.descriptor,
            deserializer: LimitedRequestDeserializer<OTLPExportLogsServiceRequest>(limits: .default, signal: .logs),
            serializer: ProtobufSerializer<OTLPExportLogsServiceResponse>(),
            handler: { request, context in try await self.export(request: request, context: context) })
    }
}

/// Decodes an OTLP export request only after ``OTLPRequestLimits/check(protobuf:signal:)`` passed.
struct LimitedRequestDeserializer<Request: SwiftProtobuf.Message>: MessageDeserializer {
    let limits: OTLPRequestLimits
    let signal: OTLPSignal

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Request {
        try serializedMessageBytes.withUnsafeBytes { bytes in
            do {
                try limits.check(protobuf: bytes, signal: signal)
            } catch let exceeded as OTLPRequestLimits.Exceeded {
                throw RPCError(code: .resourceExhausted, message: "request too large: \(exceeded.description)")
            }
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = limits.protobufDepthLimit
            do {
                return try Request(serializedBytes: Array(bytes), options: options)
            } catch {
                throw RPCError(code: .invalidArgument, message: "malformed OTLP request: \(error)")
            }
        }
    }
}
