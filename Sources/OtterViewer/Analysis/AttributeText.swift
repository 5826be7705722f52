import Foundation
import Otter
import OtterOTLP
import Tracing

extension AttributeText {
    /// A value as people read it in the UI, in agents' answers and in Jaeger tags that hold text: strings as they are,
    /// numbers and booleans as written, bytes as base64, arrays and maps as JSON (``json(_:)``).
    static func display(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> String {
        switch value.value {
        case .stringValue(let string): return string
        case .boolValue(let bool): return bool ? "true" : "false"
        case .intValue(let int): return String(int)
        case .doubleValue(let double): return String(double)
        case .bytesValue(let data): return data.base64EncodedString()
        default: return json(value)
        }
    }

    /// Attributes as (key, text) rows sorted by key (`OTLPMapping.keyValues` sorts them), as the span details
    /// show them.
    static func displayRows(_ attributes: SpanAttributes) -> [(key: String, value: String)] {
        OTLPMapping.keyValues(attributes).map { ($0.key, display($0.value)) }
    }

    /// JSON text of a value, as Jaeger's translator writes arrays and maps in a string tag: strings quoted, numbers
    /// and booleans bare, bytes as base64 strings, non-finite doubles as strings. Nesting is bounded by the request
    /// limits checked at ingest; the walk is iterative all the same.
    static func json(_ value: Opentelemetry_Proto_Common_V1_AnyValue) -> String {
        enum Item {
            case value(Opentelemetry_Proto_Common_V1_AnyValue)
            case key(String)
            case raw(String)
        }
        var output = ""
        var stack: [Item] = [.value(value)]
        while let item = stack.popLast() {
            switch item {
            case .raw(let text): output += text
            case .key(let key): output += JSONText.quoted(key) + ":"
            case .value(let value):
                switch value.value {
                case .stringValue(let string): output += JSONText.quoted(string)
                case .boolValue(let bool): output += bool ? "true" : "false"
                case .intValue(let int): output += String(int)
                case .doubleValue(let double): output += double.isFinite ? String(double) : JSONText.quoted(String(double))
                case .bytesValue(let data): output += JSONText.quoted(data.base64EncodedString())
                case .arrayValue(let array):
                    var items: [Item] = [.raw("[")]
                    for (index, element) in array.values.enumerated() {
                        if index > 0 { items.append(.raw(",")) }
                        items.append(.value(element))
                    }
                    items.append(.raw("]"))
                    stack.append(contentsOf: items.reversed())
                case .kvlistValue(let list):
                    var items: [Item] = [.raw("{")]
                    for (index, pair) in list.values.enumerated() {
                        if index > 0 { items.append(.raw(",")) }
                        items.append(.key(pair.key))
                        items.append(.value(pair.value))
                    }
                    items.append(.raw("}"))
                    stack.append(contentsOf: items.reversed())
                case .stringValueStrindex, nil: output += "null"
                }
            }
        }
        return output
    }
}
