import Otter

/// OTLP's shape for a batch of spans or log records: grouped by resource, then by instrumentation scope, each group
/// in the order its first item came. The one place that grouping is done, for both signals and both encodings.
package struct OTLPResourceGroup<Item> {
    package struct ScopeGroup {
        package var scope: InstrumentationScope
        /// Indexes into the batch.
        package var indexes: [Int]
    }

    package var resource: Resource
    package var scopes: [ScopeGroup]

    package static func grouping(
        _ items: [Item], resource: (Item) -> Resource, scope: (Item) -> InstrumentationScope
    ) -> [OTLPResourceGroup<Item>] {
        var groups: [OTLPResourceGroup<Item>] = []
        for (index, item) in items.enumerated() {
            let itemResource = resource(item)
            let groupIndex: Int
            if let last = groups.indices.last, groups[last].resource == itemResource {
                groupIndex = last
            } else if let found = groups.firstIndex(where: { $0.resource == itemResource }) {
                groupIndex = found
            } else {
                groups.append(OTLPResourceGroup(resource: itemResource, scopes: []))
                groupIndex = groups.count - 1
            }
            let itemScope = scope(item)
            if let scopeIndex = groups[groupIndex].scopes.firstIndex(where: { $0.scope == itemScope }) {
                groups[groupIndex].scopes[scopeIndex].indexes.append(index)
            } else {
                groups[groupIndex].scopes.append(ScopeGroup(scope: itemScope, indexes: [index]))
            }
        }
        return groups
    }
}
