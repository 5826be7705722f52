import Tracing

/// Caps on what one span may hold (OpenTelemetry span limits). What goes over a cap is dropped and counted on
/// the span (`droppedAttributesCount`, `droppedEventsCount`, `droppedLinksCount`).
public struct SpanLimits: Sendable, Hashable {
    /// Most attributes on a span (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, default 128).
    public var attributeCountLimit: Int
    /// Longest string attribute value in characters; longer values are truncated
    /// (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, default none).
    public var attributeValueLengthLimit: Int?
    /// Most events on a span (`OTEL_SPAN_EVENT_COUNT_LIMIT`, default 128).
    public var eventCountLimit: Int
    /// Most links on a span (`OTEL_SPAN_LINK_COUNT_LIMIT`, default 128).
    public var linkCountLimit: Int
    /// Most attributes on one event (`OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, default 128).
    public var eventAttributeCountLimit: Int
    /// Most attributes on one link (`OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`, default 128).
    public var linkAttributeCountLimit: Int

    /// Makes limits; the defaults are the OpenTelemetry ones: 128 of each, and no value length limit. ``OtterConfiguration``
    /// reads them from the `OTEL_*` environment variables.
    public init(
        attributeCountLimit: Int = 128,
        attributeValueLengthLimit: Int? = nil,
        eventCountLimit: Int = 128,
        linkCountLimit: Int = 128,
        eventAttributeCountLimit: Int = 128,
        linkAttributeCountLimit: Int = 128
    ) {
        self.attributeCountLimit = attributeCountLimit
        self.attributeValueLengthLimit = attributeValueLengthLimit
        self.eventCountLimit = eventCountLimit
        self.linkCountLimit = linkCountLimit
        self.eventAttributeCountLimit = eventAttributeCountLimit
        self.linkAttributeCountLimit = linkAttributeCountLimit
    }

    /// Applies the count and length limits to `attributes` given all at once (an event's, a link's), returning how
    /// many were dropped.
    func apply(to attributes: inout SpanAttributes, countLimit: Int) -> Int {
        let dropped = limitCount(of: &attributes, to: countLimit)
        if let lengthLimit = attributeValueLengthLimit { Self.truncateValues(of: &attributes, to: lengthLimit) }
        return dropped
    }

    /// Keeps the first `countLimit` attributes in name order of a set given all at once (there is no order in
    /// which they were added); returns how many were dropped.
    func limitCount(of attributes: inout SpanAttributes, to countLimit: Int) -> Int {
        guard attributes.count > countLimit else { return 0 }
        var kept = SpanAttributes()
        let names = attributes.sortedNames()
        for name in names.prefix(max(0, countLimit)) { kept.set(name, value: attributes.get(name)) }
        attributes = kept
        return names.count - max(0, countLimit)
    }

    /// Cuts string values (and `stringConvertible` descriptions) longer than `lengthLimit` Unicode scalars.
    static func truncateValues(of attributes: inout SpanAttributes, to lengthLimit: Int) {
        var truncated: [(String, SpanAttribute)] = []
        attributes.forEach { name, value in
            if let shortened = value.truncated(to: lengthLimit) { truncated.append((name, shortened)) }
        }
        for (name, value) in truncated { attributes.set(name, value: value) }
    }
}

extension SpanAttributes {
    /// Attribute names in ascending order, for output that does not depend on hashing.
    package func sortedNames() -> [String] {
        var names: [String] = []
        names.reserveCapacity(count)
        forEach { name, _ in names.append(name) }
        return names.sorted()
    }
}

extension SpanAttribute {
    /// The value with strings cut to `limit` Unicode scalars, or nil when nothing needed cutting.
    func truncated(to lengthLimit: Int) -> SpanAttribute? {
        switch self {
        case .string(let value):
            return value.truncated(toUnicodeScalars: lengthLimit).map { .string($0) }
        case .stringArray(let values) where values.contains(where: { $0.truncated(toUnicodeScalars: lengthLimit) != nil }):
            return .stringArray(values.map { $0.truncated(toUnicodeScalars: lengthLimit) ?? $0 })
        case .stringConvertible(let value):
            return value.description.truncated(toUnicodeScalars: lengthLimit).map { .string($0) }
        default:
            return nil
        }
    }
}
