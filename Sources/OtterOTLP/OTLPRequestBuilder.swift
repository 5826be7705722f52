import SwiftProtobuf

/// Builds an `ExportTraceServiceRequest` span by span (``OTLPGrouping``'s order): spans with equal resource keys share
/// one `ResourceSpans`, and within it spans with equal scope keys one `ScopeSpans`. Resources and scopes are made only
/// when first needed.
package struct OTLPRequestBuilder<ResourceKey: Hashable, ScopeKey: Hashable> {
    private var grouping = OTLPGrouping<ResourceKey, ScopeKey, Opentelemetry_Proto_Trace_V1_Span>()
    private var madeResources: [ResourceKey: (Opentelemetry_Proto_Resource_V1_Resource, String)] = [:]
    /// A scope key means a scope within its resource (``OTLPTraces`` keys scopes by their index in their resource).
    private struct ScopeInResource: Hashable {
        var resource: ResourceKey
        var scope: ScopeKey
    }
    private var madeScopes: [ScopeInResource: Opentelemetry_Proto_Common_V1_InstrumentationScope] = [:]

    package init() {}

    package mutating func append(
        _ span: Opentelemetry_Proto_Trace_V1_Span,
        resourceKey: ResourceKey, resource: () throws -> (Opentelemetry_Proto_Resource_V1_Resource, String),
        scopeKey: ScopeKey, scope: () throws -> Opentelemetry_Proto_Common_V1_InstrumentationScope
    ) rethrows {
        let (isNewResource, isNewScope) = grouping.append(span, resource: resourceKey, scope: scopeKey)
        if isNewResource { madeResources[resourceKey] = try resource() }
        if isNewScope { madeScopes[ScopeInResource(resource: resourceKey, scope: scopeKey)] = try scope() }
    }

    /// The request of every span appended so far.
    package var request: OTLPExportTraceServiceRequest {
        var request = OTLPExportTraceServiceRequest()
        request.resourceSpans = grouping.resources.map { group in
            var resourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            if let (resource, schemaURL) = madeResources[group.resource] {
                (resourceSpans.resource, resourceSpans.schemaURL) = (resource, schemaURL)
            }
            resourceSpans.scopeSpans = group.scopes.map { scopeGroup in
                var scopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                if let scope = madeScopes[ScopeInResource(resource: group.resource, scope: scopeGroup.scope)] { scopeSpans.scope = scope }
                scopeSpans.spans = scopeGroup.items
                return scopeSpans
            }
            return resourceSpans
        }
        return request
    }
}
