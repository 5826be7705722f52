import Tracing

/// Attribute values as text, in one place for every target: JSON for the console exporter and the viewer's tables,
/// and the bare form that Jaeger's tag search compares with.
package enum AttributeText {
    /// Attributes as a JSON object with keys in ascending order.
    package static func json(_ attributes: SpanAttributes) -> String {
        let members = attributes.sortedNames().map { name in
            "\(JSONText.quoted(name)): \(attributes.get(name).map(json) ?? "null")"
        }
        return "{\(members.joined(separator: ", "))}"
    }

    /// One attribute value as JSON text.
    package static func json(_ value: SpanAttribute) -> String {
        switch value {
        case .int32(let value): return String(value)
        case .int64(let value): return String(value)
        case .double(let value): return JSONText.number(value)
        case .bool(let value): return value ? "true" : "false"
        case .string(let value): return JSONText.quoted(value)
        case .int32Array(let values): return "[\(values.map { String($0) }.joined(separator: ", "))]"
        case .int64Array(let values): return "[\(values.map { String($0) }.joined(separator: ", "))]"
        case .doubleArray(let values): return "[\(values.map(JSONText.number).joined(separator: ", "))]"
        case .boolArray(let values): return "[\(values.map { $0 ? "true" : "false" }.joined(separator: ", "))]"
        case .stringArray(let values): return "[\(values.map(JSONText.quoted).joined(separator: ", "))]"
        case .stringConvertible(let value): return JSONText.quoted(value.description)
        case .stringConvertibleArray(let values):
            return "[\(values.map { JSONText.quoted($0.description) }.joined(separator: ", "))]"
        default: return "null"
        }
    }

    /// A value as the text Jaeger's tag search compares with: `200`, `true`, `0.5`, `text` (strings bare); arrays
    /// as JSON.
    package static func searchText(_ value: SpanAttribute) -> String {
        switch value {
        case .string(let string): return string
        case .stringConvertible(let convertible): return convertible.description
        case .int32(let int): return String(int)
        case .int64(let int): return String(int)
        case .double(let double): return String(double)
        case .bool(let bool): return bool ? "true" : "false"
        default: return json(value)
        }
    }
}
