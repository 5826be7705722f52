import Foundation
import Otter
import SwiftProtobuf
import Tracing

package typealias OTLPExportTraceServiceRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
package typealias OTLPExportTraceServiceResponse = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse

/// Writes Otter's ``FinishedSpan`` in the OTLP protobuf model (exporters, the viewer's test stores); ``OTLPReading``
/// is the other direction. Every field is carried: kind, status, attributes of every type, events, links, dropped
/// counts, trace state, and flags (sampled plus the OTLP is-remote bits).
package enum OTLPMapping {
    /// OTLP span flags: bit 8 says whether bit 9 is known; bit 9 says the parent (or linked) context is remote.
    package static let hasIsRemoteFlag: UInt32 = 0x100
    package static let isRemoteFlag: UInt32 = 0x200

    /// One request holding `spans`, grouped by resource and then by instrumentation scope, in first-seen order.
    package static func request(for spans: [FinishedSpan]) -> OTLPExportTraceServiceRequest {
        var request = OTLPExportTraceServiceRequest()
        request.resourceSpans = OTLPGrouping(spans, resource: \.resource, scope: \.instrumentationScope).resources.map { group in
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            resourceSpans.resource.attributes = keyValues(group.resource.attributes)
            if let schemaURL = group.resource.schemaURL { resourceSpans.schemaURL = schemaURL }
            resourceSpans.scopeSpans = group.scopes.map { scopeGroup in
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                scopeSpans.scope.name = scopeGroup.scope.name
                if let version = scopeGroup.scope.version { scopeSpans.scope.version = version }
                scopeSpans.spans = scopeGroup.items.map { span(for: spans[$0]) }
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
}
