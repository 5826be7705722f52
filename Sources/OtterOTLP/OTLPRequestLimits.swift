import Foundation
import SwiftProtobuf

/// Bounds on what decoding one OTLP request may build, so that memory stays proportional to a legitimate request
/// whatever the bytes: a small body of empty messages (`0a 00` repeated, or `{}` in JSON) would otherwise become
/// gigabytes of decoded objects, and deep nesting would exhaust the stack.
package struct OTLPRequestLimits: Sendable, Equatable {
    /// Most messages (resource spans, spans, attributes, values...) in one request.
    package var maximumMessages: Int
    /// Deepest nesting: of `AnyValue`s (arrays and maps inside attribute values) in protobuf, of objects and arrays
    /// in JSON.
    package var maximumNesting: Int

    package init(maximumMessages: Int = 500_000, maximumNesting: Int = 32) {
        self.maximumMessages = maximumMessages
        self.maximumNesting = maximumNesting
    }

    package static let `default` = OTLPRequestLimits()

    /// Why a request exceeds the limits.
    package struct Exceeded: Error, CustomStringConvertible {
        package let description: String
    }

    /// The message depth passed to swift-protobuf: each level of `AnyValue` nesting is up to three messages deep.
    package var protobufDepthLimit: Int { maximumNesting * 3 + 16 }

    /// JSON object/array depth: each `AnyValue` level is up to three containers, plus the request's own structure.
    package var jsonDepthLimit: Int { maximumNesting * 3 + 16 }

    // MARK: Protobuf

    /// The messages of an `ExportTraceServiceRequest`, as far as they nest: which fields hold which message.
    private enum Message {
        case request, resourceSpans, resource, scopeSpans, scope, span, event, link, status, keyValue, anyValue, arrayValue, keyValueList
        case logsRequest, resourceLogs, scopeLogs, logRecord

        func child(_ field: UInt64) -> Message? {
            switch (self, field) {
            case (.request, 1): return .resourceSpans
            case (.resourceSpans, 1): return .resource
            case (.resourceSpans, 2): return .scopeSpans
            case (.resource, 1), (.scope, 3), (.span, 9), (.event, 3), (.link, 4), (.keyValueList, 1): return .keyValue
            case (.scopeSpans, 1): return .scope
            case (.scopeSpans, 2): return .span
            case (.span, 11): return .event
            case (.span, 13): return .link
            case (.span, 15): return .status
            case (.logsRequest, 1): return .resourceLogs
            case (.resourceLogs, 1): return .resource
            case (.resourceLogs, 2): return .scopeLogs
            case (.scopeLogs, 1): return .scope
            case (.scopeLogs, 2): return .logRecord
            case (.logRecord, 6): return .keyValue
            case (.keyValue, 2), (.arrayValue, 1), (.logRecord, 5): return .anyValue
            case (.anyValue, 5): return .arrayValue
            case (.anyValue, 6): return .keyValueList
            default: return nil
            }
        }
    }

    /// Walks the protobuf wire format of an `ExportTraceServiceRequest` (or, with `signal: .logs`, an
    /// `ExportLogsServiceRequest`) without building anything and throws when it holds more messages or deeper
    /// `AnyValue` nesting than allowed. Malformed framing is left for the decoder to report (this walk stops at it).
    package func check(protobuf bytes: UnsafeRawBufferPointer, signal: OTLPSignal = .traces) throws {
        typealias Reader = ProtobufReader<UnsafeRawBufferPointer>
        struct Frame {
            var message: Message
            var reader: Reader
        }
        var stack = [Frame(message: signal == .logs ? .logsRequest : .request, reader: Reader(bytes, 0..<bytes.count))]
        var messages = 0
        var anyValueDepth = 0
        do {
            while let top = stack.indices.last {
                if stack[top].reader.isAtEnd {
                    if stack.removeLast().message == .anyValue { anyValueDepth -= 1 }
                    continue
                }
                let (field, wireType) = try stack[top].reader.field()
                guard wireType == 2, let child = stack[top].message.child(UInt64(field)) else {
                    try stack[top].reader.skip(wireType)
                    continue
                }
                let range = try stack[top].reader.lengthDelimited()
                messages += 1
                guard messages <= maximumMessages else {
                    throw Exceeded(description: "request holds more than \(maximumMessages) messages")
                }
                if child == .anyValue {
                    anyValueDepth += 1
                    guard anyValueDepth <= maximumNesting else {
                        throw Exceeded(description: "values nest deeper than \(maximumNesting) levels")
                    }
                }
                stack.append(Frame(message: child, reader: Reader(bytes, range)))
            }
        } catch is Reader.Malformed {
            return  // the decoder reports it
        }
    }

    // MARK: Decoding

    /// An OTLP export request decoded from untrusted protobuf: the limits checked first
    /// (``check(protobuf:signal:)``), then decoded within the nesting limit. The one way both receivers, ``OTLPTraces``,
    /// ``OTLPLogs`` and the fuzz targets decode protobuf they did not write.
    package func decode<Request: SwiftProtobuf.Message>(
        _: Request.Type = Request.self, protobuf bytes: UnsafeRawBufferPointer, signal: OTLPSignal = .traces
    ) throws -> Request {
        try check(protobuf: bytes, signal: signal)
        return try decode(Request.self, checkedProtobuf: bytes)
    }

    /// A request whose bytes ``check(protobuf:signal:)`` already passed (or that the viewer wrote itself, as stored
    /// blocks), decoded within the nesting limit.
    package func decode<Request: SwiftProtobuf.Message>(
        _: Request.Type = Request.self, checkedProtobuf bytes: UnsafeRawBufferPointer
    ) throws
        -> Request
    {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = protobufDepthLimit
        return try Request(serializedBytes: Array(bytes), options: options)
    }
}
