import OtterOTLP
import SwiftProtobuf

/// One trace's spans as the `TracesData` messages of a remote storage stream: each holds spans of that trace only,
/// none is empty, and each stays near a byte budget (a span larger than the budget travels alone), so a large trace
/// spans consecutive messages that all fit Jaeger's default 4 MiB receive limit.
struct TraceChunks {
    /// A quarter of gRPC's default 4 MiB receive limit, which Jaeger keeps unless `max_recv_msg_size_mib` is set.
    static let defaultBudgetBytes = 1 << 20

    let budgetBytes: Int

    /// Calls `send` with each message of `trace` (spans of one trace, grouped by resource and scope as stored).
    func forEach(
        _ trace: OTLPExportTraceServiceRequest, _ send: (Opentelemetry_Proto_Trace_V1_TracesData) async throws -> Void
    ) async throws {
        var chunk = Opentelemetry_Proto_Trace_V1_TracesData()
        var chunkBytes = 0
        /// The resource and scope (indexes into `trace`) that the last group of `chunk` holds.
        var open: (resource: Int, scope: Int)?
        for (resourceIndex, resourceSpans) in trace.resourceSpans.enumerated() {
            var bareResource = resourceSpans
            bareResource.scopeSpans = []
            let resourceBytes = try Self.encodedSize(bareResource)
            for (scopeIndex, scopeSpans) in resourceSpans.scopeSpans.enumerated() {
                var bareScope = scopeSpans
                bareScope.spans = []
                let groupBytes = try resourceBytes + Self.encodedSize(bareScope)
                for span in scopeSpans.spans {
                    let spanBytes = try Self.encodedSize(span)
                    let opensGroup = open.map { $0 != (resourceIndex, scopeIndex) } ?? true
                    if chunkBytes > 0, chunkBytes + spanBytes + (opensGroup ? groupBytes : 0) > budgetBytes {
                        try await send(chunk)
                        chunk = Opentelemetry_Proto_Trace_V1_TracesData()
                        chunkBytes = 0
                        open = nil
                    }
                    if open.map({ $0 != (resourceIndex, scopeIndex) }) ?? true {
                        if open?.resource != resourceIndex { chunk.resourceSpans.append(bareResource) }
                        chunk.resourceSpans[chunk.resourceSpans.count - 1].scopeSpans.append(bareScope)
                        chunkBytes += groupBytes
                        open = (resourceIndex, scopeIndex)
                    }
                    let last = chunk.resourceSpans.count - 1
                    chunk.resourceSpans[last].scopeSpans[chunk.resourceSpans[last].scopeSpans.count - 1].spans.append(span)
                    chunkBytes += spanBytes
                }
            }
        }
        if chunkBytes > 0, !chunk.resourceSpans.isEmpty { try await send(chunk) }
    }

    /// A message's size on the wire inside its parent: its bytes plus the field's tag and length (at most 6 bytes).
    static func encodedSize(_ message: some SwiftProtobuf.Message) throws -> Int {
        let bytes: [UInt8] = try message.serializedBytes()
        return bytes.count + 6
    }
}
