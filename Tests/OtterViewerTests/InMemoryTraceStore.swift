import Otter
import OtterOTLP
import OtterViewer
import Synchronization
import Tracing

/// A second storage engine, for the conformance suite: traces kept in memory, written with Otter's public API only
/// (no `@testable`, nothing `package`), the way a third party would write a backend. It is deliberately simple:
/// every read walks every stored trace.
final class InMemoryTraceStore: TraceStore {
    /// Per trace, the fragments written for it (one per write); equal fragments (an exporter's retry) count once.
    private let fragments = Mutex<[TraceID: [OTLPTraces]]>([:])

    func write(_ traces: OTLPTraces) async throws -> [String] {
        let (valid, rejections) = traces.validated()
        let byTrace = valid.traceIDs.map { ($0, valid.selecting(traceIDs: [$0])) }
        fragments.withLock { stored in
            for (traceID, fragment) in byTrace where !(stored[traceID] ?? []).contains(fragment) {
                stored[traceID, default: []].append(fragment)
            }
        }
        return rejections
    }

    func traces(_ traceIDs: [TraceID]) async throws -> OTLPTraces {
        fragments.withLock { stored in
            var result = OTLPTraces()
            for traceID in Set(traceIDs) {
                for fragment in stored[traceID] ?? [] { result.append(fragment) }
            }
            return result
        }
    }

    /// Every stored trace's spans.
    fileprivate func allTraces() -> [TraceID: [FinishedSpan]] {
        fragments.withLock { stored in stored.mapValues { $0.flatMap(\.spans) } }
    }

    private static func service(_ span: FinishedSpan) -> String { span.resource.serviceName ?? "unknown_service" }

    func services() async throws -> [String] {
        Set(allTraces().values.joined().map(Self.service)).sorted()
    }

    func operations(service: String) async throws -> [(name: String, kind: SpanKind)] {
        struct Operation: Hashable {
            var name: String
            var kind: SpanKindName
        }
        let operations = Set(
            allTraces().values.joined().filter { Self.service($0) == service }.map {
                Operation(name: $0.operationName, kind: SpanKindName($0.kind))
            })
        return operations.sorted { ($0.name, $0.kind.rawValue) < ($1.name, $1.kind.rawValue) }.map { ($0.name, $0.kind.spanKind) }
    }

    /// A tag value as Jaeger's search compares it: strings bare, numbers and booleans as their text.
    private static func text(_ value: SpanAttribute) -> String {
        switch value {
        case .string(let string): return string
        case .int32(let int): return String(int)
        case .int64(let int): return String(int)
        case .double(let double): return String(double)
        case .bool(let bool): return bool ? "true" : "false"
        case .stringArray(let strings): return "[" + strings.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        default: return "\(value)"
        }
    }

    /// Jaeger's rule: one span matches every condition.
    private static func matches(_ span: FinishedSpan, _ query: TraceQuery) -> Bool {
        if let service = query.service, service != Self.service(span) { return false }
        if let operation = query.operation, operation != span.operationName { return false }
        let start = span.startTimeNanosecondsSinceEpoch
        guard start >= query.startTimeMinimumNanoseconds, start <= query.startTimeMaximumNanoseconds else { return false }
        if let minimum = query.durationMinimumNanoseconds, span.durationNanoseconds < minimum { return false }
        if let maximum = query.durationMaximumNanoseconds, span.durationNanoseconds > maximum { return false }
        for (key, value) in query.tags {
            switch key {
            case "error":
                if (span.status?.code == .error) != (value == "true") { return false }
            case "span.kind":
                if SpanKindName(span.kind).rawValue != value { return false }
            default:
                let places = [span.attributes, span.resource.attributes] + span.events.map(\.attributes) + span.links.map(\.attributes)
                if !places.contains(where: { $0.get(key).map(Self.text) == value }) { return false }
            }
        }
        return true
    }

    func findTraceIDs(_ query: TraceQuery) async throws -> [TraceID] {
        let latest = allTraces().compactMapValues { spans in
            spans.filter { Self.matches($0, query) }.map(\.startTimeNanosecondsSinceEpoch).max()
        }
        return latest.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
            .prefix(max(query.limit, 1)).map(\.key)
    }

    func summaries(_ traceIDs: [TraceID]) async throws -> [TraceSummary] {
        let traces = allTraces()
        return traceIDs.compactMap { traces[$0].flatMap(TraceSummary.init(spans:)) }
    }

    func dependencies(startNanoseconds: UInt64, endNanoseconds: UInt64) async throws -> [ServiceDependency] {
        var calls: [String: ServiceDependency] = [:]
        for spans in allTraces().values {
            let byID = Dictionary(spans.map { ($0.spanContext.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            for span in spans {
                guard let parentID = span.parentSpanContext?.spanID, let parent = byID[parentID],
                    (startNanoseconds...endNanoseconds).contains(span.startTimeNanosecondsSinceEpoch),
                    Self.service(parent) != Self.service(span)
                else { continue }
                let key = Self.service(parent) + "\u{0}" + Self.service(span)
                calls[key, default: ServiceDependency(parent: Self.service(parent), child: Self.service(span), callCount: 0)].callCount += 1
            }
        }
        return calls.values.sorted { ($0.parent, $0.child) < ($1.parent, $1.child) }
    }
}

extension InMemoryTraceStore: SpanMetricsReader {
    func operationMinutes(services: [String], kinds: Set<SpanKindName>, minutes: ClosedRange<UInt64>) async throws -> [OperationMinute] {
        OperationMinute.rows(of: allTraces().values.flatMap { $0 }).filter {
            services.contains($0.service) && kinds.contains($0.kind) && minutes.contains($0.minute)
        }
    }
}
