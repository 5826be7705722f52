#!/usr/bin/env python3
"""A discarding OTLP/HTTP receiver for load tests: answers every POST to /v1/traces with an empty protobuf
ExportTraceServiceResponse (200), and counts requests, bytes and spans (it walks the protobuf's
resource_spans / scope_spans / spans fields; no protobuf library needed); gzip bodies are inflated. `GET /stats` answers
`requests=R spans=S bytes=B`. Loopback only.

    scripts/otlp-sink.py PORT
"""
import gzip
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

requests = 0
received_bytes = 0
received_spans = 0
lock = threading.Lock()


def fields(data):
    """(field number, wire type, value) of one protobuf message: value is bytes for length-delimited fields."""
    index = 0
    while index < len(data):
        key, index = varint(data, index)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, index = varint(data, index)
            yield number, wire, None
        elif wire == 1:
            index += 8
        elif wire == 2:
            length, index = varint(data, index)
            yield number, wire, data[index:index + length]
            index += length
        elif wire == 5:
            index += 4
        else:
            raise ValueError(f"wire type {wire}")


def varint(data, index):
    value, shift = 0, 0
    while True:
        byte = data[index]
        index += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, index
        shift += 7


def count_spans(body):
    """Spans in an ExportTraceServiceRequest: field 1 resource_spans > field 2 scope_spans > field 2 spans."""
    count = 0
    for number, wire, resource_spans in fields(body):
        if number != 1 or wire != 2:
            continue
        for number, wire, scope_spans in fields(resource_spans):
            if number != 2 or wire != 2:
                continue
            count += sum(1 for number, wire, _ in fields(scope_spans) if number == 2 and wire == 2)
    return count


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = f"requests={requests} spans={received_spans} bytes={received_bytes}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global requests, received_bytes, received_spans
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)  # counted as received (`bytes`), spans counted inflated
        spans = count_spans(body)
        with lock:
            requests += 1
            received_bytes += length
            received_spans += spans
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *arguments):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)

    def stop(*_):
        print(f"otlp-sink: requests={requests} spans={received_spans} bytes={received_bytes}", file=sys.stderr,
              flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
