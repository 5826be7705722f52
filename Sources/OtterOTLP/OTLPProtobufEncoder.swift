import Otter
import Tracing

/// Writes an OTLP `ExportTraceServiceRequest` in the protobuf wire format straight from ``FinishedSpan``s,
/// without building swift-protobuf messages first (which costs dozens of allocations per span). The bytes are
/// the same message ``OTLPMapping/request(for:)`` describes: spans grouped by resource, then by scope.
package enum OTLPProtobufEncoder {
    package static func encode(_ spans: [FinishedSpan]) -> [UInt8] {
        let groups = OTLPGrouping(spans, resource: \.resource, scope: \.instrumentationScope).resources
        var writer = ProtobufWriter()
        writer.bytes.reserveCapacity(spans.count * 300 + 1024)
        for group in groups {
            // A batch's resource and scope messages are large: three length bytes hold up to 2 MiB without a move.
            let resourceSpans = writer.openMessage(1, reservingLengthBytes: 3)
            let resource = writer.openMessage(1)
            writeAttributes(group.resource.attributes, field: 1, into: &writer)
            writer.close(resource)
            for scope in group.scopes {
                let scopeSpans = writer.openMessage(2, reservingLengthBytes: 3)
                let scopeMessage = writer.openMessage(1)
                writer.string(1, scope.scope.name)
                writer.string(2, scope.scope.version ?? "")
                writer.close(scopeMessage)
                for spanIndex in scope.items {
                    // Most spans take 128 bytes to 16 KiB: two length bytes.
                    let span = writer.openMessage(2, reservingLengthBytes: 2)
                    writeSpan(spans[spanIndex], into: &writer)
                    writer.close(span)
                }
                writer.close(scopeSpans)
            }
            writer.string(3, group.resource.schemaURL ?? "")
            writer.close(resourceSpans)
        }
        return writer.bytes
    }

    // MARK: Span

    private static func spanFlags(_ span: FinishedSpan) -> UInt32 {
        var flags = UInt32(span.spanContext.traceFlags.rawValue) | OTLPMapping.hasIsRemoteFlag
        if span.parentSpanContext?.isRemote == true { flags |= OTLPMapping.isRemoteFlag }
        return flags
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
        writer.varintField(10, uint32Count(span.droppedAttributesCount))
        for event in span.events {
            let message = writer.openMessage(11)
            writer.fixed64(1, event.nanosecondsSinceEpoch)
            writer.string(2, event.name)
            writeAttributes(event.attributes, field: 3, into: &writer)
            writer.close(message)
        }
        writer.varintField(12, uint32Count(span.droppedEventsCount))
        for link in span.links {
            let message = writer.openMessage(13)
            writer.traceID(1, link.spanContext.traceID)
            writer.spanID(2, link.spanContext.spanID)
            writer.string(3, link.spanContext.traceState.isEmpty ? "" : link.spanContext.traceState.headerValue)
            writeAttributes(link.attributes, field: 4, into: &writer)
            writer.varintField(5, uint32Count(link.droppedAttributesCount))
            writer.fixed32(6, linkFlags(link))
            writer.close(message)
        }
        writer.varintField(14, uint32Count(span.droppedLinksCount))
        if let spanStatus = span.status {
            let message = writer.openMessage(15)
            writer.string(2, spanStatus.message ?? "")
            writer.varintField(3, spanStatus.code == .ok ? 1 : 2)
            writer.close(message)
        }
        writer.fixed32(16, spanFlags(span))
    }

    /// A dropped count as OTLP's `uint32` field holds it: negative values as 0, values beyond `UInt32.max` as the
    /// maximum (as `OTLPMapping` writes them); `FinishedSpan`'s counts are public and may hold anything.
    private static func uint32Count(_ count: Int) -> UInt64 {
        UInt64(UInt32(clamping: count))
    }

    private static func linkFlags(_ link: FinishedSpan.Link) -> UInt32 {
        UInt32(link.spanContext.traceFlags.rawValue) | OTLPMapping.hasIsRemoteFlag
            | (link.spanContext.isRemote ? OTLPMapping.isRemoteFlag : 0)
    }

    // MARK: Attributes

    private static func writeAttributes(_ attributes: SpanAttributes, field: Int, into writer: inout ProtobufWriter) {
        attributes.forEach { key, value in
            guard isCarriedByOTLP(value) else { return }
            let keyValue = writer.openMessage(field)
            writer.string(1, key)
            let anyValue = writer.openMessage(2)
            writeAnyValue(value, into: &writer)
            writer.close(anyValue)
            writer.close(keyValue)
        }
    }

    /// False for a value OTLP cannot carry (a case swift-distributed-tracing may add): such attributes are left out.
    private static func isCarriedByOTLP(_ value: SpanAttribute) -> Bool {
        switch value {
        case .string, .stringConvertible, .bool, .int32, .int64, .double, .stringArray, .stringConvertibleArray,
            .boolArray, .int32Array, .int64Array, .doubleArray:
            return true
        default:
            return false
        }
    }

    /// The value of an `AnyValue` message. A `CustomStringConvertible` value's description is asked for once.
    private static func writeAnyValue(_ value: SpanAttribute, into writer: inout ProtobufWriter) {
        func writeArray<Element>(_ elements: [Element], _ writeElement: (Element, inout ProtobufWriter) -> Void) {
            let array = writer.openMessage(5, reservingLengthBytes: 2)
            for element in elements {
                let message = writer.openMessage(1)
                writeElement(element, &writer)
                writer.close(message)
            }
            writer.close(array)
        }
        switch value {
        case .string(let string): writer.stringAlways(1, string)
        case .stringConvertible(let convertible): writer.stringAlways(1, convertible.description)
        case .bool(let bool): writer.varintFieldAlways(2, bool ? 1 : 0)
        case .int32(let int): writer.varintFieldAlways(3, UInt64(bitPattern: Int64(int)))
        case .int64(let int): writer.varintFieldAlways(3, UInt64(bitPattern: int))
        case .double(let double): writer.fixed64Always(4, double.bitPattern)
        case .stringArray(let strings): writeArray(strings) { $1.stringAlways(1, $0) }
        case .stringConvertibleArray(let values): writeArray(values) { $1.stringAlways(1, $0.description) }
        case .boolArray(let bools): writeArray(bools) { $1.varintFieldAlways(2, $0 ? 1 : 0) }
        case .int32Array(let ints): writeArray(ints) { $1.varintFieldAlways(3, UInt64(bitPattern: Int64($0))) }
        case .int64Array(let ints): writeArray(ints) { $1.varintFieldAlways(3, UInt64(bitPattern: $0)) }
        case .doubleArray(let doubles): writeArray(doubles) { $1.fixed64Always(4, $0.bitPattern) }
        default: break
        }
    }
}

/// Protobuf wire-format primitives. Scalar fields with their default value are omitted, as proto3 does.
///
/// Nested messages are written in one pass: ``openMessage(_:reservingLengthBytes:)`` leaves room for the length,
/// ``close(_:)`` writes it, moving the message's bytes when the length needs more or fewer bytes than were reserved.
/// Lengths are minimal varints, as every protobuf library writes them.
package struct ProtobufWriter {
    package var bytes: [UInt8] = []

    package init() {}

    /// Where an open length-delimited field's length goes.
    struct OpenMessage {
        let lengthOffset: Int
        let reservedLengthBytes: Int
    }

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var remaining = value >> 7
        while remaining != 0 {
            size += 1
            remaining >>= 7
        }
        return size
    }

    package static func lengthDelimitedSize(_ field: Int, _ length: Int) -> Int {
        varintSize(UInt64(field << 3)) + varintSize(UInt64(length)) + length
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

    /// Starts a length-delimited field whose content follows; `reservingLengthBytes` is a guess of the length's
    /// size (1 up to 127 bytes, 2 up to 16 KiB, 3 up to 2 MiB) that saves a move when right.
    mutating func openMessage(_ field: Int, reservingLengthBytes reserved: Int = 1) -> OpenMessage {
        tag(field, 2)
        let message = OpenMessage(lengthOffset: bytes.count, reservedLengthBytes: reserved)
        for _ in 0..<reserved { bytes.append(0) }
        return message
    }

    /// Writes the length of `message`, which ends here.
    mutating func close(_ message: OpenMessage) {
        let contentStart = message.lengthOffset + message.reservedLengthBytes
        let length = UInt64(bytes.count - contentStart)
        let needed = Self.varintSize(length)
        if needed > message.reservedLengthBytes {
            // At most four extra bytes: inserted one at a time, without a temporary array.
            for _ in message.reservedLengthBytes..<needed { bytes.insert(0, at: contentStart) }
        } else if needed < message.reservedLengthBytes {
            bytes.removeSubrange(message.lengthOffset..<(message.lengthOffset + message.reservedLengthBytes - needed))
        }
        var index = message.lengthOffset
        var remaining = length
        while remaining >= 0x80 {
            bytes[index] = UInt8(truncatingIfNeeded: remaining) | 0x80
            remaining >>= 7
            index += 1
        }
        bytes[index] = UInt8(remaining)
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
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func fixed32(_ field: Int, _ value: UInt32) {
        if value == 0 { return }
        tag(field, 5)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func traceID(_ field: Int, _ id: TraceID) {
        lengthDelimitedHeader(field, 16)
        withUnsafeBytes(of: id.high.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: id.low.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func spanID(_ field: Int, _ id: SpanID) {
        lengthDelimitedHeader(field, 8)
        withUnsafeBytes(of: id.value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
