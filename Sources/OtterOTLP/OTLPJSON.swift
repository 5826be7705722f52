import Foundation
import Otter
import SwiftProtobuf

/// The OTLP/JSON encoding (OTLP specification, "JSON Protobuf Encoding"): proto3 JSON with lowerCamelCase keys,
/// except that trace and span ids are hex strings (not base64), enums are integers, and 64-bit integers are
/// decimal strings. swift-protobuf's own JSON gets ids and enums wrong for OTLP, so this encodes by hand and
/// decodes by rewriting the ids before handing the rest to swift-protobuf.
package enum OTLPJSON {
    package struct DecodingError: Error, CustomStringConvertible {
        package let description: String
    }

    // MARK: Encoding

    /// The request as OTLP/JSON. `omittingDefaults` leaves out zero numbers, empty strings and arrays and an empty
    /// status, as protobuf's JSON mapping (and Jaeger's api_v3) does; exporters write times and kinds always.
    package static func encode(_ request: OTLPExportTraceServiceRequest, omittingDefaults: Bool = false) -> Data {
        let writer = Writer(omittingDefaults: omittingDefaults)
        writer.object {
            writer.array("resourceSpans", request.resourceSpans) { resourceSpans in
                writer.object {
                    writer.key("resource")
                    writer.object {
                        writer.array("attributes", resourceSpans.resource.attributes, writer.keyValue)
                        if resourceSpans.resource.droppedAttributesCount > 0 {
                            writer.number("droppedAttributesCount", resourceSpans.resource.droppedAttributesCount)
                        }
                    }
                    writer.array("scopeSpans", resourceSpans.scopeSpans) { scopeSpans in
                        writer.object {
                            writer.key("scope")
                            writer.object {
                                writer.string("name", scopeSpans.scope.name, omitEmpty: true)
                                writer.string("version", scopeSpans.scope.version, omitEmpty: true)
                            }
                            writer.array("spans", scopeSpans.spans, writer.span)
                            writer.string("schemaUrl", scopeSpans.schemaURL, omitEmpty: true)
                        }
                    }
                    writer.string("schemaUrl", resourceSpans.schemaURL, omitEmpty: true)
                }
            }
        }
        return Data(writer.bytes)
    }

    final class Writer {
        var bytes: [UInt8] = []
        private var needsComma = false
        let omitsDefaults: Bool

        init(omittingDefaults: Bool) {
            omitsDefaults = omittingDefaults
            bytes.reserveCapacity(4096)
        }

        func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

        func key(_ name: String) {
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            raw(name)
            raw("\":")
            needsComma = false
        }

        func object(_ body: () -> Void) {
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "{"))
            needsComma = false
            body()
            bytes.append(UInt8(ascii: "}"))
            needsComma = true
        }

        func array<Element>(_ name: String, _ elements: [Element], _ write: (Element) -> Void) {
            if omitsDefaults && elements.isEmpty { return }
            key(name)
            bytes.append(UInt8(ascii: "["))
            needsComma = false
            for element in elements { write(element) }
            bytes.append(UInt8(ascii: "]"))
            needsComma = true
        }

        func string(_ name: String, _ value: String, omitEmpty: Bool = false) {
            if omitEmpty && value.isEmpty { return }
            key(name)
            quoted(value)
            needsComma = true
        }

        func quoted(_ value: String) {
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0..<0x20:
                    let hex = String(byte, radix: 16)
                    raw("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }

        func number(_ name: String, _ value: some BinaryInteger, omitZero: Bool = false) {
            if omitZero && value == 0 { return }
            key(name)
            raw(String(value))
            needsComma = true
        }

        /// 64-bit integers are strings in OTLP/JSON.
        func int64String(_ name: String, _ value: some BinaryInteger, omitZero: Bool = false) {
            if omitZero && value == 0 { return }
            key(name)
            quoted(String(value))
            needsComma = true
        }

        func hexID(_ name: String, _ id: Data) {
            if id.isEmpty { return }
            key(name)
            bytes.append(UInt8(ascii: "\""))
            Hex.append(id, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
            needsComma = true
        }

        func double(_ value: Double) {
            if value.isNaN {
                quoted("NaN")
            } else if value == .infinity {
                quoted("Infinity")
            } else if value == -.infinity {
                quoted("-Infinity")
            } else {
                raw(String(value))
            }
        }

        func keyValue(_ keyValue: Opentelemetry_Proto_Common_V1_KeyValue) {
            object {
                string("key", keyValue.key)
                key("value")
                anyValue(keyValue.value)
            }
        }

        func anyValue(_ value: Opentelemetry_Proto_Common_V1_AnyValue) {
            object {
                switch value.value {
                case .stringValue(let string): self.string("stringValue", string)
                case .boolValue(let bool):
                    key("boolValue")
                    raw(bool ? "true" : "false")
                    needsComma = true
                case .intValue(let int): int64String("intValue", int)
                case .doubleValue(let double):
                    key("doubleValue")
                    self.double(double)
                    needsComma = true
                case .arrayValue(let array):
                    key("arrayValue")
                    object { self.array("values", array.values, anyValue) }
                case .kvlistValue(let list):
                    key("kvlistValue")
                    object { self.array("values", list.values, keyValue) }
                case .bytesValue(let data):
                    self.string("bytesValue", data.base64EncodedString())
                case .stringValueStrindex(let index):
                    number("stringValueStrindex", index)
                case nil:
                    break
                }
            }
        }

        func span(_ span: Opentelemetry_Proto_Trace_V1_Span) {
            object {
                hexID("traceId", span.traceID)
                hexID("spanId", span.spanID)
                string("traceState", span.traceState, omitEmpty: true)
                hexID("parentSpanId", span.parentSpanID)
                if span.flags != 0 { number("flags", span.flags) }
                string("name", span.name, omitEmpty: omitsDefaults)
                number("kind", span.kind.rawValue, omitZero: omitsDefaults)
                int64String("startTimeUnixNano", span.startTimeUnixNano, omitZero: omitsDefaults)
                int64String("endTimeUnixNano", span.endTimeUnixNano, omitZero: omitsDefaults)
                array("attributes", span.attributes, keyValue)
                if span.droppedAttributesCount > 0 { number("droppedAttributesCount", span.droppedAttributesCount) }
                array("events", span.events) { event in
                    object {
                        int64String("timeUnixNano", event.timeUnixNano, omitZero: omitsDefaults)
                        string("name", event.name, omitEmpty: omitsDefaults)
                        array("attributes", event.attributes, keyValue)
                        if event.droppedAttributesCount > 0 { number("droppedAttributesCount", event.droppedAttributesCount) }
                    }
                }
                if span.droppedEventsCount > 0 { number("droppedEventsCount", span.droppedEventsCount) }
                array("links", span.links) { link in
                    object {
                        hexID("traceId", link.traceID)
                        hexID("spanId", link.spanID)
                        string("traceState", link.traceState, omitEmpty: true)
                        array("attributes", link.attributes, keyValue)
                        if link.droppedAttributesCount > 0 { number("droppedAttributesCount", link.droppedAttributesCount) }
                        if link.flags != 0 { number("flags", link.flags) }
                    }
                }
                if span.droppedLinksCount > 0 { number("droppedLinksCount", span.droppedLinksCount) }
                if !omitsDefaults || span.hasStatus && (span.status.code != .unset || !span.status.message.isEmpty) {
                    key("status")
                    object {
                        string("message", span.status.message, omitEmpty: true)
                        if span.status.code != .unset { number("code", span.status.code.rawValue) }
                    }
                }
            }
        }
    }

    // MARK: Decoding

    /// Decodes an OTLP/JSON request. Hex ids are checked and converted; unknown fields are ignored, as the
    /// specification requires. Throws ``DecodingError`` with a message for anything malformed, and
    /// ``OTLPRequestLimits/Exceeded`` for nesting or message counts beyond `limits`. Memory stays proportional to
    /// the body: one streaming pass rewrites the ids, then swift-protobuf builds the messages.
    package static func decodeRequest(_ data: Data, limits: OTLPRequestLimits = .default) throws -> OTLPExportTraceServiceRequest {
        try decode(OTLPExportTraceServiceRequest.self, data, limits: limits)
    }

    /// Decodes an OTLP/JSON logs request, as ``decodeRequest(_:limits:)`` decodes a traces one.
    package static func decodeLogsRequest(_ data: Data, limits: OTLPRequestLimits = .default) throws -> OTLPExportLogsServiceRequest {
        try decode(OTLPExportLogsServiceRequest.self, data, limits: limits)
    }

    private static func decode<Request: SwiftProtobuf.Message>(_: Request.Type, _ data: Data, limits: OTLPRequestLimits) throws -> Request {
        let normalized = try normalize(Array(data), limits: limits)
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        options.messageDepthLimit = limits.protobufDepthLimit
        do {
            return try Request(jsonUTF8Bytes: normalized, options: options)
        } catch {
            let name = Request.protoMessageName.split(separator: ".").last.map(String.init) ?? Request.protoMessageName
            throw DecodingError(description: "request body is not an OTLP \(name): \(error)")
        }
    }

    private static let idFieldLengths: [[UInt8]: Int] = [Array("traceId".utf8): 16, Array("spanId".utf8): 8, Array("parentSpanId".utf8): 8]

    /// One pass over the JSON text: checks that it is an object with balanced nesting within the limits, counts its
    /// objects against the message limit, and replaces hex `traceId`, `spanId` and `parentSpanId` strings with the
    /// base64 that swift-protobuf expects. Everything else is copied unchanged (swift-protobuf validates it).
    static func normalize(_ input: [UInt8], limits: OTLPRequestLimits) throws -> [UInt8] {
        let notJSON = DecodingError(description: "request body is not valid JSON")
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        func skipWhitespace() {
            while index < input.count, input[index] == 0x20 || input[index] == 0x0A || input[index] == 0x0D || input[index] == 0x09 {
                index += 1
            }
        }
        skipWhitespace()
        guard index < input.count else { throw notJSON }
        guard input[index] == UInt8(ascii: "{") else {
            throw input[index] == UInt8(ascii: "[") ? DecodingError(description: "request body is not a JSON object") : notJSON
        }
        var containers: [UInt8] = []  // the open brackets
        var objects = 0
        var pendingIDLength: Int?  // set after an id key, until its value
        var lastKey: [UInt8] = []
        var expectingKey = false
        while index < input.count {
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard pendingIDLength == nil else {
                    throw DecodingError(description: "\(String(decoding: lastKey, as: UTF8.self)) must be a hex string")
                }
                containers.append(byte)
                guard containers.count <= limits.jsonDepthLimit else {
                    throw OTLPRequestLimits.Exceeded(description: "JSON nests deeper than \(limits.jsonDepthLimit) levels")
                }
                objects += 1
                guard objects <= limits.maximumMessages else {
                    throw OTLPRequestLimits.Exceeded(description: "request holds more than \(limits.maximumMessages) objects")
                }
                expectingKey = byte == UInt8(ascii: "{")
                output.append(byte)
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard let open = containers.popLast(), open == (byte == UInt8(ascii: "}") ? UInt8(ascii: "{") : UInt8(ascii: "[")) else {
                    throw notJSON
                }
                output.append(byte)
                index += 1
                if containers.isEmpty {
                    skipWhitespace()
                    guard index == input.count else { throw notJSON }
                }
            case UInt8(ascii: ","):
                expectingKey = containers.last == UInt8(ascii: "{")
                output.append(byte)
                index += 1
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                var escaped = false
                while index < input.count {
                    let character = input[index]
                    if escaped {
                        escaped = false
                    } else if character == UInt8(ascii: "\\") {
                        escaped = true
                    } else if character == UInt8(ascii: "\"") {
                        break
                    }
                    index += 1
                }
                guard index < input.count else { throw notJSON }
                index += 1
                let content = input[(start + 1)..<(index - 1)]
                if expectingKey {
                    expectingKey = false
                    lastKey = Array(content)
                    pendingIDLength = idFieldLengths[lastKey]
                    output.append(contentsOf: input[start..<index])
                } else if let byteCount = pendingIDLength {
                    pendingIDLength = nil
                    if content.isEmpty {
                        output.append(contentsOf: input[start..<index])
                    } else {
                        // An id that is not hex of the right length becomes one byte: the span (or link) holding it is
                        // then refused on its own (`partial_success`), as a wrong-length id in protobuf is, and the
                        // rest of the request is kept.
                        let bytes = Hex.bytes(fromHex: content).flatMap { $0.count == byteCount ? $0 : nil } ?? [0]
                        output.append(UInt8(ascii: "\""))
                        output.append(contentsOf: Data(bytes).base64EncodedString().utf8)
                        output.append(UInt8(ascii: "\""))
                    }
                } else {
                    output.append(contentsOf: input[start..<index])
                }
            case UInt8(ascii: ":"):
                output.append(byte)
                index += 1
            case 0x20, 0x0A, 0x0D, 0x09:
                index += 1
            default:
                // Numbers, true, false, null: copied as they are.
                guard pendingIDLength == nil else {
                    throw DecodingError(description: "\(String(decoding: lastKey, as: UTF8.self)) must be a hex string")
                }
                let start = index
                while index < input.count, !Self.endsScalar(input[index]) { index += 1 }
                output.append(contentsOf: input[start..<index])
            }
            if containers.isEmpty { break }
        }
        guard containers.isEmpty else { throw notJSON }
        return output
    }

    private static func endsScalar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ":"), UInt8(ascii: "\""), 0x20, 0x0A, 0x0D, 0x09,
            UInt8(ascii: "{"), UInt8(ascii: "["):
            return true
        default: return false
        }
    }

}
