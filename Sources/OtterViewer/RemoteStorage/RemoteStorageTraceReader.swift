import Foundation
import GRPCCore
import Otter
import OtterOTLP

/// Jaeger's `jaeger.storage.v2.TraceReader` over the viewer's ``TraceReader``: the same store and the same search as
/// the Jaeger HTTP APIs, so Jaeger v2's query service (and Grafana through it) reads what Otter stores.
package struct RemoteStorageTraceReader: Jaeger_Storage_V2_TraceReader.SimpleServiceProtocol {
    /// Trace ids accepted in one `GetTraces` (the search's largest depth).
    static let maximumTraceIDs = JaegerSearch.maximumLimit

    package let store: any TraceReader
    let chunks: TraceChunks

    package init(store: any TraceReader, chunkBudgetBytes: Int = TraceChunks.defaultBudgetBytes) {
        self.store = store
        chunks = TraceChunks(budgetBytes: chunkBudgetBytes)
    }

    package func getTraces(
        request: Jaeger_Storage_V2_GetTracesRequest, response: RPCWriter<Opentelemetry_Proto_Trace_V1_TracesData>, context: ServerContext
    ) async throws {
        guard request.query.count <= Self.maximumTraceIDs else {
            throw RemoteStorageQuery.invalid("at most \(Self.maximumTraceIDs) trace ids in one request, not \(request.query.count)")
        }
        var seen = Set<TraceID>()
        // Validate every id before the first message goes out: a bad request is refused whole.
        let traceIDs = try request.query.enumerated().map { index, parameters in
            try RemoteStorageQuery.traceID(parameters.traceID, "query[\(index)].trace_id")
        }.filter { seen.insert($0).inserted }
        try await send(traceIDs, to: response)
    }

    package func getServices(
        request: Jaeger_Storage_V2_GetServicesRequest, context: ServerContext
    ) async throws
        -> Jaeger_Storage_V2_GetServicesResponse
    {
        var answer = Jaeger_Storage_V2_GetServicesResponse()
        answer.services = try await RemoteStorageQuery.reading { try await store.services() }
        return answer
    }

    package func getOperations(
        request: Jaeger_Storage_V2_GetOperationsRequest, context: ServerContext
    ) async throws
        -> Jaeger_Storage_V2_GetOperationsResponse
    {
        guard !request.service.isEmpty else { throw RemoteStorageQuery.invalid("service is required") }
        var kind: SpanKindName?
        if !request.spanKind.isEmpty {
            guard let named = SpanKindName(rawValue: request.spanKind) else {
                let names = SpanKindName.allCases.map(\.rawValue).joined(separator: ", ")
                throw RemoteStorageQuery.invalid(
                    "span_kind must be one of \(names) or empty, not \(UntrustedValue.quoted(request.spanKind))")
            }
            kind = named
        }
        let operations = try await RemoteStorageQuery.reading { try await store.operationsWithKindNames(service: request.service) }
        var answer = Jaeger_Storage_V2_GetOperationsResponse()
        answer.operations = operations.filter { kind == nil || $0.kind == kind }.map { operation in
            var named = Jaeger_Storage_V2_Operation()
            named.name = operation.name
            named.spanKind = operation.kind.rawValue
            return named
        }
        return answer
    }

    package func findTraces(
        request: Jaeger_Storage_V2_FindTracesRequest, response: RPCWriter<Opentelemetry_Proto_Trace_V1_TracesData>,
        context: ServerContext
    ) async throws {
        let query = try RemoteStorageQuery.traceQuery(request.hasQuery ? request.query : nil)
        try await send(try await RemoteStorageQuery.reading { try await store.findTraceIDs(query) }, to: response)
    }

    package func findTraceIDs(
        request: Jaeger_Storage_V2_FindTraceIDsRequest, context: ServerContext
    ) async throws
        -> Jaeger_Storage_V2_FindTraceIDsResponse
    {
        let summaries = try await summaries(of: request.hasQuery ? request.query : nil)
        var answer = Jaeger_Storage_V2_FindTraceIDsResponse()
        answer.traceIds = summaries.map { summary in
            var found = Jaeger_Storage_V2_FoundTraceID()
            found.traceID = Data(summary.traceID.bytes)
            found.start = RemoteStorageQuery.timestamp(summary.startTimeNanoseconds)
            found.end = RemoteStorageQuery.timestamp(summary.endTimeNanoseconds)
            return found
        }
        return answer
    }

    package func findTraceSummaries(
        request: Jaeger_Storage_V2_FindTraceSummariesRequest, response: RPCWriter<Jaeger_Storage_V2_FindTraceSummariesResponse>,
        context: ServerContext
    ) async throws {
        let summaries = try await summaries(of: request.hasQuery ? request.query : nil)
        var batch = Jaeger_Storage_V2_FindTraceSummariesResponse()
        var batchBytes = 0
        for summary in summaries {
            let message = Self.message(summary)
            let bytes = try TraceChunks.encodedSize(message)
            if batchBytes > 0, batchBytes + bytes > chunks.budgetBytes {
                try await response.write(batch)
                batch = Jaeger_Storage_V2_FindTraceSummariesResponse()
                batchBytes = 0
            }
            batch.summaries.append(message)
            batchBytes += bytes
        }
        if !batch.summaries.isEmpty { try await response.write(batch) }
    }

    /// Streams the traces one after another, each in its own messages; traces no longer stored are left out.
    func send(_ traceIDs: [TraceID], to response: RPCWriter<Opentelemetry_Proto_Trace_V1_TracesData>) async throws {
        for traceID in traceIDs {
            try Task.checkCancellation()
            let trace = try await RemoteStorageQuery.reading { try await store.traces([traceID]) }
            try await chunks.forEach(trace.request) { try await response.write($0) }
        }
    }

    /// What a search's results show of each trace found, in the search's order.
    func summaries(of parameters: Jaeger_Storage_V2_TraceQueryParameters?) async throws -> [TraceSummary] {
        let query = try RemoteStorageQuery.traceQuery(parameters)
        return try await RemoteStorageQuery.reading { try await store.summaries(try await store.findTraceIDs(query)) }
    }

    static func message(_ summary: TraceSummary) -> Jaeger_Storage_V2_TraceSummary {
        var message = Jaeger_Storage_V2_TraceSummary()
        message.traceID = Data(summary.traceID.bytes)
        message.rootServiceName = summary.rootServiceName
        message.rootOperationName = summary.rootOperationName
        message.minStartTimeUnixNano = summary.startTimeNanoseconds
        message.maxEndTimeUnixNano = summary.endTimeNanoseconds
        message.spanCount = Int32(clamping: summary.spanCount)
        message.errorSpanCount = Int32(clamping: summary.errorSpanCount)
        message.orphanSpanCount = Int32(clamping: summary.orphanSpanCount)
        message.services = summary.services.map { service in
            var serviceSummary = Jaeger_Storage_V2_ServiceSummary()
            serviceSummary.name = service.name
            serviceSummary.spanCount = Int32(clamping: service.spanCount)
            serviceSummary.errorSpanCount = Int32(clamping: service.errorSpanCount)
            return serviceSummary
        }
        return message
    }
}
