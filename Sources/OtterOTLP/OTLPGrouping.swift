import Otter

/// OTLP's shape for a batch of spans or log records: items grouped by resource, then by instrumentation scope, each
/// group in the order its first item came. The one grouping for both signals and every form they take: SDK values
/// (``OTLPMapping``, ``OTLPProtobufEncoder``, ``OTLPLogsMapping``), decoded messages (``OTLPRequestBuilder``) and
/// spans as received bytes (the viewer's block writer). Keys are whatever identifies a resource or scope in that
/// form: the values themselves, their bytes, or indexes.
package struct OTLPGrouping<ResourceKey: Hashable, ScopeKey: Hashable, Item> {
    package struct ScopeGroup {
        package var scope: ScopeKey
        package var items: [Item]
    }

    package struct ResourceGroup {
        package var resource: ResourceKey
        package var scopes: [ScopeGroup] = []
        fileprivate var scopeIndexes: [ScopeKey: Int] = [:]
    }

    /// The groups, in first-seen order.
    package private(set) var resources: [ResourceGroup] = []
    private var resourceIndexes: [ResourceKey: Int] = [:]
    /// Where the previous item went: a batch is mostly runs of one resource and scope, found without hashing.
    private var last: (resource: Int, scope: Int)?

    package init() {}

    /// Adds `item` to its resource and scope group; says whether either group is new, so that a caller can make what
    /// stands for it only once.
    @discardableResult
    package mutating func append(_ item: Item, resource: ResourceKey, scope: ScopeKey) -> (isNewResource: Bool, isNewScope: Bool) {
        if let last, resources[last.resource].resource == resource, resources[last.resource].scopes[last.scope].scope == scope {
            resources[last.resource].scopes[last.scope].items.append(item)
            return (false, false)
        }
        var isNewResource = false
        let resourceIndex: Int
        if let known = resourceIndexes[resource] {
            resourceIndex = known
        } else {
            resourceIndex = resources.count
            resourceIndexes[resource] = resourceIndex
            resources.append(ResourceGroup(resource: resource))
            isNewResource = true
        }
        var isNewScope = false
        let scopeIndex: Int
        if let known = resources[resourceIndex].scopeIndexes[scope] {
            scopeIndex = known
            resources[resourceIndex].scopes[scopeIndex].items.append(item)
        } else {
            scopeIndex = resources[resourceIndex].scopes.count
            resources[resourceIndex].scopeIndexes[scope] = scopeIndex
            resources[resourceIndex].scopes.append(ScopeGroup(scope: scope, items: [item]))
            isNewScope = true
        }
        last = (resourceIndex, scopeIndex)
        return (isNewResource, isNewScope)
    }
}

extension OTLPGrouping where ResourceKey == Resource, ScopeKey == InstrumentationScope, Item == Int {
    /// The indexes of `items`, grouped by their resource and scope.
    package init<Element>(_ items: [Element], resource: (Element) -> Resource, scope: (Element) -> InstrumentationScope) {
        self.init()
        for (index, element) in items.enumerated() { append(index, resource: resource(element), scope: scope(element)) }
    }
}
