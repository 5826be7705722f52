import Foundation
import Otter
import Tracing

/// ``ViewerTools`` answered from the viewer's stores: what `/mcp` serves.
package struct ViewerToolbox: MCPToolbox {
    let store: any TraceStore
    let logStore: (any LogStore)?
    /// The current time in nanoseconds since the epoch (a parameter so tests can fix it).
    let now: @Sendable () -> UInt64

    package init(
        store: any TraceStore, logStore: (any LogStore)?,
        now: @escaping @Sendable () -> UInt64 = { DefaultTracerClock.now.nanosecondsSinceEpoch }
    ) {
        self.store = store
        self.logStore = logStore
        self.now = now
    }

    package var tools: [MCPTool] { ViewerTools.all }

    package func call(_ name: String, arguments: [String: JSONValue]) async -> MCPToolResult {
        let allowed = ViewerTools.all.first { $0.name == name }?.inputSchema["properties"]?.objectValue?.keys.sorted() ?? []
        do {
            let arguments = try MCPArguments(arguments, allowed: allowed)
            switch name {
            case "get_services": return try await services(arguments)
            case "get_span_names": return try await spanNames(arguments)
            case "search_traces": return try await searchTraces(arguments)
            case "get_trace_topology": return try await topology(arguments)
            case "get_critical_path": return try await criticalPath(arguments)
            case "get_trace_errors": return try await traceErrors(arguments)
            case "get_span_details": return try await spanDetails(arguments)
            case "get_service_dependencies": return try await dependencies(arguments)
            case "get_operation_stats": return try await operationStats(arguments)
            case "compare_traces": return try await compareTraces(arguments)
            case "search_logs": return try await searchLogs(arguments)
            case "get_trace_logs": return try await traceLogs(arguments)
            default: return .failure("unknown tool \(UntrustedValue.quoted(name))")
            }
        } catch let invalid as InvalidArgument {
            return .failure(invalid.description)
        } catch let missing as TraceNotFound {
            return .failure(missing.description)
        } catch {
            return .failure("the viewer could not answer: \(ExplorerAPI.reason(error))")
        }
    }

    struct TraceNotFound: Error, CustomStringConvertible {
        let traceID: TraceID
        var description: String {
            "trace \(traceID.hexString) not found: it was never received, or retention deleted it (find traces with search_traces)"
        }
    }

    /// The spans of a stored trace; ``TraceNotFound`` when there are none.
    func spans(of traceID: TraceID) async throws -> [FinishedSpan] {
        let spans = try await store.trace(traceID)
        guard !spans.isEmpty else { throw TraceNotFound(traceID: traceID) }
        return spans
    }

    /// The first `limit` of `items` and whether any were left out, as every listing reports it.
    static func listing(_ count: Int, limit: Int, noun: String) -> String {
        count > limit ? "\(count) \(noun), the first \(limit) shown" : "\(count) \(noun)"
    }

    /// A compiled regular expression argument; nil when absent.
    static func pattern(_ arguments: MCPArguments) throws -> NSRegularExpression? {
        guard let text = try arguments.string("pattern", maximumLength: 256) else { return nil }
        do {
            return try NSRegularExpression(pattern: text)
        } catch {
            throw InvalidArgument(name: "pattern", detail: "\(UntrustedValue.quoted(text)) is not a regular expression")
        }
    }

    static func matches(_ pattern: NSRegularExpression?, _ text: String) -> Bool {
        guard let pattern else { return true }
        return pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    func services(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let pattern = try Self.pattern(arguments)
        let limit = try arguments.integer("limit", in: 1...1_000, default: 100)
        let all = try await store.services().filter { Self.matches(pattern, $0) }
        let shown = Array(all.prefix(limit))
        let text =
            all.isEmpty
            ? (pattern == nil ? "no service has sent spans yet" : "no service name matches the pattern")
            : Self.listing(all.count, limit: limit, noun: all.count == 1 ? "service" : "services") + ":\n" + shown.joined(separator: "\n")
        return MCPToolResult(
            text: text,
            structured: [
                "services": .array(shown.map { .string($0) }), "total_count": JSONValue(all.count),
                "truncated": .bool(all.count > limit),
            ])
    }

    func spanNames(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let service = try arguments.requiredString("service_name")
        let pattern = try Self.pattern(arguments)
        let kind = try Self.spanKind(arguments)
        let limit = try arguments.integer("limit", in: 1...1_000, default: 100)
        let all = try await store.operations(service: service)
            .filter { (kind == nil || $0.kind == kind) && Self.matches(pattern, $0.name) }
            .sorted { ($0.name, $0.kind.rawValue) < ($1.name, $1.kind.rawValue) }
        let shown = all.prefix(limit)
        var text = Self.listing(all.count, limit: limit, noun: "span names") + " of \(service)"
        if all.isEmpty, try await !store.services().contains(service) {
            text += " (no service of that name has sent spans: see get_services)"
        }
        return MCPToolResult(
            text: text + ":\n" + shown.map { "\($0.name) [\($0.kind.rawValue)]" }.joined(separator: "\n"),
            structured: [
                "span_names": .array(shown.map { ["name": .string($0.name), "span_kind": .string($0.kind.rawValue)] }),
                "total_count": JSONValue(all.count), "truncated": .bool(all.count > limit),
            ])
    }

    static func spanKind(_ arguments: MCPArguments, name: String = "span_kind") throws -> SpanKindName? {
        guard let text = try arguments.string(name, maximumLength: 32) else { return nil }
        guard let kind = SpanKindName(rawValue: text.lowercased()) else {
            throw InvalidArgument(
                name: name, detail: "\(UntrustedValue.quoted(text)) is not server, client, internal, producer or consumer")
        }
        return kind
    }

    func dependencies(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let now = now()
        let end = try arguments.time("end_time", now: now) ?? now
        let start = try arguments.time("start_time", now: now) ?? end - min(end, 86_400_000_000_000)
        guard start < end else { throw InvalidArgument(name: "start_time", detail: "must be before end_time") }
        let edges = try await store.dependencies(startNanoseconds: start, endNanoseconds: end)
            .sorted { ($0.parent, $0.child) < ($1.parent, $1.child) }
        let text =
            edges.isEmpty
            ? "no calls between services from \(Self.time(start)) to \(Self.time(end))"
            : "\(edges.count) caller → callee pairs from \(Self.time(start)) to \(Self.time(end)):\n"
                + edges.map { "\($0.parent) → \($0.child): \($0.callCount) calls" }.joined(separator: "\n")
        return MCPToolResult(
            text: text,
            structured: [
                "dependencies": .array(
                    edges.map { ["caller": .string($0.parent), "callee": .string($0.child), "call_count": JSONValue($0.callCount)] })
            ])
    }

    /// A time as agents read it: RFC 3339 in UTC with microseconds.
    static func time(_ nanoseconds: UInt64) -> String {
        TimestampFormatting.iso8601Microseconds(nanosecondsSinceEpoch: nanoseconds)
    }

    /// A duration for people: `1.25 s`, `340 µs`.
    static func duration(_ nanoseconds: UInt64) -> String {
        TimestampFormatting.humanDuration(nanoseconds: nanoseconds)
    }
}
