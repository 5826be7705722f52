"""Sends a two-span trace to an OTLP endpoint with opentelemetry-python's exporters; prints its ids as JSON.

usage: send_spans.py http|grpc ENDPOINT
"""
import json
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

protocol, endpoint = sys.argv[1], sys.argv[2]
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True)
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    exporter = OTLPSpanExporter(endpoint=endpoint)

provider = TracerProvider(resource=Resource.create({"service.name": f"python-{protocol}"}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("python-peer")
with tracer.start_as_current_span("python-root", kind=SpanKind.SERVER) as root:
    root.set_attribute("http.request.method", "GET")
    root.set_attribute("http.response.status_code", 200)
    with tracer.start_as_current_span("python-child") as child:
        child.add_event("cache.miss", {"cache.key": "user:1"})
        child.set_status(Status(StatusCode.ERROR, "cache down"))
provider.shutdown()
print(json.dumps({
    "trace_id": format(root.get_span_context().trace_id, "032x"),
    "root_span_id": format(root.get_span_context().span_id, "016x"),
    "child_span_id": format(child.get_span_context().span_id, "016x"),
}))
