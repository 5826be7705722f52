import Foundation
import Otter
import OtterOTLP
import Tracing

extension ViewerToolbox {
    func topology(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let traceID = try arguments.traceID("trace_id")
        let rootSpanID = try arguments.string("root_span_id", maximumLength: 64).map {
            try MCPArguments.spanID($0, argument: "root_span_id")
        }
        let depthLimit = try arguments.integer("depth", in: 0...10_000, default: 0)
        let maximumSpans = try arguments.integer("max_spans", in: 1...1_000, default: 100)
        let tree = TraceTree(spans: try await spans(of: traceID))
        let nodes = tree.nodes
        var listRoots = tree.roots
        if let rootSpanID {
            guard let index = nodes.indices.first(where: { nodes[$0].span.spanContext.spanID == rootSpanID }) else {
                throw InvalidArgument(name: "root_span_id", detail: "trace \(traceID.hexString) has no span \(rootSpanID.hexString)")
            }
            listRoots = [index]
        }
        // The top of the tree first: breadth-first until the budget is spent, then listed depth-first.
        var selected = [Bool](repeating: false, count: nodes.count)
        var queue = listRoots
        var head = 0
        var selectedCount = 0
        while head < queue.count, selectedCount < maximumSpans {
            let index = queue[head]
            head += 1
            selected[index] = true
            selectedCount += 1
            let level = nodes[index].depth - nodes[listRoots.first!].depth
            if depthLimit == 0 || level < depthLimit { queue.append(contentsOf: nodes[index].children) }
        }
        let start = tree.start
        var listed: [JSONValue] = []
        var lines: [String] = []
        let baseDepth = listRoots.map { nodes[$0].depth }.min() ?? 0
        for index in nodes.indices where selected[index] {
            let node = nodes[index]
            let span = node.span
            let hidden = node.children.count { !selected[$0] }
            var entry: [String: JSONValue] = [
                "span_id": .string(span.spanContext.spanID.hexString), "depth": JSONValue(node.depth),
                "service": .string(String(node.service.prefix(200))), "span_name": .string(String(span.operationName.prefix(300))),
                "span_kind": .string(SpanKindName(span.kind).rawValue),
                "start_offset_us": JSONValue((node.start - min(node.start, start)) / 1_000),
                "duration_us": JSONValue(node.duration / 1_000),
                "status": .string(Self.statusName(span.status)),
            ]
            if let parent = span.parentSpanContext { entry["parent_span_id"] = .string(parent.spanID.hexString) }
            if hidden > 0 { entry["truncated_children"] = JSONValue(hidden) }
            listed.append(.object(entry))
            let level = node.depth - min(node.depth, baseDepth)
            let indent = String(repeating: "  ", count: min(level, 12)) + (level > 12 ? "[depth \(level)] " : "")
            var line =
                "\(indent)\(span.spanContext.spanID.hexString) \(Self.line(node.service, limit: 100)): \(Self.line(span.operationName, limit: 200)) "
                + "[\(SpanKindName(span.kind).rawValue)] +\(Self.duration(node.start - min(node.start, start))) \(Self.duration(node.duration))"
            if span.status?.code == .error { line += " ERROR" + (Self.errorMessage(span).map { ": \(Self.line($0, limit: 200))" } ?? "") }
            if hidden > 0 { line += " (+\(hidden) children not listed)" }
            lines.append(line)
        }
        let summary = Self.traceSummary(tree)
        let subtreeSize = rootSpanID == nil ? nodes.count : Self.subtreeSize(tree, listRoots[0])
        var text = Self.summaryText(tree, traceID: traceID)
        text +=
            "\n\nSpans (\(Self.listing(subtreeSize, limit: selectedCount, noun: rootSpanID == nil ? "in the trace" : "in the subtree")), "
        text += "top of the tree first; indented by depth; offset from the trace start, then duration):\n" + lines.joined(separator: "\n")
        if selectedCount < subtreeSize {
            text +=
                "\n\(subtreeSize - selectedCount) spans not listed: call again with root_span_id to expand a span with children not listed."
        }
        return MCPToolResult(
            text: text,
            structured: [
                "trace_id": .string(traceID.hexString), "summary": summary, "spans": .array(listed),
                "listed_count": JSONValue(selectedCount), "total_count": JSONValue(subtreeSize),
                "truncated": .bool(selectedCount < subtreeSize),
            ])
    }

    static func subtreeSize(_ tree: TraceTree<FinishedSpan>, _ root: Int) -> Int {
        var count = 0
        var stack = [root]
        while let index = stack.popLast() {
            count += 1
            stack.append(contentsOf: tree.nodes[index].children)
        }
        return count
    }

    /// Why a span failed: its status message, else its last exception event's message and type.
    static func errorMessage(_ span: FinishedSpan) -> String? {
        if let message = span.status?.message, !message.isEmpty { return message }
        guard let exception = span.events.last(where: { $0.name == "exception" }) else { return nil }
        let rows = AttributeText.displayRows(exception.attributes)
        let message = rows.first { $0.key == "exception.message" }?.value
        let type = rows.first { $0.key == "exception.type" }?.value
        return [type, message].compactMap { $0 }.joined(separator: ": ")
    }

    static func statusName(_ status: SpanStatus?) -> String {
        switch status?.code {
        case .error?: "error"
        case .ok?: "ok"
        case nil: "unset"
        }
    }

    /// A trace in a few lines: size, time, services, busiest operations, errors and the critical path's main parts.
    static func traceSummary(_ tree: TraceTree<FinishedSpan>) -> JSONValue {
        let nodes = tree.nodes
        var services: [String: (spans: Int, errors: Int)] = [:]
        for node in nodes {
            services[node.service, default: (0, 0)].spans += 1
            if node.span.status?.code == .error { services[node.service]!.errors += 1 }
        }
        let serviceList = services.sorted { ($0.value.spans, $1.key) > ($1.value.spans, $0.key) }
        let operations = TraceStatistics(tree).rows.sorted { ($0.selfTime, $0.count) > ($1.selfTime, $1.count) }
        let errors = nodes.filter { $0.span.status?.code == .error }
        let root = tree.roots.first.map { nodes[$0] }
        return [
            "root_service": .string(String((root?.service ?? "").prefix(200))),
            "root_span_name": .string(String((root?.span.operationName ?? "").prefix(300))),
            "start_time": .string(time(tree.start)), "duration_us": JSONValue((tree.end - min(tree.end, tree.start)) / 1_000),
            "span_count": JSONValue(nodes.count), "error_count": JSONValue(errors.count), "root_count": JSONValue(tree.roots.count),
            "max_depth": JSONValue((nodes.map(\.depth).max() ?? 0) + 1), "service_count": JSONValue(services.count),
            "services": .array(
                serviceList.prefix(20).map {
                    [
                        "name": .string(String($0.key.prefix(200))), "span_count": JSONValue($0.value.spans),
                        "error_count": JSONValue($0.value.errors),
                    ]
                }),
            "operation_count": JSONValue(operations.count),
            "top_operations_by_self_time": .array(
                operations.prefix(10).map {
                    [
                        "service": .string(String($0.service.prefix(200))), "span_name": .string(String($0.operation.prefix(300))),
                        "count": JSONValue($0.count),
                        "self_time_us": JSONValue($0.selfTime / 1_000), "max_duration_us": JSONValue($0.maximum / 1_000),
                    ]
                }),
            "first_errors": .array(
                errors.prefix(5).map {
                    [
                        "span_id": .string($0.span.spanContext.spanID.hexString), "service": .string(String($0.service.prefix(200))),
                        "span_name": .string(String($0.span.operationName.prefix(300))),
                        "message": .string(String((errorMessage($0.span) ?? "").prefix(1_000))),
                    ]
                }),
        ]
    }

    static func summaryText(_ tree: TraceTree<FinishedSpan>, traceID: TraceID) -> String {
        let summary = traceSummary(tree)
        let nodes = tree.nodes
        let root = tree.roots.first.map { nodes[$0] }
        var text =
            "Trace \(traceID.hexString): \(line(root?.service ?? "", limit: 100)): \(line(root?.span.operationName ?? "", limit: 200)), started \(time(tree.start)), "
        text += "\(duration(tree.end - min(tree.end, tree.start))), \(nodes.count) spans, depth \(summary["max_depth"].map(\.text) ?? "?")"
        let errorCount = nodes.count { $0.span.status?.code == .error }
        text += errorCount > 0 ? ", \(errorCount) errors" : ", no errors"
        if tree.roots.count > 1 { text += ", \(tree.roots.count) roots (spans whose parent is missing)" }
        let services = summary["services"]?.arrayValue ?? []
        let serviceCount = summary["service_count"].map(\.text) ?? "0"
        text +=
            "\nServices (\(serviceCount)) with their spans: "
            + services.map { "\(line($0["name"]?.stringValue ?? "", limit: 100)) \($0["span_count"]?.text ?? "0")" }.joined(separator: ", ")
        text +=
            "\nMost self time: "
            + (summary["top_operations_by_self_time"]?.arrayValue ?? []).prefix(5).map { operation in
                let selfTime = UInt64(operation["self_time_us"]?.text ?? "0") ?? 0
                return
                    "\(line(operation["service"]?.stringValue ?? "", limit: 100)): \(line(operation["span_name"]?.stringValue ?? "", limit: 200)) "
                    + "×\(operation["count"]?.text ?? "0") \(duration(selfTime * 1_000))"
            }.joined(separator: "; ")
        for error in (summary["first_errors"]?.arrayValue ?? []) {
            text +=
                "\nError: \(error["span_id"]?.stringValue ?? "") \(line(error["service"]?.stringValue ?? "", limit: 100)): "
                + "\(line(error["span_name"]?.stringValue ?? "", limit: 200)): \(line(error["message"]?.stringValue ?? "", limit: 300))"
        }
        return text
    }

    func criticalPath(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let traceID = try arguments.traceID("trace_id")
        let limit = try arguments.integer("limit", in: 1...1_000, default: 100)
        let tree = TraceTree(spans: try await spans(of: traceID))
        let start = tree.start
        let segments = CriticalPath.segments(of: tree).filter { $0.end > $0.start }.sorted { $0.start < $1.start }
        var byOperation: [String: (service: String, name: String, time: UInt64, sections: Int)] = [:]
        for segment in segments {
            let node = tree.nodes[segment.node]
            let key = node.service + "\u{0}" + node.span.operationName
            byOperation[key, default: (node.service, node.span.operationName, 0, 0)].time += segment.end - segment.start
            byOperation[key]!.sections += 1
        }
        let onPath = segments.reduce(UInt64(0)) { $0 + ($1.end - $1.start) }
        let total = tree.end - min(tree.end, start)
        let operations = byOperation.values.sorted { ($0.time, $1.name) > ($1.time, $0.name) }
        let shown = segments.prefix(limit)
        var text =
            "Critical path of \(traceID.hexString): \(Self.duration(onPath)) of the trace's \(Self.duration(total)) in \(segments.count) sections"
        text +=
            "\nTime on the path per operation:\n"
            + operations.prefix(20).map {
                "\(Self.line($0.service, limit: 100)): \(Self.line($0.name, limit: 200)) \(Self.duration($0.time)) (\(Self.percent($0.time, of: max(onPath, 1))))"
            }.joined(separator: "\n")
        text +=
            "\nSections in time order (\(Self.listing(segments.count, limit: limit, noun: "sections"))):\n"
            + shown.map { segment in
                let node = tree.nodes[segment.node]
                return "+\(Self.duration(segment.start - min(segment.start, start))) \(Self.duration(segment.end - segment.start)) "
                    + "\(node.span.spanContext.spanID.hexString) \(Self.line(node.service, limit: 100)): \(Self.line(node.span.operationName, limit: 200))"
            }.joined(separator: "\n")
        return MCPToolResult(
            text: text,
            structured: [
                "trace_id": .string(traceID.hexString), "total_duration_us": JSONValue(total / 1_000),
                "critical_path_duration_us": JSONValue(onPath / 1_000),
                "by_operation": .array(
                    operations.prefix(20).map {
                        [
                            "service": .string(String($0.service.prefix(200))), "span_name": .string(String($0.name.prefix(300))),
                            "self_time_us": JSONValue($0.time / 1_000),
                            "sections": JSONValue($0.sections),
                        ]
                    }),
                "segments": .array(
                    shown.map { segment in
                        let node = tree.nodes[segment.node]
                        return [
                            "span_id": .string(node.span.spanContext.spanID.hexString),
                            "service": .string(String(node.service.prefix(200))),
                            "span_name": .string(String(node.span.operationName.prefix(300))),
                            "self_time_us": JSONValue((segment.end - segment.start) / 1_000),
                            "start_offset_us": JSONValue((segment.start - min(segment.start, start)) / 1_000),
                            "end_offset_us": JSONValue((segment.end - min(segment.end, start)) / 1_000),
                        ]
                    }),
                "segment_count": JSONValue(segments.count), "truncated": .bool(segments.count > limit),
            ])
    }

    func compareTraces(_ arguments: MCPArguments) async throws -> MCPToolResult {
        let a = try arguments.traceID("trace_id_a")
        let b = try arguments.traceID("trace_id_b")
        let limit = try arguments.integer("limit", in: 1...500, default: 30)
        let comparison = TraceComparison(try await spans(of: a), try await spans(of: b))
        func change(_ row: TraceComparison.Row) -> Int64 {
            Int64(clamping: row.durationB ?? 0) - Int64(clamping: row.durationA ?? 0)
        }
        // Structure changes first, then new errors, then the largest duration changes.
        let interesting = comparison.rows.filter { $0.change != .matched || $0.isErrorA != $0.isErrorB || change($0) != 0 }
            .sorted { lhs, rhs in
                func rank(_ row: TraceComparison.Row) -> Int { row.change != .matched ? 0 : row.isErrorB && !row.isErrorA ? 1 : 2 }
                return (rank(lhs), UInt64.max - change(lhs).magnitude) < (rank(rhs), UInt64.max - change(rhs).magnitude)
            }
        let shown = interesting.prefix(limit)
        var text = "A \(a.hexString): \(comparison.spanCountA) spans; B \(b.hexString): \(comparison.spanCountB) spans\n"
        text += comparison.summary(TraceComparison.Thresholds(maximumSpanChanges: .max, maximumNewErrors: .max))
            .split(separator: "\n").dropLast().joined(separator: "\n")
        text +=
            "\nChanges (\(Self.listing(interesting.count, limit: limit, noun: "spans changed")), added/missing first, then new errors, then the largest duration changes):\n"
        text += shown.map { row in
            let a = row.durationA.map(Self.duration) ?? "—"
            let b = row.durationB.map(Self.duration) ?? "—"
            var line =
                "\(row.change.rawValue) \(Self.line(row.service, limit: 100)): \(Self.line(row.operation, limit: 200)) [depth \(row.depth)] \(a) → \(b)"
            if let percent = row.percentChange { line += " (\(percent >= 0 ? "+" : "")\(Int(percent.rounded()))%)" }
            if row.isErrorB && !row.isErrorA { line += " now an error" }
            if row.isErrorA && !row.isErrorB { line += " no longer an error" }
            return line
        }.joined(separator: "\n")
        return MCPToolResult(
            text: text,
            structured: [
                "trace_id_a": .string(a.hexString), "trace_id_b": .string(b.hexString), "span_count_a": JSONValue(comparison.spanCountA),
                "span_count_b": JSONValue(comparison.spanCountB), "matched_count": JSONValue(comparison.matchedCount),
                "added_count": JSONValue(comparison.addedCount), "missing_count": JSONValue(comparison.missingCount),
                "new_error_count": JSONValue(comparison.newErrors.count),
                "changes": .array(
                    shown.map { row in
                        var entry: [String: JSONValue] = [
                            "change": .string(row.change.rawValue), "service": .string(String(row.service.prefix(200))),
                            "span_name": .string(String(row.operation.prefix(300))),
                            "depth": JSONValue(row.depth), "error_a": .bool(row.isErrorA), "error_b": .bool(row.isErrorB),
                        ]
                        if let duration = row.durationA { entry["duration_a_us"] = JSONValue(duration / 1_000) }
                        if let duration = row.durationB { entry["duration_b_us"] = JSONValue(duration / 1_000) }
                        if let percent = row.percentChange { entry["percent_change"] = JSONValue(percent, digits: 1) }
                        return .object(entry)
                    }),
                "changed_count": JSONValue(interesting.count), "truncated": .bool(interesting.count > limit),
            ])
    }
}
