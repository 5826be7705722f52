import Foundation
import SwiftProtobuf

/// The OTLP/JSON encoding (OTLP specification, "JSON Protobuf Encoding"): proto3 JSON with lowerCamelCase keys,
/// except that trace and span ids are hex strings (not base64), enums are integers, and 64-bit integers are
/// decimal strings. swift-protobuf's own JSON gets ids and enums wrong for OTLP, so this encodes by hand and
/// decodes by rewriting the ids before handing the rest to swift-protobuf.
public enum OTLPJSON {
    public struct DecodingError: Error, CustomStringConvertible {
        public let description: String
    }

    // MARK: Encoding

    /// The request as OTLP/JSON.
    public static func encode(_ request: OTLPExportTraceServiceRequest) -> Data {
        let writer = Writer()
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

        init() { bytes.reserveCapacity(4096) }

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

        func number(_ name: String, _ value: some BinaryInteger) {
            key(name)
            raw(String(value))
            needsComma = true
        }

        /// 64-bit integers are strings in OTLP/JSON.
        func int64String(_ name: String, _ value: some BinaryInteger) {
            key(name)
            quoted(String(value))
            needsComma = true
        }

        func hexID(_ name: String, _ id: Data) {
            if id.isEmpty { return }
            key(name)
            bytes.append(UInt8(ascii: "\""))
            let digits = Array("0123456789abcdef".utf8)
            for byte in id {
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            }
            bytes.append(UInt8(ascii: "\""))
            needsComma = true
        }

        func double(_ value: Double) {
            if value.isNaN { quoted("NaN") } else if value == .infinity { quoted("Infinity") } else if value == -.infinity {
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
                string("name", span.name)
                number("kind", span.kind.rawValue)
                int64String("startTimeUnixNano", span.startTimeUnixNano)
                int64String("endTimeUnixNano", span.endTimeUnixNano)
                array("attributes", span.attributes, keyValue)
                if span.droppedAttributesCount > 0 { number("droppedAttributesCount", span.droppedAttributesCount) }
                array("events", span.events) { event in
                    object {
                        int64String("timeUnixNano", event.timeUnixNano)
                        string("name", event.name)
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
                key("status")
                object {
                    string("message", span.status.message, omitEmpty: true)
                    if span.status.code != .unset { number("code", span.status.code.rawValue) }
                }
            }
        }
    }

    // MARK: Decoding

    /// Decodes an OTLP/JSON request. Hex ids are checked and converted; unknown fields are ignored, as the
    /// specification requires. Throws ``DecodingError`` with a message for anything malformed.
    public static func decodeRequest(_ data: Data) throws -> OTLPExportTraceServiceRequest {
        let tree: Any
        do {
            tree = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw DecodingError(description: "request body is not valid JSON")
        }
        guard tree is [String: Any] else { throw DecodingError(description: "request body is not a JSON object") }
        let rewritten = try rewriteIDs(tree, path: "")
        let normalized = try JSONSerialization.data(withJSONObject: rewritten, options: [])
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        do {
            return try OTLPExportTraceServiceRequest(jsonUTF8Data: normalized, options: options)
        } catch {
            throw DecodingError(description: "request body is not an OTLP ExportTraceServiceRequest: \(error)")
        }
    }

    private static let idFieldLengths = ["traceId": 16, "spanId": 8, "parentSpanId": 8]

    /// Replaces hex `traceId`, `spanId` and `parentSpanId` values with base64, which swift-protobuf expects.
    private static func rewriteIDs(_ node: Any, path: String) throws -> Any {
        if let object = node as? [String: Any] {
            var result: [String: Any] = [:]
            for (key, value) in object {
                if let byteCount = idFieldLengths[key] {
                    guard let hex = value as? String else {
                        throw DecodingError(description: "\(path).\(key) must be a hex string")
                    }
                    if hex.isEmpty {
                        result[key] = ""
                        continue
                    }
                    guard let bytes = bytes(fromHex: hex), bytes.count == byteCount else {
                        throw DecodingError(
                            description: "\(path).\(key) must be \(byteCount * 2) hex digits, got \"\(hex.prefix(64))\"")
                    }
                    result[key] = Data(bytes).base64EncodedString()
                } else {
                    result[key] = try rewriteIDs(value, path: "\(path).\(key)")
                }
            }
            return result
        }
        if let array = node as? [Any] {
            return try array.enumerated().map { index, element in try rewriteIDs(element, path: "\(path)[\(index)]") }
        }
        return node
    }

    static func bytes(fromHex hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
