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

    /// Tool calls that run at once: a call may read a whole trace, and agents call in parallel; the rest wait their turn,
    /// so ingest and the query API are never starved.
    static let calls = AsyncGate(limit: 2)
    /// The largest answer (text plus structured content); a larger one is refused with what to narrow.
    static let maximumAnswerBytes = 1 << 20

    package func call(_ name: String, arguments: [String: JSONValue]) async -> MCPToolResult {
        await Self.calls.enter()
        let result = await answer(name, arguments: arguments)
        await Self.calls.leave()
        let size = result.text.utf8.count + (result.structured?.text.utf8.count ?? 0)
        guard size <= Self.maximumAnswerBytes else {
            return .failure(
                "the answer would be \(size / 1_024) KB, over \(Self.maximumAnswerBytes / 1_024) KB: ask for less (a smaller limit, max_spans "
                    + "or depth, a narrower time window or service)")
        }
        return result
    }

    func answer(_ name: String, arguments: [String: JSONValue]) async -> MCPToolResult {
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
            return .failure("the viewer could not answer: \(ErrorText.short(error))")
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

    /// Text from telemetry (names, messages, log bodies) on one line of an answer, at most `limit` characters: a line
    /// break or control character in it cannot start a line of its own (that an agent could take for something else).
    static func line(_ text: String, limit: Int = 300) -> String {
        let escaped = LineText.escaped(text)
        return escaped.count > limit ? String(escaped.prefix(limit)) + "…" : escaped
    }

    /// `1 span`, `2 spans`.
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

    /// The `pattern` argument; nil when absent.
    static func pattern(_ arguments: MCPArguments) throws -> NamePattern? {
        try arguments.string("pattern", maximumLength: 256).map(NamePattern.init)
    }

    static func matches(_ pattern: NamePattern?, _ text: String) -> Bool {
        pattern?.matches(text) ?? true
    }

    func services(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let pattern = try Self.pattern(arguments)
        let limit = try arguments.integer("limit", in: 1...1_000, default: 100)
        let all = try await store.services().filter { Self.matches(pattern, $0) }
        let shown = Array(all.prefix(limit))
        let text =
            all.isEmpty
            ? (pattern == nil ? "no service has sent spans yet" : "no service name matches the pattern")
            : Self.listing(all.count, limit: limit, noun: all.count == 1 ? "service" : "services") + ":\n"
                + shown.map { Self.line($0) }.joined(separator: "\n")
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
        let all = try await store.operationsWithKindNames(service: service)
            .filter { (kind == nil || $0.kind == kind) && Self.matches(pattern, $0.name) }
            .sorted { ($0.name, $0.kind.rawValue) < ($1.name, $1.kind.rawValue) }
        let shown = all.prefix(limit)
        var text = Self.listing(all.count, limit: limit, noun: all.count == 1 ? "span name" : "span names") + " of \(Self.line(service))"
        if all.isEmpty, try await !store.services().contains(service) {
            text += " (no service of that name has sent spans: see get_services)"
        }
        return MCPToolResult(
            text: text + ":\n" + shown.map { "\(Self.line($0.name)) [\($0.kind.rawValue)]" }.joined(separator: "\n"),
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
        let limit = try arguments.integer("limit", in: 1...2_000, default: 500)
        let all = try await store.dependencies(startNanoseconds: start, endNanoseconds: end)
            .sorted { ($0.callCount, $1.parent, $1.child) > ($1.callCount, $0.parent, $0.child) }
        let edges = Array(all.prefix(limit))
        let text =
            edges.isEmpty
            ? "no calls between services from \(Self.time(start)) to \(Self.time(end))"
            : "\(Self.listing(all.count, limit: limit, noun: "caller → callee pairs")) from \(Self.time(start)) to \(Self.time(end)), most calls first:\n"
                + edges.map { "\(Self.line($0.parent)) → \(Self.line($0.child)): \(Self.count($0.callCount, "call"))" }.joined(
                    separator: "\n")
        return MCPToolResult(
            text: text,
            structured: [
                "dependencies": .array(
                    edges.map { ["caller": .string($0.parent), "callee": .string($0.child), "call_count": JSONValue($0.callCount)] }),
                "total_count": JSONValue(all.count), "truncated": .bool(all.count > limit),
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
