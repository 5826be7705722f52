import OtterOTLP

/// One span (or log record: the framing of `ExportLogsServiceRequest` is the same) of a received OTLP protobuf request
/// as the bytes it arrived in: the item, and its resource, schema URL and instrumentation scope. A block made of these
/// is the received bytes regrouped, not the items encoded again.
struct ReceivedSpanBytes: Sendable {
    var span: ArraySlice<UInt8>
    var resource: ArraySlice<UInt8>?
    var schemaURL: ArraySlice<UInt8>?
    var scope: ArraySlice<UInt8>?

    /// Every span of an `ExportTraceServiceRequest`'s bytes, in the order a decoder reads them (the order of
    /// `OTLPReading.forEachSpan`). Nil when the bytes cannot be split so that each piece decodes as the decoded request
    /// has it: malformed bytes, or a resource, schema URL or scope given twice, which protobuf merges.
    static func split(_ bytes: [UInt8]) -> [ReceivedSpanBytes]? {
        typealias Reader = SpanBlockScanner.Reader
        func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { bytes[range] }
        var spans: [ReceivedSpanBytes] = []
        var request = Reader(bytes, 0..<bytes.count)
        do {
            while !request.isAtEnd {
                let (field, wireType) = try request.field()
                guard field == 1, wireType == 2 else {
                    try request.skip(wireType)
                    continue
                }
                var resourceSpans = Reader(bytes, try request.lengthDelimited())
                var resource: ArraySlice<UInt8>?
                var schemaURL: ArraySlice<UInt8>?
                var scopeSpansRanges: [Range<Int>] = []
                while !resourceSpans.isAtEnd {
                    let (field, wireType) = try resourceSpans.field()
                    switch (field, wireType) {
                    case (1, 2):
                        guard resource == nil else { return nil }
                        resource = slice(try resourceSpans.lengthDelimited())
                    case (3, 2):
                        guard schemaURL == nil else { return nil }
                        schemaURL = slice(try resourceSpans.lengthDelimited())
                    case (2, 2): scopeSpansRanges.append(try resourceSpans.lengthDelimited())
                    default: try resourceSpans.skip(wireType)
                    }
                }
                for range in scopeSpansRanges {
                    var scopeSpans = Reader(bytes, range)
                    var scope: ArraySlice<UInt8>?
                    var spanRanges: [Range<Int>] = []
                    while !scopeSpans.isAtEnd {
                        let (field, wireType) = try scopeSpans.field()
                        switch (field, wireType) {
                        case (1, 2):
                            guard scope == nil else { return nil }
                            scope = slice(try scopeSpans.lengthDelimited())
                        case (2, 2): spanRanges.append(try scopeSpans.lengthDelimited())
                        default: try scopeSpans.skip(wireType)
                        }
                    }
                    for range in spanRanges {
                        spans.append(ReceivedSpanBytes(span: slice(range), resource: resource, schemaURL: schemaURL, scope: scope))
                    }
                }
            }
        } catch {
            return nil
        }
        return spans
    }
}

/// Regroups received spans into one `ExportTraceServiceRequest`: spans with the same resource bytes and schema URL
/// share a `ResourceSpans`, and within it spans with the same scope bytes a `ScopeSpans`, in first-seen order (as
/// ``OTLPGrouping`` groups every form of spans). Only length prefixes are written; every other byte is copied.
struct ReceivedRequestAssembler {
    private struct ResourceKey: Hashable {
        var resource: ArraySlice<UInt8>?
        var schemaURL: ArraySlice<UInt8>?
    }

    /// The request of `spans`, regrouped.
    static func regrouping(_ spans: [ReceivedSpanBytes]) -> [UInt8] {
        var assembler = ReceivedRequestAssembler()
        for span in spans { assembler.append(span) }
        return assembler.bytes
    }

    private var grouping = OTLPGrouping<ResourceKey, ArraySlice<UInt8>?, ArraySlice<UInt8>>()

    mutating func append(_ received: ReceivedSpanBytes) {
        grouping.append(
            received.span, resource: ResourceKey(resource: received.resource, schemaURL: received.schemaURL), scope: received.scope)
    }

    /// The request's protobuf encoding.
    var bytes: [UInt8] {
        var writer = ProtobufWriter()
        for group in grouping.resources {
            let scopeSizes = group.scopes.map { scope in
                scope.items.reduce((scope.scope?.count).map { ProtobufWriter.lengthDelimitedSize(1, $0) } ?? 0) {
                    $0 + ProtobufWriter.lengthDelimitedSize(2, $1.count)
                }
            }
            var resourceSpansSize = scopeSizes.reduce(0) { $0 + ProtobufWriter.lengthDelimitedSize(2, $1) }
            if let resource = group.resource.resource { resourceSpansSize += ProtobufWriter.lengthDelimitedSize(1, resource.count) }
            if let schemaURL = group.resource.schemaURL { resourceSpansSize += ProtobufWriter.lengthDelimitedSize(3, schemaURL.count) }
            writer.lengthDelimitedHeader(1, resourceSpansSize)
            if let resource = group.resource.resource {
                writer.lengthDelimitedHeader(1, resource.count)
                writer.bytes += resource
            }
            for (scope, size) in zip(group.scopes, scopeSizes) {
                writer.lengthDelimitedHeader(2, size)
                if let header = scope.scope {
                    writer.lengthDelimitedHeader(1, header.count)
                    writer.bytes += header
                }
                for span in scope.items {
                    writer.lengthDelimitedHeader(2, span.count)
                    writer.bytes += span
                }
            }
            if let schemaURL = group.resource.schemaURL {
                writer.lengthDelimitedHeader(3, schemaURL.count)
                writer.bytes += schemaURL
            }
        }
        return writer.bytes
    }
}
