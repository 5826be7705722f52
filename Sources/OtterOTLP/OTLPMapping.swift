import Foundation
import Otter
import SwiftProtobuf
import Tracing

package typealias OTLPExportTraceServiceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
package typealias OTLPExportTraceServiceResponse = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse

/// Converts between Otter's ``FinishedSpan`` and the OTLP protobuf model, in both directions: exporters
/// encode with it, the viewer decodes with it. Every field is carried: kind, status, attributes of every type,
/// events, links, dropped counts, trace state, and flags (sampled plus the OTLP is-remote bits).
package enum OTLPMapping {
    /// OTLP span flags: bit 8 says whether bit 9 is known; bit 9 says the parent (or linked) context is remote.
    static let hasIsRemoteFlag: UInt32 = 0x100
    static let isRemoteFlag: UInt32 = 0x200

    // MARK: FinishedSpan → OTLP

    /// One request holding `spans`, grouped by resource and then by instrumentation scope, in first-seen order.
    package static func request(for spans: [FinishedSpan]) -> OTLPExportTraceServiceRequest {
        var request = OTLPExportTraceServiceRequest()
        request.resourceSpans = OTLPResourceGroup.grouping(spans, resource: \.resource, scope: \.instrumentationScope).map { group in
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            resourceSpans.resource.attributes = keyValues(group.resource.attributes)
            if let schemaURL = group.resource.schemaURL { resourceSpans.schemaURL = schemaURL }
            resourceSpans.scopeSpans = group.scopes.map { scopeGroup in
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                scopeSpans.scope.name = scopeGroup.scope.name
                if let version = scopeGroup.scope.version { scopeSpans.scope.version = version }
                scopeSpans.spans = scopeGroup.indexes.map { span(for: spans[$0]) }
                return scopeSpans
            }
            return resourceSpans
        }
        return request
    }

    /// A resource in OTLP form (its schema URL goes on the `ResourceSpans`).
    package static func resource(for resource: Resource) -> Opentelemetry_Proto_Resource_V1_Resource {
        var otlp = Opentelemetry_Proto_Resource_V1_Resource()
        otlp.attributes = keyValues(resource.attributes)
        return otlp
    }

    /// An instrumentation scope in OTLP form.
    package static func scope(for scope: InstrumentationScope) -> Opentelemetry_Proto_Common_V1_InstrumentationScope {
        var otlp = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        otlp.name = scope.name
        if let version = scope.version { otlp.version = version }
        return otlp
    }

    /// One span in OTLP form.
    package static func span(for span: FinishedSpan) -> Opentelemetry_Proto_Trace_V1_Span {
        var otlp = Opentelemetry_Proto_Trace_V1_Span()
        otlp.traceID = Data(span.spanContext.traceID.bytes)
        otlp.spanID = Data(span.spanContext.spanID.bytes)
        otlp.traceState = span.spanContext.traceState.headerValue
        otlp.flags = UInt32(span.spanContext.traceFlags.rawValue) | hasIsRemoteFlag
        if let parent = span.parentSpanContext {
            otlp.parentSpanID = Data(parent.spanID.bytes)
            if parent.isRemote { otlp.flags |= isRemoteFlag }
        }
        otlp.name = span.operationName
        otlp.kind = kind(span.kind)
        otlp.startTimeUnixNano = span.startTimeNanosecondsSinceEpoch
        otlp.endTimeUnixNano = span.endTimeNanosecondsSinceEpoch
        otlp.attributes = keyValues(span.attributes)
        otlp.droppedAttributesCount = UInt32(clamping: span.droppedAttributesCount)
        otlp.events = span.events.map { event in
            var otlpEvent = Opentelemetry_Proto_Trace_V1_Span.Event()
            otlpEvent.timeUnixNano = event.nanosecondsSinceEpoch
            otlpEvent.name = event.name
            otlpEvent.attributes = keyValues(event.attributes)
            return otlpEvent
        }
        otlp.droppedEventsCount = UInt32(clamping: span.droppedEventsCount)
        otlp.links = span.links.map { link in
            var otlpLink = Opentelemetry_Proto_Trace_V1_Span.Link()
            otlpLink.traceID = Data(link.spanContext.traceID.bytes)
            otlpLink.spanID = Data(link.spanContext.spanID.bytes)
            otlpLink.traceState = link.spanContext.traceState.headerValue
            otlpLink.attributes = keyValues(link.attributes)
            otlpLink.droppedAttributesCount = UInt32(clamping: link.droppedAttributesCount)
            otlpLink.flags =
                UInt32(link.spanContext.traceFlags.rawValue) | hasIsRemoteFlag
                | (link.spanContext.isRemote ? isRemoteFlag : 0)
            return otlpLink
        }
        otlp.droppedLinksCount = UInt32(clamping: span.droppedLinksCount)
        if let status = span.status {
            otlp.status.code = status.code == .ok ? .ok : .error
            if let message = status.message { otlp.status.message = message }
        }
        return otlp
    }

    /// The OTLP enum for a span kind.
    package static func kind(_ kind: SpanKind) -> Opentelemetry_Proto_Trace_V1_Span.SpanKind {
        SpanKindName(kind).otlpKind
    }

    /// Attributes as OTLP key-values, keys in ascending order.
    package static func keyValues(_ attributes: SpanAttributes) -> [Opentelemetry_Proto_Common_V1_KeyValue] {
        attributes.sortedNames().compactMap { name in
            guard let value = attributes.get(name).flatMap(anyValue) else { return nil }
            var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
            keyValue.key = name
            keyValue.value = value
            return keyValue
        }
    }

    static func anyValue(_ attribute: SpanAttribute) -> Opentelemetry_Proto_Common_V1_AnyValue? {
        var value = Opentelemetry_Proto_Common_V1_AnyValue()
        func array(_ values: [Opentelemetry_Proto_Common_V1_AnyValue]) -> Opentelemetry_Proto_Common_V1_AnyValue {
            var arrayValue = Opentelemetry_Proto_Common_V1_AnyValue()
            arrayValue.arrayValue.values = values
            return arrayValue
        }
        func scalar(_ set: (inout Opentelemetry_Proto_Common_V1_AnyValue) -> Void) -> Opentelemetry_Proto_Common_V1_AnyValue {
            var scalarValue = Opentelemetry_Proto_Common_V1_AnyValue()
            set(&scalarValue)
            return scalarValue
        }
        switch attribute {
        case .int32(let int): value.intValue = Int64(int)
        case .int64(let int): value.intValue = int
        case .double(let double): value.doubleValue = double
        case .bool(let bool): value.boolValue = bool
        case .string(let string): value.stringValue = string
        case .stringConvertible(let convertible): value.stringValue = convertible.description
        case .int32Array(let ints): return array(ints.map { int in scalar { $0.intValue = Int64(int) } })
        case .int64Array(let ints): return array(ints.map { int in scalar { $0.intValue = int } })
        case .doubleArray(let doubles): return array(doubles.map { double in scalar { $0.doubleValue = double } })
        case .boolArray(let bools): return array(bools.map { bool in scalar { $0.boolValue = bool } })
        case .stringArray(let strings): return array(strings.map { string in scalar { $0.stringValue = string } })
        case .stringConvertibleArray(let values):
            return array(values.map { convertible in scalar { $0.stringValue = convertible.description } })
        default: return nil
        }
        return value
    }

    // MARK: OTLP → FinishedSpan

    /// Why an OTLP span could not be read.
    package struct InvalidSpan: Error, CustomStringConvertible {
        package let description: String
    }

    /// The spans of a request that can be read, and why the others could not.
    package struct ReadSpans: Sendable {
        package var spans: [FinishedSpan] = []
        /// One message per span left out (an invalid trace or span id), in request order.
        package var rejections: [String] = []
    }

    /// Every span of `request` that can be read as a ``FinishedSpan``; the rest (missing, all-zero or wrong-length
    /// trace or span ids) are listed in ``ReadSpans/rejections``, for OTLP's `partial_success`. A link with invalid
    /// ids is dropped from its span and counted in ``FinishedSpan/droppedLinksCount``, as Jaeger removes it.
    package static func readSpans(from request: OTLPExportTraceServiceRequest) -> ReadSpans {
        var read = ReadSpans()
        forEachSpan(in: request) { _, _, _, result in
            switch result {
            case .success(let span): read.spans.append(span)
            case .failure(let invalid): read.rejections.append(invalid.description)
            }
        }
        return read
    }

    /// Calls `body` with every span of `request`, the resource and scope spans holding it, and the span read as a
    /// ``FinishedSpan`` or the reason it cannot be.
    package static func forEachSpan(
        in request: OTLPExportTraceServiceRequest,
        _ body: (
            Opentelemetry_Proto_Trace_V1_Span, Opentelemetry_Proto_Trace_V1_ResourceSpans, Opentelemetry_Proto_Trace_V1_ScopeSpans,
            Result<FinishedSpan, InvalidSpan>
        ) throws -> Void
    ) rethrows {
        for resourceSpans in request.resourceSpans {
            let resource = Resource(
                attributes: spanAttributes(resourceSpans.resource.attributes),
                schemaURL: resourceSpans.schemaURL.isEmpty ? nil : resourceSpans.schemaURL)
            for scopeSpans in resourceSpans.scopeSpans {
                let scope = InstrumentationScope(
                    name: scopeSpans.scope.name, version: scopeSpans.scope.version.isEmpty ? nil : scopeSpans.scope.version)
                for otlp in scopeSpans.spans {
                    let result: Result<FinishedSpan, InvalidSpan>
                    do {
                        result = .success(try finishedSpan(from: otlp, resource: resource, scope: scope))
                    } catch let invalid as InvalidSpan {
                        result = .failure(invalid)
                    } catch {
                        result = .failure(InvalidSpan(description: "\(error)"))
                    }
                    try body(otlp, resourceSpans, scopeSpans, result)
                }
            }
        }
    }

    /// `span` unchanged if it can be stored (its trace, span and parent ids valid), or why it cannot be. The
    /// same check as reading it as a ``FinishedSpan``.
    package static func validatedSpan(_ span: Opentelemetry_Proto_Trace_V1_Span) -> Result<Opentelemetry_Proto_Trace_V1_Span, InvalidSpan> {
        do {
            _ = try finishedSpan(from: span, resource: Resource(attributes: [:]), scope: InstrumentationScope(name: "", version: nil))
            return .success(span)
        } catch let invalid as InvalidSpan {
            return .failure(invalid)
        } catch {
            return .failure(InvalidSpan(description: "\(error)"))
        }
    }

    /// Every span of `request` as a ``FinishedSpan``; throws ``InvalidSpan`` for the first span that cannot be read.
    package static func finishedSpans(from request: OTLPExportTraceServiceRequest) throws -> [FinishedSpan] {
        let read = readSpans(from: request)
        if let rejection = read.rejections.first { throw InvalidSpan(description: rejection) }
        return read.spans
    }

    package static func finishedSpan(
        from otlp: Opentelemetry_Proto_Trace_V1_Span, resource: Resource, scope: InstrumentationScope
    ) throws -> FinishedSpan {
        guard let traceID = TraceID(bytes: otlp.traceID), traceID.isValid else {
            throw InvalidSpan(
                description: "span '\(otlp.name.prefix(100))' has an invalid trace id (\(idProblem(otlp.traceID, length: 16)))")
        }
        guard let spanID = SpanID(bytes: otlp.spanID), spanID.isValid else {
            throw InvalidSpan(description: "span '\(otlp.name.prefix(100))' has an invalid span id (\(idProblem(otlp.spanID, length: 8)))")
        }
        var parent: OtterSpanContext?
        // An empty or all-zero parent id means a root span (some SDKs write eight zero bytes).
        if !otlp.parentSpanID.isEmpty, !otlp.parentSpanID.allSatisfy({ $0 == 0 }) {
            guard let parentID = SpanID(bytes: otlp.parentSpanID) else {
                throw InvalidSpan(
                    description:
                        "span '\(otlp.name.prefix(100))' has an invalid parent span id (\(idProblem(otlp.parentSpanID, length: 8)))")
            }
            parent = OtterSpanContext(
                traceID: traceID, spanID: parentID, traceFlags: TraceFlags(rawValue: UInt8(truncatingIfNeeded: otlp.flags) & 0x01),
                isRemote: otlp.flags & isRemoteFlag != 0)
        }
        let links = otlp.links.compactMap { link -> FinishedSpan.Link? in
            guard let linkTraceID = TraceID(bytes: link.traceID), linkTraceID.isValid,
                let linkSpanID = SpanID(bytes: link.spanID), linkSpanID.isValid
            else { return nil }
            return FinishedSpan.Link(
                spanContext: OtterSpanContext(
                    traceID: linkTraceID, spanID: linkSpanID,
                    traceFlags: TraceFlags(rawValue: UInt8(truncatingIfNeeded: link.flags) & 0x03),
                    traceState: TraceState(headerValue: link.traceState) ?? TraceState(),
                    isRemote: link.flags & isRemoteFlag != 0),
                attributes: spanAttributes(link.attributes),
                droppedAttributesCount: Int(link.droppedAttributesCount))
        }
        var status: SpanStatus?
        switch otlp.status.code {
        case .ok: status = SpanStatus(code: .ok, message: otlp.status.message.isEmpty ? nil : otlp.status.message)
        case .error: status = SpanStatus(code: .error, message: otlp.status.message.isEmpty ? nil : otlp.status.message)
        default: status = nil
        }
        return FinishedSpan(
            operationName: otlp.name,
            kind: spanKind(otlp.kind),
            spanContext: OtterSpanContext(
                traceID: traceID, spanID: spanID,
                traceFlags: TraceFlags(rawValue: UInt8(truncatingIfNeeded: otlp.flags) & 0x03),
                traceState: TraceState(headerValue: otlp.traceState) ?? TraceState()),
            parentSpanContext: parent,
            startTimeNanosecondsSinceEpoch: otlp.startTimeUnixNano,
            endTimeNanosecondsSinceEpoch: otlp.endTimeUnixNano,
            attributes: spanAttributes(otlp.attributes),
            events: otlp.events.map { event in
                SpanEvent(
                    name: event.name, at: DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: event.timeUnixNano),
                    attributes: spanAttributes(event.attributes))
            },
            links: links,
            status: status,
            droppedAttributesCount: Int(otlp.droppedAttributesCount),
            droppedEventsCount: Int(otlp.droppedEventsCount),
            droppedLinksCount: Int(otlp.droppedLinksCount) + otlp.links.count - links.count,
            resource: resource,
            instrumentationScope: scope)
    }

    /// What is wrong with an id of `length` bytes. (OTLP/JSON ids that are not hex of the right length arrive here as one
    /// byte: see ``OTLPJSON``.)
    static func idProblem(_ id: Data, length: Int) -> String {
        if id.count == length { return "all zero" }
        if id.isEmpty { return "missing" }
        return "\(id.count) bytes, not \(length); in OTLP/JSON, \(length * 2) hex digits"
    }

    /// The swift-distributed-tracing kind of an OTLP kind; unspecified (and unknown) kinds are INTERNAL.
    static func spanKind(_ kind: Opentelemetry_Proto_Trace_V1_Span.SpanKind) -> SpanKind {
        (SpanKindName(kind) ?? .internal).spanKind
    }

    package static func spanAttributes(_ keyValues: [Opentelemetry_Proto_Common_V1_KeyValue]) -> SpanAttributes {
        var attributes = SpanAttributes()
        for keyValue in keyValues where attributes.get(keyValue.key) == nil {
            if let value = spanAttribute(keyValue.value) { attributes.set(keyValue.key, value: value) }
        }
        return attributes
    }

    /// An OTLP value as a span attribute. Arrays of one scalar type keep their type; mixed arrays, key-value
    /// lists and bytes, which span attributes cannot hold, become their JSON text.
    package static func spanAttribute(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> SpanAttribute? {
        switch value.value {
        case .stringValue(let string): return .string(string)
        case .boolValue(let bool): return .bool(bool)
        case .intValue(let int): return .int64(int)
        case .doubleValue(let double): return .double(double)
        case .arrayValue(let array):
            let values = array.values.map(\.value)
            if values.allSatisfy({ if case .stringValue = $0 { true } else { false } }) {
                return .stringArray(values.compactMap { if case .stringValue(let s) = $0 { s } else { nil } })
            }
            if values.allSatisfy({ if case .intValue = $0 { true } else { false } }) {
                return .int64Array(values.compactMap { if case .intValue(let i) = $0 { i } else { nil } })
            }
            if values.allSatisfy({ if case .doubleValue = $0 { true } else { false } }) {
                return .doubleArray(values.compactMap { if case .doubleValue(let d) = $0 { d } else { nil } })
            }
            if values.allSatisfy({ if case .boolValue = $0 { true } else { false } }) {
                return .boolArray(values.compactMap { if case .boolValue(let b) = $0 { b } else { nil } })
            }
            return .string((try? value.jsonString()) ?? "")
        case .kvlistValue, .bytesValue:
            return .string((try? value.jsonString()) ?? "")
        case .stringValueStrindex, nil:
            return nil
        }
    }
}
