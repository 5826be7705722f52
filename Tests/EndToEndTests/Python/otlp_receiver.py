"""An OTLP/HTTP receiver built on the official opentelemetry-proto package, for the forwarding tests.

    otlp_receiver.py PORT [--hang]

With --hang it accepts connections, prints `connection` for each and never answers (an upstream that hangs). Otherwise it listens on 127.0.0.1:PORT (0 picks one) and prints `listening PORT`, then one JSON line per request it accepts:
{"path": "/v1/traces", "span_ids": [...hex...], "trace_ids": [...]} or {"path": "/v1/logs", "bodies": [...]}.
Answers 200 with an empty export response (protobuf). Handles gzip request bodies.
"""
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_response(415)
            self.end_headers()
            return
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest.FromString(body)
            spans = [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
            line = {"path": self.path, "authorization": self.headers.get("Authorization"),
                    "span_ids": [span.span_id.hex() for span in spans],
                    "trace_ids": sorted({span.trace_id.hex() for span in spans}),
                    "services": sorted({a.value.string_value for rs in request.resource_spans
                                        for a in rs.resource.attributes if a.key == "service.name"})}
            answer = ExportTraceServiceResponse().SerializeToString()
        elif self.path == "/v1/logs":
            request = ExportLogsServiceRequest.FromString(body)
            records = [r for rl in request.resource_logs for sl in rl.scope_logs for r in sl.log_records]
            line = {"path": self.path, "bodies": [r.body.string_value for r in records]}
            answer = ExportLogsServiceResponse().SerializeToString()
        else:
            self.send_response(404)
            self.end_headers()
            return
        print(json.dumps(line), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *arguments):
        pass


def hang(port):
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen()
    print(f"listening {listener.getsockname()[1]}", flush=True)
    held = []
    while True:
        connection, _ = listener.accept()
        held.append(connection)
        print("connection", flush=True)


if "--hang" in sys.argv:
    hang(int(sys.argv[1]))
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
