"""GETs a URL with opentelemetry-python's requests instrumentation; prints each span as one JSON line."""
import sys

import requests
from opentelemetry import trace
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "python-client"}))
provider.add_span_processor(
    SimpleSpanProcessor(ConsoleSpanExporter(formatter=lambda span: span.to_json(indent=None) + "\n"))
)
trace.set_tracer_provider(provider)
RequestsInstrumentor().instrument()

response = requests.get(sys.argv[1], timeout=30)
print(f"status {response.status_code}", flush=True)
provider.shutdown()
sys.exit(0 if response.ok else 1)
