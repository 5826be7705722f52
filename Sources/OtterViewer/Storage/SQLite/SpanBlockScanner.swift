import Foundation
import Otter
import OtterOTLP
import SwiftProtobuf
import Tracing

/// Reads a stored block (an OTLP `ExportTraceServiceRequest` in protobuf) in place: finds each span and the few
/// fields searches and summaries need without building swift-protobuf messages, which costs tens of
/// allocations per span. Only the spans a caller asks for are decoded in full (``decodeSpan(_:)``).
struct SpanBlockScanner {
    let bytes: [UInt8]

    /// Where one span lies in the block, with the fields read while finding it.
    struct ScannedSpan {
        var range: Range<Int>
        var resourceIndex: Int
        var scopeIndex: Int
        var traceID: Range<Int> = 0..<0
        var spanID: Range<Int> = 0..<0
        var parentSpanID: Range<Int> = 0..<0
        var name: Range<Int> = 0..<0
        var kind: Int = 0
        var startTime: UInt64 = 0
        var endTime: UInt64 = 0
        var statusCode: Int = 0
    }

    /// Where each resource and scope header lies, by index.
    struct Origin {
        var resource: Range<Int>?
        var schemaURL: Range<Int>?
        var scopes: [Range<Int>?]
    }

    /// The block's bytes read as protobuf (a malformed block throws ``ProtobufReader/Malformed``).
    typealias Reader = ProtobufReader<[UInt8]>
    typealias Malformed = Reader.Malformed

    /// Every span of the block in order, and where each resource and scope header is.
    func scan() throws -> (spans: [ScannedSpan], origins: [Origin]) {
        var spans: [ScannedSpan] = []
        var origins: [Origin] = []
        var request = Reader(bytes, 0..<bytes.count)
        while !request.isAtEnd {
            let (field, wireType) = try request.field()
            guard field == 1, wireType == 2 else {
                try request.skip(wireType)
                continue
            }
            var resourceSpans = Reader(bytes, try request.lengthDelimited())
            var origin = Origin(resource: nil, schemaURL: nil, scopes: [])
            let resourceIndex = origins.count
            while !resourceSpans.isAtEnd {
                let (field, wireType) = try resourceSpans.field()
                switch (field, wireType) {
                case (1, 2): origin.resource = try resourceSpans.lengthDelimited()
                case (3, 2): origin.schemaURL = try resourceSpans.lengthDelimited()
                case (2, 2):
                    var scopeSpans = Reader(bytes, try resourceSpans.lengthDelimited())
                    let scopeIndex = origin.scopes.count
                    origin.scopes.append(nil)
                    while !scopeSpans.isAtEnd {
                        let (field, wireType) = try scopeSpans.field()
                        switch (field, wireType) {
                        case (1, 2): origin.scopes[scopeIndex] = try scopeSpans.lengthDelimited()
                        case (2, 2):
                            spans.append(
                                try scanSpan(try scopeSpans.lengthDelimited(), resourceIndex: resourceIndex, scopeIndex: scopeIndex))
                        default: try scopeSpans.skip(wireType)
                        }
                    }
                default: try resourceSpans.skip(wireType)
                }
            }
            origins.append(origin)
        }
        return (spans, origins)
    }

    private func scanSpan(_ range: Range<Int>, resourceIndex: Int, scopeIndex: Int) throws -> ScannedSpan {
        var span = ScannedSpan(range: range, resourceIndex: resourceIndex, scopeIndex: scopeIndex)
        var reader = Reader(bytes, range)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.field()
            switch (field, wireType) {
            case (1, 2): span.traceID = try reader.lengthDelimited()
            case (2, 2): span.spanID = try reader.lengthDelimited()
            case (4, 2): span.parentSpanID = try reader.lengthDelimited()
            case (5, 2): span.name = try reader.lengthDelimited()
            // Enums are 32-bit, as a decoder reads them: the low 32 bits of the varint.
            case (6, 0): span.kind = Int(Int32(truncatingIfNeeded: try reader.varint()))
            case (7, 1): span.startTime = try reader.fixed64()
            case (8, 1): span.endTime = try reader.fixed64()
            case (15, 2):
                var status = Reader(bytes, try reader.lengthDelimited())
                while !status.isAtEnd {
                    let (field, wireType) = try status.field()
                    if field == 3, wireType == 0 {
                        span.statusCode = Int(Int32(truncatingIfNeeded: try status.varint()))
                    } else {
                        try status.skip(wireType)
                    }
                }
            default: try reader.skip(wireType)
            }
        }
        return span
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    func equals(_ range: Range<Int>, _ other: [UInt8]) -> Bool {
        range.count == other.count && bytes[range].elementsEqual(other)
    }

    /// The search text of the attribute `key` among the `KeyValue`s (field `attributeField`) of the message in
    /// `range`, as ``AttributeText/searchText(_:)`` writes it; nil when absent. Reads what a decoder reads: the first
    /// `KeyValue` of that key that has a value. Blocks hold spans as senders encoded them, so anything a decoder
    /// would merge (a value field given twice, an `AnyValue` with several fields) is decoded in full.
    func attributeText(_ key: [UInt8], in range: Range<Int>, attributeField: Int) throws -> String? {
        var reader = Reader(bytes, range)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.field()
            guard field == attributeField, wireType == 2 else {
                try reader.skip(wireType)
                continue
            }
            let keyValueRange = try reader.lengthDelimited()
            var keyValue = Reader(bytes, keyValueRange)
            var keyRange: Range<Int>?
            var valueRange: Range<Int>?
            var valueFields = 0
            while !keyValue.isAtEnd {
                let (field, wireType) = try keyValue.field()
                switch (field, wireType) {
                case (1, 2): keyRange = try keyValue.lengthDelimited()
                case (2, 2):
                    valueRange = try keyValue.lengthDelimited()
                    valueFields += 1
                default: try keyValue.skip(wireType)
                }
            }
            // An absent key is the empty string, as a decoder reads it.
            guard equals(keyRange ?? 0..<0, key), let valueRange else { continue }
            if valueFields == 1, let text = try simpleValueText(valueRange) { return text }
            // Arrays, maps, bytes and anything a decoder merges: decoded, rendered the way the index rendered them.
            let decoded = try Opentelemetry_Proto_Common_V1_KeyValue(serializedBytes: Array(bytes[keyValueRange]))
            if let text = OTLPReading.spanAttributes([decoded]).get(decoded.key).map(AttributeText.searchText) { return text }
        }
        return nil
    }

    /// Whether one of the events (field 11) or links (field 13) of the span at `range` has the attribute `key` with this
    /// text: Jaeger searches a span's logs and references too.
    func hasEventOrLinkAttribute(_ key: [UInt8], text: String, inSpan range: Range<Int>) throws -> Bool {
        var reader = Reader(bytes, range)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.field()
            guard field == 11 || field == 13, wireType == 2 else {
                try reader.skip(wireType)
                continue
            }
            let attributeField = field == 11 ? 3 : 4
            if try attributeText(key, in: try reader.lengthDelimited(), attributeField: attributeField) == text { return true }
        }
        return false
    }

    /// The text of an `AnyValue` holding exactly one string, bool, int or double field; nil for anything else.
    private func simpleValueText(_ range: Range<Int>) throws -> String? {
        var reader = Reader(bytes, range)
        guard !reader.isAtEnd else { return nil }
        let (field, wireType) = try reader.field()
        let text: String
        switch (field, wireType) {
        case (1, 2): text = string(try reader.lengthDelimited())
        case (2, 0): text = try reader.varint() != 0 ? "true" : "false"
        case (3, 0): text = String(Int64(bitPattern: try reader.varint()))
        case (4, 1): text = String(Double(bitPattern: try reader.fixed64()))
        default: return nil
        }
        return reader.isAtEnd ? text : nil
    }

    func decodeSpan(_ span: ScannedSpan) throws -> Opentelemetry_Proto_Trace_V1_Span {
        try Opentelemetry_Proto_Trace_V1_Span(serializedBytes: Array(bytes[span.range]))
    }

    func resource(_ origin: Origin) throws -> Resource {
        let resource = try origin.resource.map { try Opentelemetry_Proto_Resource_V1_Resource(serializedBytes: Array(bytes[$0])) }
        return Resource(
            attributes: OTLPReading.spanAttributes(resource?.attributes ?? []),
            schemaURL: origin.schemaURL.map(string).flatMap { $0.isEmpty ? nil : $0 })
    }

    func scope(_ origin: Origin, _ scopeIndex: Int) throws -> InstrumentationScope {
        let scope = try origin.scopes[scopeIndex].map {
            try Opentelemetry_Proto_Common_V1_InstrumentationScope(serializedBytes: Array(bytes[$0]))
        }
        return InstrumentationScope(name: scope?.name ?? "", version: (scope?.version).flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The resource's `service.name`, without decoding the rest of it.
    func serviceName(_ origin: Origin) throws -> String {
        guard let resource = origin.resource else { return Resource.unknownServiceName }
        return try attributeText(Array("service.name".utf8), in: resource, attributeField: 1) ?? Resource.unknownServiceName
    }
}
