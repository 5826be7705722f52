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
    package let budget: MemoryBudget

    package init(store: any TraceStore, budget: MemoryBudget = MemoryBudget(limit: 512 << 20)) {
        self.store = store
        self.budget = budget
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

    /// The generated registration, with a deserializer that checks ``OTLPRequestLimits`` and the ingest budget first.
    package func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.Export.descriptor,
            deserializer: LimitedRequestDeserializer<OTLPExportTraceServiceRequest>(limits: .default, signal: .traces, budget: budget),
            serializer: ProtobufSerializer<OTLPExportTraceServiceResponse>(),
            handler: { request, context in
                try await AdmittedRequest.answer(request) { try await self.export(request: $0, context: context) }
            })
    }
}

/// OTLP/gRPC `LogsService/Export`: stores the valid log records and reports the invalid ones (bad ids) in the answer's
/// `partial_success`, with the same limits and statuses as ``OTLPGRPCReceiver``.
package struct OTLPGRPCLogsReceiver: Opentelemetry_Proto_Collector_Logs_V1_LogsService.SimpleServiceProtocol {
    package let store: any LogStore
    package let budget: MemoryBudget

    package init(store: any LogStore, budget: MemoryBudget = MemoryBudget(limit: 512 << 20)) {
        self.store = store
        self.budget = budget
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
            deserializer: LimitedRequestDeserializer<OTLPExportLogsServiceRequest>(limits: .default, signal: .logs, budget: budget),
            serializer: ProtobufSerializer<OTLPExportLogsServiceResponse>(),
            handler: { request, context in
                try await AdmittedRequest.answer(request) { try await self.export(request: $0, context: context) }
            })
    }
}

/// A decoded export request and the share of the ingest budget it holds until it is answered.
struct AdmittedRequest<Request: Sendable>: Sendable {
    var request: Request
    var reservation: MemoryBudget.Reservation

    /// Answers a unary export with `export`, holding the request's reservation until the answer is made.
    static func answer<Response>(
        _ stream: StreamingServerRequest<AdmittedRequest<Request>>, _ export: (Request) async throws -> Response
    ) async throws -> StreamingServerResponse<Response> {
        let admitted = try await ServerRequest(stream: stream).message
        let response = try await export(admitted.request)
        withExtendedLifetime(admitted.reservation) {}
        return StreamingServerResponse(single: ServerResponse(message: response, metadata: [:]))
    }
}

/// Decodes an OTLP export request only after ``OTLPRequestLimits/check(protobuf:signal:)`` passed and the ingest budget
/// had room (a decoded request takes many times its wire size; UNAVAILABLE, which exporters retry, otherwise).
struct LimitedRequestDeserializer<Request: SwiftProtobuf.Message>: MessageDeserializer {
    let limits: OTLPRequestLimits
    let signal: OTLPSignal
    let budget: MemoryBudget

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> AdmittedRequest<Request> {
        try serializedMessageBytes.withUnsafeBytes { bytes in
            guard
                let reservation = budget.reserve(
                    bytes.count.multipliedReportingOverflow(by: MemoryBudget.reservedBytesPerRequestByte).partialValue)
            else {
                throw RPCError(
                    code: .unavailable, message: "the viewer is receiving \(budget.limit >> 20) MB of requests already: retry shortly")
            }
            do {
                try limits.check(protobuf: bytes, signal: signal)
            } catch let exceeded as OTLPRequestLimits.Exceeded {
                throw RPCError(code: .resourceExhausted, message: "request too large: \(exceeded.description)")
            }
            do {
                return AdmittedRequest(request: try limits.decode(Request.self, checkedProtobuf: bytes), reservation: reservation)
            } catch {
                throw RPCError(code: .invalidArgument, message: "malformed OTLP request: \(error)")
            }
        }
    }
}
