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
            if try Self.encodedSize(bareResource) > Self.maximumSpanBytes { Self.cutLongValues(&bareResource.resource.attributes) }
            let resourceBytes = try Self.encodedSize(bareResource)
            for (scopeIndex, scopeSpans) in resourceSpans.scopeSpans.enumerated() {
                var bareScope = scopeSpans
                bareScope.spans = []
                let groupBytes = try resourceBytes + Self.encodedSize(bareScope)
                for stored in scopeSpans.spans {
                    let (span, spanBytes) = try Self.fitted(stored)
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

    /// The largest span sent as stored; a larger one has its long values cut (``fitted(_:)``), so that no message
    /// exceeds gRPC's default 4 MiB.
    static let maximumSpanBytes = 3 << 20
    /// What a value longer than this becomes in an oversized span: its first 64 KiB (text), or a note of its size.
    static let cutValueBytes = 64 << 10
    /// The attribute that marks a span whose values were cut.
    static let cutMarker = "otter.remote_storage.truncated"

    /// `span` and its encoded size, if it fits ``maximumSpanBytes``; else a copy with every value over 64 KiB cut and
    /// ``cutMarker`` set, and when even that is too large, without its attributes, events and links (counted as dropped).
    /// The stored span is not changed: Otter's HTTP API returns it whole.
    static func fitted(_ span: Opentelemetry_Proto_Trace_V1_Span) throws -> (Opentelemetry_Proto_Trace_V1_Span, Int) {
        let bytes = try encodedSize(span)
        guard bytes > maximumSpanBytes else { return (span, bytes) }
        var cut = span
        if cut.name.utf8.count > cutValueBytes { cut.name = String(decoding: cut.name.utf8.prefix(cutValueBytes), as: UTF8.self) }
        cutLongValues(&cut.attributes)
        for index in cut.events.indices { cutLongValues(&cut.events[index].attributes) }
        for index in cut.links.indices { cutLongValues(&cut.links[index].attributes) }
        var marker = Opentelemetry_Proto_Common_V1_KeyValue()
        marker.key = cutMarker
        marker.value.stringValue = "values over 64 KiB were cut to fit gRPC's 4 MiB messages; Otter's HTTP API has the span whole"
        cut.attributes.append(marker)
        if try encodedSize(cut) > maximumSpanBytes {
            cut.droppedAttributesCount &+= UInt32(clamping: cut.attributes.count - 1)
            cut.droppedEventsCount &+= UInt32(clamping: cut.events.count)
            cut.droppedLinksCount &+= UInt32(clamping: cut.links.count)
            cut.attributes = [marker]
            cut.events = []
            cut.links = []
        }
        return (cut, try encodedSize(cut))
    }

    /// Cuts each value over ``cutValueBytes``: a string to its first 64 KiB, anything else to a note of its size.
    static func cutLongValues(_ attributes: inout [Opentelemetry_Proto_Common_V1_KeyValue]) {
        for index in attributes.indices {
            guard let size = try? encodedSize(attributes[index].value), size > cutValueBytes else { continue }
            if case .stringValue(let text) = attributes[index].value.value {
                attributes[index].value.stringValue = String(decoding: text.utf8.prefix(cutValueBytes), as: UTF8.self)
            } else {
                attributes[index].value.stringValue = "(a value of \(size) bytes, not sent: over 64 KiB)"
            }
        }
    }

    /// A message's size on the wire inside its parent: its bytes plus the field's tag and length (at most 6 bytes).
    static func encodedSize(_ message: some SwiftProtobuf.Message) throws -> Int {
        let bytes: [UInt8] = try message.serializedBytes()
        return bytes.count + 6
    }
}
