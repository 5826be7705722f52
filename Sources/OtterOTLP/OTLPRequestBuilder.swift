import SwiftProtobuf

/// Builds an `ExportTraceServiceRequest` span by span: spans with equal resource keys share one `ResourceSpans`, and
/// within it spans with equal scope keys one `ScopeSpans`, in first-seen order. Resources and scopes are made only
/// when first needed.
package struct OTLPRequestBuilder<ResourceKey: Hashable, ScopeKey: Hashable> {
    package private(set) var request = OTLPExportTraceServiceRequest()
    private var resourceIndexes: [ResourceKey: Int] = [:]
    private var scopeIndexes: [[ScopeKey: Int]] = []

    package init() {}

    package mutating func append(
        _ span: Opentelemetry_Proto_Trace_V1_Span,
        resourceKey: ResourceKey, resource: () throws -> (Opentelemetry_Proto_Resource_V1_Resource, String),
        scopeKey: ScopeKey, scope: () throws -> Opentelemetry_Proto_Common_V1_InstrumentationScope
    ) rethrows {
        let resourceIndex: Int
        if let known = resourceIndexes[resourceKey] {
            resourceIndex = known
        } else {
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            (resourceSpans.resource, resourceSpans.schemaURL) = try resource()
            resourceIndex = request.resourceSpans.count
            resourceIndexes[resourceKey] = resourceIndex
            request.resourceSpans.append(resourceSpans)
            scopeIndexes.append([:])
        }
        let scopeIndex: Int
        if let known = scopeIndexes[resourceIndex][scopeKey] {
            scopeIndex = known
        } else {
            var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
            scopeSpans.scope = try scope()
            scopeIndex = request.resourceSpans[resourceIndex].scopeSpans.count
            scopeIndexes[resourceIndex][scopeKey] = scopeIndex
            request.resourceSpans[resourceIndex].scopeSpans.append(scopeSpans)
        }
        request.resourceSpans[resourceIndex].scopeSpans[scopeIndex].spans.append(span)
    }
}
