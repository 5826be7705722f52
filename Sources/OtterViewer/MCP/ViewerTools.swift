/// The tools Otter's MCP servers offer (`/mcp` on the viewer and `otter mcp`): Jaeger v2's tool names and arguments,
/// so agents' prompts carry over, and Otter's own (operation statistics, trace comparison, logs). Every list in an
/// answer says how many there were and whether it was cut.
package enum ViewerTools {
    package static let all: [MCPTool] = [
        MCPTool(
            name: "get_services", title: "Services",
            description: "List the names of the services that sent spans, optionally those matching `pattern`.",
            inputSchema: Schema.object([
                "pattern": Schema.string(Schema.pattern),
                "limit": Schema.integer("Most names returned.", minimum: 1, maximum: 1_000, default: 100),
            ])),
        MCPTool(
            name: "get_span_names", title: "Span names of a service",
            description: "List a service's span (operation) names with their span kinds (server, client, internal, producer, consumer).",
            inputSchema: Schema.object(
                [
                    "service_name": Schema.string("The service."),
                    "pattern": Schema.string(Schema.pattern),
                    "span_kind": Schema.string("Only spans of this kind: server, client, internal, producer or consumer."),
                    "limit": Schema.integer("Most names returned.", minimum: 1, maximum: 1_000, default: 100),
                ], required: ["service_name"])),
        MCPTool(
            name: "search_traces", title: "Search traces",
            description: """
                Find traces by service, span name, attributes, errors, duration and time. Returns summaries (trace id, root \
                span, start, duration, span and error counts, services), newest first, without spans; says when there were more.
                """,
            inputSchema: Schema.object([
                "service_name": Schema.string("A span of the trace comes from this service (omit to search all services)."),
                "span_name": Schema.string("A span of the trace has this name (with service_name)."),
                "attributes": [
                    "type": "object", "additionalProperties": ["type": "string"],
                    "description":
                        "Attributes one span (or its resource) must have, name to value, e.g. {\"http.response.status_code\": \"500\"}.",
                ],
                "with_errors": ["type": "boolean", "description": "Only traces with a span whose status is error."],
                "start_time_min": Schema.string("Traces starting at or after this time (default -1h): " + Schema.time),
                "start_time_max": Schema.string("Traces starting before this time (default now): " + Schema.time),
                "duration_min": Schema.string("A span of the trace (of service_name) lasts at least this long: 100ms, 2s, 1m."),
                "duration_max": Schema.string("A span of the trace (of service_name) lasts at most this long (the trace may be longer)."),
                "search_depth": Schema.integer("Most traces returned.", minimum: 1, maximum: 100, default: 20),
            ])),
        MCPTool(
            name: "get_trace_topology", title: "Trace structure",
            description: """
                A trace's overview within a bounded size, for traces of any size: a summary (spans, services, operations, \
                depth, errors), its critical path, and its spans depth-first (path of span ids, service, name, kind, \
                start offset, duration, status) up to max_spans, taken from the top of the tree; spans whose children were \
                left out say how many (truncated_children). Expand a subtree with root_span_id; read attributes, events \
                and links with get_span_details.
                """,
            inputSchema: Schema.object(
                [
                    "trace_id": Schema.traceID,
                    "root_span_id": Schema.string("List only the subtree under this span (16 hex digits)."),
                    "depth": Schema.integer(
                        "Levels listed below the root (0: all; 1: the root and its children).", minimum: 0, maximum: 10_000, default: 0),
                    "max_spans": Schema.integer("Most spans listed.", minimum: 1, maximum: 1_000, default: 100),
                ], required: ["trace_id"])),
        MCPTool(
            name: "get_critical_path", title: "Critical path",
            description: """
                The chain of span sections that determined the trace's duration (what it waited for), in time order, with \
                each section's self time, and the time on the path per operation (largest first): where the latency is.
                """,
            inputSchema: Schema.object(
                [
                    "trace_id": Schema.traceID,
                    "limit": Schema.integer("Most sections listed.", minimum: 1, maximum: 1_000, default: 100),
                ], required: ["trace_id"])),
        MCPTool(
            name: "get_trace_errors", title: "Errors of a trace",
            description: "The spans of a trace whose status is error, in full (attributes, events such as exceptions, links).",
            inputSchema: Schema.object(
                [
                    "trace_id": Schema.traceID,
                    "limit": Schema.integer("Most spans returned.", minimum: 1, maximum: 100, default: 20),
                ], required: ["trace_id"])),
        MCPTool(
            name: "get_span_details", title: "Span details",
            description: "Spans of a trace in full: attributes, events, links, status, resource, parent, and their log records.",
            inputSchema: Schema.object(
                [
                    "trace_id": Schema.traceID,
                    "span_ids": [
                        "type": "array", "items": ["type": "string"], "minItems": 1, "maxItems": 20,
                        "description": "Span ids (16 hex digits each), at most 20.",
                    ],
                ], required: ["trace_id", "span_ids"])),
        MCPTool(
            name: "get_service_dependencies", title: "Service dependencies",
            description: "Which service calls which, with call counts, over a time window (default the last 24 hours).",
            inputSchema: Schema.object([
                "start_time": Schema.string("Window start (default 24 hours before end_time): " + Schema.time),
                "end_time": Schema.string("Window end (default now): " + Schema.time),
                "limit": Schema.integer("Most pairs returned (most calls first).", minimum: 1, maximum: 2_000, default: 500),
            ])),
        MCPTool(
            name: "get_operation_stats", title: "Operation statistics",
            description: """
                Per operation of a service over a window, without reading traces: calls, calls per second, error rate, \
                p50/p95/p99 latency in milliseconds (estimates from duration buckets about 20 % wide); and the same for the \
                window before it, with the p95 change, so you see what got slower or started failing. Sorted by calls.
                """,
            inputSchema: Schema.object(
                [
                    "service_name": Schema.string("The service."),
                    "span_kind": Schema.string("Only spans of this kind: server, client, internal, producer or consumer (default all)."),
                    "lookback": Schema.string("The window, ending now: 15m, 1h (default), 6h, 2d."),
                    "limit": Schema.integer("Most operations returned.", minimum: 1, maximum: 1_000, default: 50),
                ], required: ["service_name"])),
        MCPTool(
            name: "compare_traces", title: "Compare two traces",
            description: """
                Two traces compared span by span, as `otter diff` does: spans matched by service, name and position, spans \
                added in B and missing from B, and matched spans whose duration changed most (or that became errors).
                """,
            inputSchema: Schema.object(
                [
                    "trace_id_a": Schema.string("The first (baseline) trace id."),
                    "trace_id_b": Schema.string("The second trace id."),
                    "limit": Schema.integer("Most changed spans listed.", minimum: 1, maximum: 500, default: 30),
                ], required: ["trace_id_a", "trace_id_b"])),
        MCPTool(
            name: "search_logs", title: "Search log records",
            description: "Log records, newest first, by service, minimum severity, words of the message, attributes, trace and time.",
            inputSchema: Schema.object([
                "service_name": Schema.string("The service that logged."),
                "query": Schema.string("Words that must all appear in the message or an attribute value (whole words, any case)."),
                "min_severity": Schema.string("Least severity: trace, debug, info, warn, error or fatal."),
                "attributes": [
                    "type": "object", "additionalProperties": ["type": "string"],
                    "description": "Attributes the record (or its resource) must have, name to value.",
                ],
                "trace_id": Schema.string("Only records logged inside this trace."),
                "start_time": Schema.string("Records at or after this time (default -1h): " + Schema.time),
                "end_time": Schema.string("Records before this time (default now): " + Schema.time),
                "limit": Schema.integer("Most records returned.", minimum: 1, maximum: 500, default: 50),
            ])),
        MCPTool(
            name: "get_trace_logs", title: "Log records of a trace",
            description: "The log records written inside a trace (or one of its spans), in time order, each with its span's name.",
            inputSchema: Schema.object(
                [
                    "trace_id": Schema.traceID,
                    "span_id": Schema.string("Only records of this span (16 hex digits)."),
                    "limit": Schema.integer("Most records returned.", minimum: 1, maximum: 1_000, default: 200),
                ], required: ["trace_id"])),
    ]
}
