#!/usr/bin/env python3
"""Overload: many large requests at once against a release `otter viewer` (issue 27's backpressure check).

CONNECTIONS threads each send REQUESTS OTLP/HTTP protobuf requests at once, each about 2 MB: by default of 40,000
minimal spans (trace id, span id, name "s", no attributes: the most valid spans, and so the most decoding work and
memory, per byte), with --shape attributes of spans with three attributes, with --shape empty of 499,000 spans with no
field at all (each rejected through partial_success, after it was decoded: the most spans per byte). Each answer must be 200, or 429/503 with
Retry-After (which OTLP exporters retry); every span of a 200 must then be stored (counted through the Jaeger API by
trace: one trace per request). Prints the answers, the spans acknowledged and stored, the viewer's peak RSS (VmHWM)
and the elapsed time, and exits 1 when an answer is anything else, an acknowledged span is missing, or the peak RSS
passes --max-rss-mb.

usage: .venv/bin/python scripts/overload.py [--connections 200] [--requests 1] [--spans N] [--shape minimal]
                                            [--max-rss-mb 1536] [--binary .build-release/release/otter]
"""
import argparse
import collections
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue  # noqa: E402


def body(request_number: int, spans: int, shape: str) -> bytes:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="overload")))
    scope = resource.scope_spans.add()
    trace_id = (0x0E4E << 112 | request_number).to_bytes(16, "big")
    now = time.time_ns()
    for index in range(spans):
        span = scope.spans.add()
        if shape == "empty":
            continue
        span.trace_id = trace_id
        span.span_id = (index + 1).to_bytes(8, "big")
        span.name = "s"
        span.start_time_unix_nano = now
        span.end_time_unix_nano = now + 1
        if shape == "attributes":
            span.attributes.append(KeyValue(key="http.route", value=AnyValue(string_value=f"/r/{index % 8}")))
            span.attributes.append(KeyValue(key="n", value=AnyValue(int_value=index)))
            span.attributes.append(KeyValue(key="ok", value=AnyValue(bool_value=True)))
    return request.SerializeToString()


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--requests", type=int, default=1, help="requests per connection")
    parser.add_argument("--spans", type=int, help="spans per request (default: about 2 MB of the shape's spans)")
    parser.add_argument("--shape", choices=["minimal", "attributes", "empty"], default="minimal")
    parser.add_argument("--max-rss-mb", type=float, default=1536)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-release", "release", "otter"))
    arguments = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="otter-overload-")
    viewer = subprocess.Popen(
        [arguments.binary, "viewer", "--db", os.path.join(directory, "otter.sqlite"), "--otlp-grpc-port", "0",
         "--otlp-http-port", "0", "--ui-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ingest = ui = None
    for line in viewer.stdout:
        if match := re.search(r"OTLP/HTTP on http://127\.0\.0\.1:(\d+)/v1/traces", line):
            ingest = int(match.group(1))
        if match := re.search(r"UI on http://127\.0\.0\.1:(\d+)/", line):
            ui = int(match.group(1))
        if ingest and ui:
            break
    threading.Thread(target=lambda: [None for _ in viewer.stdout], daemon=True).start()

    if arguments.spans is None:
        arguments.spans = {"minimal": 40_000, "attributes": 20_000, "empty": 499_000}[arguments.shape]
    total = arguments.connections * arguments.requests
    bodies = [body(number, arguments.spans, arguments.shape) for number in range(total)]
    print(f"{total} requests of {len(bodies[0]) / 1e6:.2f} MB ({arguments.spans:,} {arguments.shape} spans each), "
          f"{arguments.connections} at once", flush=True)
    answers = collections.Counter()
    acknowledged = []
    problems = []
    lock = threading.Lock()
    barrier = threading.Barrier(arguments.connections)

    def send(connection_number: int) -> None:
        barrier.wait()
        for request in range(arguments.requests):
            number = connection_number * arguments.requests + request
            connection = http.client.HTTPConnection("127.0.0.1", ingest, timeout=600)
            try:
                connection.request("POST", "/v1/traces", body=bodies[number],
                                   headers={"Content-Type": "application/x-protobuf"})
                response = connection.getresponse()
                response.read()
                status, retry_after = response.status, response.getheader("Retry-After")
            except OSError as error:
                status, retry_after = f"connection error {error.__class__.__name__}", None
            finally:
                connection.close()
            with lock:
                answers[status] += 1
                if status == 200:
                    acknowledged.append(number)
                elif status in (429, 503) and retry_after is None:
                    problems.append(f"{status} without Retry-After")
                elif status not in (429, 503):
                    problems.append(f"request {number}: {status}")

    started = time.perf_counter()
    threads = [threading.Thread(target=send, args=(number,)) for number in range(arguments.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    peak = peak_rss_mb(viewer.pid)

    missing = 0
    for number in acknowledged if arguments.shape != "empty" else []:
        trace_id = f"{0x0E4E << 112 | number:032x}"
        connection = http.client.HTTPConnection("127.0.0.1", ui, timeout=600)
        connection.request("GET", f"/api/traces/{trace_id}")
        response = connection.getresponse()
        payload = response.read()
        spans = len(json.loads(payload)["data"][0]["spans"]) if response.status == 200 else 0
        missing += arguments.spans - spans
    viewer.terminate()
    viewer.wait(60)

    print("answers: " + ", ".join(f"{count} x {status}" for status, count in sorted(answers.items(), key=str)))
    print(f"spans acknowledged {len(acknowledged) * arguments.spans:,}, missing from the store {missing:,}")
    print(f"viewer peak RSS {peak:,.0f} MB; {elapsed:.1f} s for every request to be answered")
    if missing:
        problems.append(f"{missing} acknowledged spans are not stored")
    if peak > arguments.max_rss_mb:
        problems.append(f"peak RSS {peak:,.0f} MB over {arguments.max_rss_mb:,.0f} MB")
    for problem in problems[:10]:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
