import Foundation
import Otter
import SwiftProtobuf
import Tracing

/// Reads the OTLP protobuf model as Otter's ``FinishedSpan`` (the viewer, OtterTesting, the Jaeger answers);
/// ``OTLPMapping`` is the other direction. Invalid ids are reported, never trapped on.
package enum OTLPReading {
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
                isRemote: otlp.flags & OTLPMapping.isRemoteFlag != 0)
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
                    isRemote: link.flags & OTLPMapping.isRemoteFlag != 0),
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
