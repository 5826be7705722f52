"""opentelemetry-python as the third-party OTLP encoder and decoder for Otter's golden tests.

encode: builds spans with opentelemetry-sdk, encodes them with opentelemetry-exporter-otlp-proto-common,
        prints {"protobuf_hex": ..., "spans": [expected fields]} as JSON.
decode-protobuf FILE: decodes an ExportTraceServiceRequest with opentelemetry-proto, prints the fields as JSON.
encode-logs: logs through Python's logging module into opentelemetry-sdk's LoggingHandler, inside a span, encoded
        with opentelemetry-exporter-otlp-proto-common; prints {"protobuf_hex": ..., "trace_id", "span_id",
        "records": [expected fields]} as JSON.
decode-json FILE: reads OTLP/JSON (hex ids), converts ids to base64 and parses it with protobuf's json_format
        into the same message, then prints the fields as JSON.
decode-logs FILE protobuf|json: decodes an ExportLogsServiceRequest (OTLP/JSON as decode-json reads it) with
        opentelemetry-proto, prints its records' fields as JSON.
"""
import base64
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def value_to_python(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [value_to_python(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value_to_python(kv.value) for kv in any_value.kvlist_value.values}
    return getattr(any_value, kind) if kind else None


def describe(request):
    spans = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: value_to_python(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append({
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "trace_state": span.trace_state,
                    "flags": span.flags,
                    "name": span.name,
                    "kind": span.kind,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "attributes": {kv.key: value_to_python(kv.value) for kv in span.attributes},
                    "dropped_attributes_count": span.dropped_attributes_count,
                    "events": [
                        {"name": e.name, "time": e.time_unix_nano,
                         "attributes": {kv.key: value_to_python(kv.value) for kv in e.attributes}}
                        for e in span.events
                    ],
                    "dropped_events_count": span.dropped_events_count,
                    "links": [
                        {"trace_id": l.trace_id.hex(), "span_id": l.span_id.hex(), "trace_state": l.trace_state,
                         "attributes": {kv.key: value_to_python(kv.value) for kv in l.attributes},
                         "dropped_attributes_count": l.dropped_attributes_count, "flags": l.flags}
                        for l in span.links
                    ],
                    "dropped_links_count": span.dropped_links_count,
                    "status_code": span.status.code,
                    "status_message": span.status.message,
                    "resource": resource,
                    "scope_name": scope_spans.scope.name,
                    "scope_version": scope_spans.scope.version,
                })
    return spans


def hex_ids_to_base64(node):
    if isinstance(node, dict):
        return {
            k: (base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId") else hex_ids_to_base64(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [hex_ids_to_base64(v) for v in node]
    return node


def encode():
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "python-golden", "deployment.environment": "test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("golden-scope", "1.2.3")
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "GET")
        root.set_attribute("http.response.status_code", 200)
        root.set_attribute("ratio", 0.25)
        root.set_attribute("cached", True)
        root.set_attribute("tags", ["a", "b"])
        root.set_attribute("sizes", [1, 2, 3])
        root.add_event("order.validated", {"order.item_count": 3})
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT, links=[Link(root.get_span_context(), {"link.kind": "retry"})]) as child:
            child.set_status(Status(StatusCode.ERROR, "downstream failed"))
    request = encode_spans(exporter.get_finished_spans())
    print(json.dumps({"protobuf_hex": request.SerializeToString().hex(), "spans": describe(request)}))


def encode_logs():
    import logging

    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs as encode
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "python-logs"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("golden.logs")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
    tracer = TracerProvider().get_tracer("golden-scope")
    with tracer.start_as_current_span("checkout") as span:
        logger.info("order placed", extra={"order.id": 42, "paid": True})
        logger.error("payment declined")
    context = span.get_span_context()
    request = encode([data for data in exporter.get_finished_logs()])
    records = []
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                records.append({
                    "body": record.body.string_value, "severity_number": record.severity_number,
                    "severity_text": record.severity_text, "trace_id": record.trace_id.hex(),
                    "span_id": record.span_id.hex(), "time": record.time_unix_nano,
                    "attributes": {kv.key: value_to_python(kv.value) for kv in record.attributes},
                    "scope_name": scope_logs.scope.name,
                    "service_name": {kv.key: value_to_python(kv.value) for kv in resource_logs.resource.attributes}.get("service.name"),
                })
    print(json.dumps({"protobuf_hex": request.SerializeToString().hex(), "trace_id": format(context.trace_id, "032x"),
                      "span_id": format(context.span_id, "016x"), "records": records}))


def describe_logs(request):
    records = []
    for resource_logs in request.resource_logs:
        resource = {kv.key: value_to_python(kv.value) for kv in resource_logs.resource.attributes}
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                records.append({
                    "body": value_to_python(record.body), "severity_number": record.severity_number,
                    "severity_text": record.severity_text, "trace_id": record.trace_id.hex(), "span_id": record.span_id.hex(),
                    "flags": record.flags, "time": record.time_unix_nano, "observed_time": record.observed_time_unix_nano,
                    "attributes": {kv.key: value_to_python(kv.value) for kv in record.attributes},
                    "scope_name": scope_logs.scope.name, "resource": resource,
                })
    return records


def main():
    command = sys.argv[1]
    if command == "encode":
        encode()
    elif command == "encode-logs":
        encode_logs()
    elif command == "decode-protobuf":
        with open(sys.argv[2], "rb") as f:
            request = ExportTraceServiceRequest.FromString(f.read())
        print(json.dumps(describe(request)))
    elif command == "decode-logs":
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        if sys.argv[3] == "json":
            with open(sys.argv[2]) as f:
                request = json_format.ParseDict(hex_ids_to_base64(json.load(f)), ExportLogsServiceRequest())
        else:
            with open(sys.argv[2], "rb") as f:
                request = ExportLogsServiceRequest.FromString(f.read())
        print(json.dumps(describe_logs(request)))
    elif command == "decode-json":
        with open(sys.argv[2]) as f:
            tree = json.load(f)
        request = json_format.ParseDict(hex_ids_to_base64(tree), ExportTraceServiceRequest())
        print(json.dumps(describe(request)))


main()
