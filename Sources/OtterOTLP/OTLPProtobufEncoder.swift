import Otter
import Tracing

/// Writes an OTLP `ExportTraceServiceRequest` in the protobuf wire format straight from ``FinishedSpan``s,
/// without building swift-protobuf messages first (which costs dozens of allocations per span). The bytes are
/// the same message ``OTLPMapping/request(for:)`` describes: spans grouped by resource, then by scope.
package enum OTLPProtobufEncoder {
    package static func encode(_ spans: [FinishedSpan]) -> [UInt8] {
        var groups: [(resource: Resource, scopes: [(scope: InstrumentationScope, spans: [Int])])] = []
        for (index, span) in spans.enumerated() {
            let groupIndex: Int
            if let last = groups.indices.last, groups[last].resource == span.resource {
                groupIndex = last
            } else if let found = groups.firstIndex(where: { $0.resource == span.resource }) {
                groupIndex = found
            } else {
                groups.append((span.resource, []))
                groupIndex = groups.count - 1
            }
            if let scopeIndex = groups[groupIndex].scopes.firstIndex(where: { $0.scope == span.instrumentationScope }) {
                groups[groupIndex].scopes[scopeIndex].spans.append(index)
            } else {
                groups[groupIndex].scopes.append((span.instrumentationScope, [index]))
            }
        }

        var writer = ProtobufWriter()
        writer.bytes.reserveCapacity(spans.count * 300 + 1024)
        for group in groups {
            let resourceSize = attributesSize(group.resource.attributes, field: 1)
            var scopeSizes: [Int] = []
            var spanSizes: [[Int]] = []
            var resourceSpansSize = ProtobufWriter.lengthDelimitedSize(1, resourceSize)
            for scope in group.scopes {
                let sizes = scope.spans.map { spanSize(spans[$0]) }
                let scopeMessageSize =
                    ProtobufWriter.stringSize(1, scope.scope.name)
                    + ProtobufWriter.stringSize(2, scope.scope.version ?? "")
                var scopeSpansSize = ProtobufWriter.lengthDelimitedSize(1, scopeMessageSize)
                for size in sizes { scopeSpansSize += ProtobufWriter.lengthDelimitedSize(2, size) }
                scopeSizes.append(scopeSpansSize)
                spanSizes.append(sizes)
                resourceSpansSize += ProtobufWriter.lengthDelimitedSize(2, scopeSpansSize)
            }
            resourceSpansSize += ProtobufWriter.stringSize(3, group.resource.schemaURL ?? "")

            writer.lengthDelimitedHeader(1, resourceSpansSize)
            writer.lengthDelimitedHeader(1, resourceSize)
            writeAttributes(group.resource.attributes, field: 1, into: &writer)
            for (scopeIndex, scope) in group.scopes.enumerated() {
                writer.lengthDelimitedHeader(2, scopeSizes[scopeIndex])
                writer.lengthDelimitedHeader(
                    1, ProtobufWriter.stringSize(1, scope.scope.name) + ProtobufWriter.stringSize(2, scope.scope.version ?? ""))
                writer.string(1, scope.scope.name)
                writer.string(2, scope.scope.version ?? "")
                for (position, spanIndex) in scope.spans.enumerated() {
                    writer.lengthDelimitedHeader(2, spanSizes[scopeIndex][position])
                    writeSpan(spans[spanIndex], into: &writer)
                }
            }
            writer.string(3, group.resource.schemaURL ?? "")
        }
        return writer.bytes
    }

    // MARK: Span

    private static func spanFlags(_ span: FinishedSpan) -> UInt32 {
        var flags = UInt32(span.spanContext.traceFlags.rawValue) | OTLPMapping.hasIsRemoteFlag
        if span.parentSpanContext?.isRemote == true { flags |= OTLPMapping.isRemoteFlag }
        return flags
    }

    private static func spanSize(_ span: FinishedSpan) -> Int {
        var size = ProtobufWriter.lengthDelimitedSize(1, 16) + ProtobufWriter.lengthDelimitedSize(2, 8)
        size += ProtobufWriter.stringSize(3, span.spanContext.traceState.isEmpty ? "" : span.spanContext.traceState.headerValue)
        if span.parentSpanContext != nil { size += ProtobufWriter.lengthDelimitedSize(4, 8) }
        size += ProtobufWriter.stringSize(5, span.operationName)
        size += 1 + 1  // kind: tag and a one-byte value
        size += ProtobufWriter.fixed64FieldSize(span.startTimeNanosecondsSinceEpoch)
        size += ProtobufWriter.fixed64FieldSize(span.endTimeNanosecondsSinceEpoch)
        size += attributesSize(span.attributes, field: 9)
        size += ProtobufWriter.varintFieldSize(10, UInt64(span.droppedAttributesCount))
        for event in span.events { size += ProtobufWriter.lengthDelimitedSize(11, eventSize(event)) }
        size += ProtobufWriter.varintFieldSize(12, UInt64(span.droppedEventsCount))
        for link in span.links { size += ProtobufWriter.lengthDelimitedSize(13, linkSize(link)) }
        size += ProtobufWriter.varintFieldSize(14, UInt64(span.droppedLinksCount))
        let status = statusSize(span.status)
        if status > 0 { size += ProtobufWriter.lengthDelimitedSize(15, status) }
        size += 2 + 4  // flags: two-byte tag (field 16), fixed32
        return size
    }

    private static func writeSpan(_ span: FinishedSpan, into writer: inout ProtobufWriter) {
        writer.traceID(1, span.spanContext.traceID)
        writer.spanID(2, span.spanContext.spanID)
        writer.string(3, span.spanContext.traceState.isEmpty ? "" : span.spanContext.traceState.headerValue)
        if let parent = span.parentSpanContext { writer.spanID(4, parent.spanID) }
        writer.string(5, span.operationName)
        writer.varintField(6, UInt64(OTLPMapping.kind(span.kind).rawValue))
        writer.fixed64(7, span.startTimeNanosecondsSinceEpoch)
        writer.fixed64(8, span.endTimeNanosecondsSinceEpoch)
        writeAttributes(span.attributes, field: 9, into: &writer)
        writer.varintField(10, UInt64(span.droppedAttributesCount))
        for event in span.events {
            writer.lengthDelimitedHeader(11, eventSize(event))
            writer.fixed64(1, event.nanosecondsSinceEpoch)
            writer.string(2, event.name)
            writeAttributes(event.attributes, field: 3, into: &writer)
        }
        writer.varintField(12, UInt64(span.droppedEventsCount))
        for link in span.links {
            writer.lengthDelimitedHeader(13, linkSize(link))
            writer.traceID(1, link.spanContext.traceID)
            writer.spanID(2, link.spanContext.spanID)
            writer.string(3, link.spanContext.traceState.isEmpty ? "" : link.spanContext.traceState.headerValue)
            writeAttributes(link.attributes, field: 4, into: &writer)
            writer.varintField(5, UInt64(link.droppedAttributesCount))
            writer.fixed32(6, linkFlags(link))
        }
        writer.varintField(14, UInt64(span.droppedLinksCount))
        let status = statusSize(span.status)
        if status > 0, let spanStatus = span.status {
            writer.lengthDelimitedHeader(15, status)
            writer.string(2, spanStatus.message ?? "")
            writer.varintField(3, spanStatus.code == .ok ? 1 : 2)
        }
        writer.fixed32(16, spanFlags(span))
    }

    private static func eventSize(_ event: SpanEvent) -> Int {
        ProtobufWriter.fixed64FieldSize(event.nanosecondsSinceEpoch) + ProtobufWriter.stringSize(2, event.name)
            + attributesSize(event.attributes, field: 3)
    }

    private static func linkFlags(_ link: FinishedSpan.Link) -> UInt32 {
        UInt32(link.spanContext.traceFlags.rawValue) | OTLPMapping.hasIsRemoteFlag
            | (link.spanContext.isRemote ? OTLPMapping.isRemoteFlag : 0)
    }

    private static func linkSize(_ link: FinishedSpan.Link) -> Int {
        ProtobufWriter.lengthDelimitedSize(1, 16) + ProtobufWriter.lengthDelimitedSize(2, 8)
            + ProtobufWriter.stringSize(3, link.spanContext.traceState.isEmpty ? "" : link.spanContext.traceState.headerValue)
            + attributesSize(link.attributes, field: 4)
            + ProtobufWriter.varintFieldSize(5, UInt64(link.droppedAttributesCount)) + (1 + 4)
    }

    private static func statusSize(_ status: SpanStatus?) -> Int {
        guard let status else { return 0 }
        return ProtobufWriter.stringSize(2, status.message ?? "") + 2
    }

    // MARK: Attributes

    private static func attributesSize(_ attributes: SpanAttributes, field: Int) -> Int {
        var size = 0
        attributes.forEach { key, value in
            let valueSize = anyValueSize(value)
            guard valueSize >= 0 else { return }
            size += ProtobufWriter.lengthDelimitedSize(field, keyValueSize(key, valueSize))
        }
        return size
    }

    private static func keyValueSize(_ key: String, _ valueSize: Int) -> Int {
        ProtobufWriter.stringSize(1, key) + ProtobufWriter.lengthDelimitedSize(2, valueSize)
    }

    private static func writeAttributes(_ attributes: SpanAttributes, field: Int, into writer: inout ProtobufWriter) {
        attributes.forEach { key, value in
            let valueSize = anyValueSize(value)
            guard valueSize >= 0 else { return }
            writer.lengthDelimitedHeader(field, keyValueSize(key, valueSize))
            writer.string(1, key)
            writer.lengthDelimitedHeader(2, valueSize)
            writeAnyValue(value, into: &writer)
        }
    }

    /// The encoded size of an `AnyValue`, or -1 for a value OTLP cannot carry.
    private static func anyValueSize(_ value: SpanAttribute) -> Int {
        func arraySize(_ elementSizes: [Int]) -> Int {
            let inner = elementSizes.reduce(0) { $0 + ProtobufWriter.lengthDelimitedSize(1, $1) }
            return ProtobufWriter.lengthDelimitedSize(5, inner)
        }
        switch value {
        case .string(let string): return ProtobufWriter.lengthDelimitedSize(1, string.utf8.count)
        case .stringConvertible(let convertible): return ProtobufWriter.lengthDelimitedSize(1, convertible.description.utf8.count)
        case .bool: return 2
        case .int32(let int): return 1 + ProtobufWriter.varintSize(UInt64(bitPattern: Int64(int)))
        case .int64(let int): return 1 + ProtobufWriter.varintSize(UInt64(bitPattern: int))
        case .double: return 1 + 8
        case .stringArray(let strings): return arraySize(strings.map { ProtobufWriter.lengthDelimitedSize(1, $0.utf8.count) })
        case .stringConvertibleArray(let values):
            return arraySize(values.map { ProtobufWriter.lengthDelimitedSize(1, $0.description.utf8.count) })
        case .boolArray(let bools): return arraySize(bools.map { _ in 2 })
        case .int32Array(let ints): return arraySize(ints.map { 1 + ProtobufWriter.varintSize(UInt64(bitPattern: Int64($0))) })
        case .int64Array(let ints): return arraySize(ints.map { 1 + ProtobufWriter.varintSize(UInt64(bitPattern: $0)) })
        case .doubleArray(let doubles): return arraySize(doubles.map { _ in 9 })
        default: return -1
        }
    }

    private static func writeAnyValue(_ value: SpanAttribute, into writer: inout ProtobufWriter) {
        func writeArray(_ count: Int, sizeOf: (Int) -> Int, write writeElement: (Int, inout ProtobufWriter) -> Void) {
            var inner = 0
            for index in 0..<count { inner += ProtobufWriter.lengthDelimitedSize(1, sizeOf(index)) }
            writer.lengthDelimitedHeader(5, inner)
            for index in 0..<count {
                writer.lengthDelimitedHeader(1, sizeOf(index))
                writeElement(index, &writer)
            }
        }
        switch value {
        case .string(let string): writer.stringAlways(1, string)
        case .stringConvertible(let convertible): writer.stringAlways(1, convertible.description)
        case .bool(let bool): writer.varintFieldAlways(2, bool ? 1 : 0)
        case .int32(let int): writer.varintFieldAlways(3, UInt64(bitPattern: Int64(int)))
        case .int64(let int): writer.varintFieldAlways(3, UInt64(bitPattern: int))
        case .double(let double): writer.fixed64Always(4, double.bitPattern)
        case .stringArray(let strings):
            writeArray(
                strings.count, sizeOf: { ProtobufWriter.lengthDelimitedSize(1, strings[$0].utf8.count) },
                write: { $1.stringAlways(1, strings[$0]) })
        case .stringConvertibleArray(let values):
            let strings = values.map(\.description)
            writeArray(
                strings.count, sizeOf: { ProtobufWriter.lengthDelimitedSize(1, strings[$0].utf8.count) },
                write: { $1.stringAlways(1, strings[$0]) })
        case .boolArray(let bools):
            writeArray(bools.count, sizeOf: { _ in 2 }, write: { $1.varintFieldAlways(2, bools[$0] ? 1 : 0) })
        case .int32Array(let ints):
            writeArray(
                ints.count, sizeOf: { 1 + ProtobufWriter.varintSize(UInt64(bitPattern: Int64(ints[$0]))) },
                write: {
                    $1.varintFieldAlways(3, UInt64(bitPattern: Int64(ints[$0])))
                })
        case .int64Array(let ints):
            writeArray(
                ints.count, sizeOf: { 1 + ProtobufWriter.varintSize(UInt64(bitPattern: ints[$0])) },
                write: {
                    $1.varintFieldAlways(3, UInt64(bitPattern: ints[$0]))
                })
        case .doubleArray(let doubles):
            writeArray(doubles.count, sizeOf: { _ in 9 }, write: { $1.fixed64Always(4, doubles[$0].bitPattern) })
        default:
            break
        }
    }
}

/// Protobuf wire-format primitives. Scalar fields with their default value are omitted, as proto3 does.
package struct ProtobufWriter {
    package var bytes: [UInt8] = []

    package init() {}

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var remaining = value >> 7
        while remaining != 0 {
            size += 1
            remaining >>= 7
        }
        return size
    }

    static func tagSize(_ field: Int) -> Int { varintSize(UInt64(field << 3)) }

    package static func lengthDelimitedSize(_ field: Int, _ length: Int) -> Int {
        tagSize(field) + varintSize(UInt64(length)) + length
    }

    static func stringSize(_ field: Int, _ string: String) -> Int {
        let length = string.utf8.count
        return length == 0 ? 0 : lengthDelimitedSize(field, length)
    }

    /// A fixed64 field with a one-byte tag, omitted when zero.
    static func fixed64FieldSize(_ value: UInt64) -> Int { value == 0 ? 0 : 1 + 8 }

    static func varintFieldSize(_ field: Int, _ value: UInt64) -> Int {
        value == 0 ? 0 : tagSize(field) + varintSize(value)
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    mutating func tag(_ field: Int, _ wireType: Int) { varint(UInt64(field << 3 | wireType)) }

    package mutating func lengthDelimitedHeader(_ field: Int, _ length: Int) {
        tag(field, 2)
        varint(UInt64(length))
    }

    mutating func string(_ field: Int, _ string: String) {
        if string.utf8.isEmpty { return }
        stringAlways(field, string)
    }

    mutating func stringAlways(_ field: Int, _ string: String) {
        lengthDelimitedHeader(field, string.utf8.count)
        bytes.append(contentsOf: string.utf8)
    }

    mutating func varintField(_ field: Int, _ value: UInt64) {
        if value == 0 { return }
        varintFieldAlways(field, value)
    }

    mutating func varintFieldAlways(_ field: Int, _ value: UInt64) {
        tag(field, 0)
        varint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        if value == 0 { return }
        fixed64Always(field, value)
    }

    mutating func fixed64Always(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        if value == 0 { return }
        tag(field, 5)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func bigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func traceID(_ field: Int, _ id: TraceID) {
        lengthDelimitedHeader(field, 16)
        bigEndian(id.high)
        bigEndian(id.low)
    }

    mutating func spanID(_ field: Int, _ id: SpanID) {
        lengthDelimitedHeader(field, 8)
        bigEndian(id.value)
    }
}
