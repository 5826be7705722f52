"""A Flask server wrapped in opentelemetry-python's WSGI middleware; prints each span as one JSON line."""
import os
import signal
import sys

from flask import Flask
from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from werkzeug.serving import make_server

provider = TracerProvider(resource=Resource.create({"service.name": "python-server"}))
provider.add_span_processor(
    SimpleSpanProcessor(ConsoleSpanExporter(formatter=lambda span: span.to_json(indent=None) + "\n"))
)
trace.set_tracer_provider(provider)

app = Flask(__name__)
app.wsgi_app = OpenTelemetryMiddleware(app.wsgi_app)


@app.route("/")
def index():
    return "hello from python\n"


server = make_server("127.0.0.1", 0, app)


def stop(*_):
    provider.shutdown()
    sys.stdout.flush()
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
# A parent that runs on Dispatch threads spawns us with signals blocked: take SIGTERM back.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
print(f"python-server listening on http://127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()
