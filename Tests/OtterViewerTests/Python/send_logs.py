"""Logs through Python's logging module inside a span, sent by opentelemetry-python's LoggingHandler and OTLP log
exporter to ENDPOINT; prints the trace and span ids as JSON.

usage: send_logs.py http|grpc ENDPOINT
"""
import json
import logging
import sys

from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

protocol, endpoint = sys.argv[1], sys.argv[2]
if protocol == "grpc":
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=endpoint, insecure=True)
else:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    exporter = OTLPLogExporter(endpoint=endpoint)

resource = Resource.create({"service.name": f"python-logs-{protocol}"})
logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
handler = LoggingHandler(level=logging.DEBUG, logger_provider=logger_provider)
log = logging.getLogger("python-peer")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
log.propagate = False

tracer = TracerProvider(resource=resource).get_tracer("python-peer")
with tracer.start_as_current_span("python-root") as root:
    log.info("root step", extra={"order.id": "42"})
    with tracer.start_as_current_span("python-child") as child:
        log.warning("child step %s", "slow")
        log.error("child failed")
log.info("no span here")
logger_provider.shutdown()

print(json.dumps({
    "trace_id": format(root.get_span_context().trace_id, "032x"),
    "root_span_id": format(root.get_span_context().span_id, "016x"),
    "child_span_id": format(child.get_span_context().span_id, "016x"),
}))
