import Foundation
import Otter

/// An argument a tool cannot use: the tool answers with an error result that names it, so the agent can correct the call.
struct InvalidArgument: Error, CustomStringConvertible {
    let name: String
    let detail: String

    var description: String { "argument \(name): \(detail)" }
}

/// A tool call's arguments, read with checks: every value's type and range, ids and times parsed, names the tool does
/// not know refused (a misspelt argument is an error, not a silently ignored filter).
struct MCPArguments {
    let values: [String: JSONValue]

    init(_ values: [String: JSONValue], allowed: [String]) throws {
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            let known = allowed.isEmpty ? "this tool takes no arguments" : "the arguments are \(allowed.joined(separator: ", "))"
            throw InvalidArgument(name: String(unknown.prefix(64)), detail: "unknown argument: \(known)")
        }
        self.values = values
    }

    /// A string argument; nil when absent, null or empty.
    func string(_ name: String, maximumLength: Int = 1_024) throws -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let text)?:
            guard text.utf8.count <= maximumLength else { throw InvalidArgument(name: name, detail: "longer than \(maximumLength) bytes") }
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        default: throw InvalidArgument(name: name, detail: "must be a string")
        }
    }

    func requiredString(_ name: String, maximumLength: Int = 1_024) throws -> String {
        guard let text = try string(name, maximumLength: maximumLength) else { throw InvalidArgument(name: name, detail: "is required") }
        return text
    }

    /// An integer argument in `range`; `fallback` when absent.
    func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        let value: Int
        switch values[name] {
        case nil, .null?: return fallback
        case .integer(let number)?:
            guard let exact = Int(exactly: number) else { throw InvalidArgument(name: name, detail: "\(number) is out of range") }
            value = exact
        case .number(let number)?:
            guard number.isFinite, number == number.rounded() else { throw InvalidArgument(name: name, detail: "must be a whole number") }
            guard let exact = Int(exactly: number) else { throw InvalidArgument(name: name, detail: "\(number) is out of range") }
            value = exact
        default: throw InvalidArgument(name: name, detail: "must be an integer")
        }
        guard range.contains(value) else {
            throw InvalidArgument(name: name, detail: "\(value) is not between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        switch values[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw InvalidArgument(name: name, detail: "must be true or false")
        }
    }

    /// A trace id: 32 hex digits (16 are accepted too, as Jaeger's 64-bit ids, and left-padded).
    func traceID(_ name: String) throws -> TraceID {
        let text = try requiredString(name, maximumLength: 64)
        guard let traceID = TraceIDText.parse(text) else {
            throw InvalidArgument(name: name, detail: "\(UntrustedValue.quoted(text)) is not a trace id (32 hex digits)")
        }
        return traceID
    }

    /// A span id: 16 hex digits, not all zero.
    static func spanID(_ text: String, argument name: String) throws -> SpanID {
        guard text.utf8.count == 16, let value = Hex.decodeUInt64(Array(text.utf8), allowUppercase: true), value != 0 else {
            throw InvalidArgument(name: name, detail: "\(UntrustedValue.quoted(text)) is not a span id (16 hex digits, not all zero)")
        }
        return SpanID(value)
    }

    /// Span ids, at least one and at most `maximumCount`.
    func spanIDs(_ name: String, maximumCount: Int) throws -> [SpanID] {
        guard case .array(let items)? = values[name], !items.isEmpty else {
            throw InvalidArgument(name: name, detail: "is required: a list of span ids (16 hex digits each)")
        }
        guard items.count <= maximumCount else {
            throw InvalidArgument(name: name, detail: "\(items.count) span ids, at most \(maximumCount) per call")
        }
        return try items.map { item in
            guard let text = item.stringValue else { throw InvalidArgument(name: name, detail: "every span id must be a string") }
            return try Self.spanID(text.trimmingCharacters(in: .whitespaces), argument: name)
        }
    }

    /// A point in time: `now`, a negative Go duration before now (`-1h`, `-30m`), or RFC 3339; in nanoseconds.
    func time(_ name: String, now: UInt64) throws -> UInt64? {
        guard let text = try string(name, maximumLength: 64) else { return nil }
        if text == "now" { return now }
        if text.hasPrefix("-") {
            let ago = try duration(name, String(text.dropFirst()))
            return now - min(now, ago)
        }
        do {
            return try RFC3339.parameter(name, text)
        } catch {
            throw InvalidArgument(
                name: name,
                detail: "\(UntrustedValue.quoted(text)) is not a time: use now, -1h (before now) or RFC 3339 like 2026-12-06T10:00:00Z")
        }
    }

    /// A Go duration (`500ms`, `2s`, `1h30m`), plus days (`2d`); in nanoseconds.
    func duration(_ name: String) throws -> UInt64? {
        guard let text = try string(name, maximumLength: 64) else { return nil }
        return try duration(name, text)
    }

    private func duration(_ name: String, _ text: String) throws -> UInt64 {
        if text.hasSuffix("d"), let days = UInt64(text.dropLast()) {
            let (nanoseconds, overflow) = days.multipliedReportingOverflow(by: 86_400_000_000_000)
            guard !overflow, nanoseconds <= UntrustedValue.maximumNanoseconds else {
                throw InvalidArgument(name: name, detail: "\(UntrustedValue.quoted(text)) is too long")
            }
            return nanoseconds
        }
        do {
            return try UntrustedValue.duration(name, text)
        } catch {
            throw InvalidArgument(name: name, detail: "\(UntrustedValue.quoted(text)) is not a duration: use 500ms, 2s, 15m, 1h or 2d")
        }
    }

    /// An object of string values (attribute filters).
    func stringMap(_ name: String, maximumCount: Int) throws -> [(key: String, value: String)] {
        switch values[name] {
        case nil, .null?: return []
        case .object(let object)?:
            guard object.count <= maximumCount else { throw InvalidArgument(name: name, detail: "at most \(maximumCount) entries") }
            return try object.keys.sorted().map { key in
                switch object[key]! {
                case .string(let value): return (key, value)
                case .bool(let value): return (key, value ? "true" : "false")
                case .integer(let value): return (key, String(value))
                default: throw InvalidArgument(name: name, detail: "the value of \(UntrustedValue.quoted(key)) must be a string")
                }
            }
        default: throw InvalidArgument(name: name, detail: "must be an object of attribute names to values")
        }
    }
}

/// JSON Schema pieces for tool arguments.
enum Schema {
    static func object(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        [
            "type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
            "additionalProperties": false,
        ]
    }

    static func string(_ description: String) -> JSONValue { ["type": "string", "description": .string(description)] }

    static func integer(_ description: String, minimum: Int, maximum: Int, default fallback: Int) -> JSONValue {
        [
            "type": "integer", "description": .string(description), "minimum": JSONValue(minimum), "maximum": JSONValue(maximum),
            "default": JSONValue(fallback),
        ]
    }

    static let traceID = string("Trace id: 32 hex digits.")
    static let pattern = """
        Text the name must contain (any case); ^ and $ anchor it at the start or end; | separates alternatives, e.g. \
        ^checkout|payment. Not a regular expression.
        """
    static let time = "now, a time before now as a negative duration (-1h, -30m), or RFC 3339 (2026-12-06T10:00:00Z)."
}
