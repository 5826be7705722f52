#!/usr/bin/env python3
"""Big traces in the explorer (issue 27): how long a trace of N spans takes to open, and what the viewer's memory peaks at.

Starts a release `otter viewer` on a fresh SQLite file, sends one trace per (shape, size) over OTLP/HTTP protobuf in
requests of 5,000 spans, then per trace:
- GET /trace/{id} from Python: seconds and megabytes of the page (the server's share);
- opens /trace/{id} in headless Chromium (chromedriver) --loads times: milliseconds from navigation start until the
  explorer reports drawn rows (`#explorer[data-visible-rows]`), the median printed;
- opens it in --pages-at-once browser sessions at the same moment and reports the viewer's peak RSS (VmHWM, reset
  through /proc/PID/clear_refs before each phase) while they load, and its RSS just before (what ingest left).

Shapes: `chains` (one service, one attribute; a deep chain every 10th span, as scripts/big-trace.py), `services` (10
services, each span under a random one of the previous 64: wide and deep; three attributes and one event a span).

usage: .venv/bin/python scripts/big-trace-timing.py [--sizes 10000,100000] [--shapes chains,services] [--loads 3]
                                                    [--pages-at-once 3] [--binary .build-release/release/otter]
"""
import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue  # noqa: E402

BATCH = 5_000


def parent_of(shape: str, index: int, rng: random.Random) -> int:
    """The index of span `index`'s parent, -1 for the root."""
    if index == 0:
        return -1
    if shape == "chains":
        return index - 1 if index % 10 else index // 2
    return rng.randrange(max(0, index - 64), index)


def requests(shape: str, count: int, trace_id: bytes, start: int):
    """The trace's spans as OTLP requests of up to BATCH spans (one resource per service in each)."""
    rng = random.Random(count)
    for first in range(0, count, BATCH):
        request = ExportTraceServiceRequest()
        scopes = {}
        for index in range(first, min(count, first + BATCH)):
            service = "big" if shape == "chains" else f"service-{index % 10}"
            if service not in scopes:
                resource = request.resource_spans.add()
                resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
                scopes[service] = resource.scope_spans.add()
            span = scopes[service].spans.add()
            span.trace_id = trace_id
            span.span_id = (index + 1).to_bytes(8, "big")
            parent = parent_of(shape, index, rng)
            if parent >= 0:
                span.parent_span_id = (parent + 1).to_bytes(8, "big")
            span.name = f"op-{index % 50}"
            span.kind = 2
            span.start_time_unix_nano = start + index * 1_000
            span.end_time_unix_nano = start + index * 1_000 + 500
            span.attributes.append(KeyValue(key="i", value=AnyValue(int_value=index)))
            if shape == "services":
                span.attributes.append(KeyValue(key="http.route", value=AnyValue(string_value=f"/orders/{index % 100}")))
                span.attributes.append(KeyValue(key="user", value=AnyValue(string_value=f"user-{index % 997}")))
                event = span.events.add()
                event.name = "checkpoint"
                event.time_unix_nano = start + index * 1_000 + 100
                event.attributes.append(KeyValue(key="step", value=AnyValue(int_value=index % 7)))
        yield request.SerializeToString()


def memory_mb(pid: int, field: str) -> float:
    """A /proc/PID/status memory field (VmRSS, VmHWM) in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as clear:
        clear.write("5")


class Driver:
    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(["chromedriver", f"--port={self.port}", "--allowed-ips=127.0.0.1"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.call("GET", "/status")
                return
            except OSError:
                time.sleep(0.1)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data, {"Content-Type": "application/json"},
                                         method=method)
        return json.loads(urllib.request.urlopen(request, timeout=600).read())["value"]

    def session(self) -> str:
        return self.call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"]}}}})["sessionId"]

    def open_and_time(self, session: str, url: str) -> float:
        """Milliseconds from navigation start until the explorer has drawn its rows."""
        self.call("POST", f"/session/{session}/url", {"url": url})
        while True:
            ready = self.call("POST", f"/session/{session}/execute/sync", {"script":
                "const e = document.querySelector('#explorer'); return e && e.dataset.visibleRows ? performance.now() : null",
                "args": []})
            if ready is not None:
                return ready
            time.sleep(0.01)

    def close(self, session: str) -> None:
        self.call("DELETE", f"/session/{session}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--shapes", default="chains,services")
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--pages-at-once", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-release", "release", "otter"))
    arguments = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="otter-big-trace-")
    viewer = subprocess.Popen(
        [arguments.binary, "viewer", "--db", os.path.join(directory, "otter.sqlite"), "--otlp-grpc-port", "0",
         "--otlp-http-port", "0", "--ui-port", "0", "--max-size", "64GB"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ingest = ui = None
    for line in viewer.stdout:
        if match := re.search(r"OTLP/HTTP on http://127\.0\.0\.1:(\d+)/v1/traces", line):
            ingest = int(match.group(1))
        if match := re.search(r"UI on http://127\.0\.0\.1:(\d+)/", line):
            ui = int(match.group(1))
        if ingest and ui:
            break
    threading.Thread(target=lambda: [None for _ in viewer.stdout], daemon=True).start()
    driver = Driver()
    try:
        print(f"| shape | spans | GET /trace/{{id}} | page size | explorer drawn (median of {arguments.loads}) "
              f"| viewer peak RSS, {arguments.pages_at_once} pages at once (RSS before) |")
        print("|:--|--:|--:|--:|--:|--:|")
        for shape in arguments.shapes.split(","):
            for size in [int(text) for text in arguments.sizes.split(",")]:
                trace_id = random.getrandbits(128).to_bytes(16, "big")
                start = time.time_ns() - 600_000_000_000
                for body in requests(shape, size, trace_id, start):
                    request = urllib.request.Request(f"http://127.0.0.1:{ingest}/v1/traces", body,
                                                     {"Content-Type": "application/x-protobuf"})
                    urllib.request.urlopen(request, timeout=600).read()
                url = f"http://127.0.0.1:{ui}/trace/{trace_id.hex()}"
                started = time.time()
                with urllib.request.urlopen(url, timeout=600) as response:
                    page_bytes = len(response.read())
                server_seconds = time.time() - started

                session = driver.session()
                times = [driver.open_and_time(session, url) for _ in range(arguments.loads)]
                driver.close(session)

                before = memory_mb(viewer.pid, "VmRSS")
                reset_peak(viewer.pid)
                sessions = [driver.session() for _ in range(arguments.pages_at_once)]
                threads = [threading.Thread(target=driver.open_and_time, args=(s, url)) for s in sessions]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                peak = memory_mb(viewer.pid, "VmHWM")
                for s in sessions:
                    driver.close(s)
                print(f"| {shape} | {size:,} | {server_seconds:.2f} s | {page_bytes / 1e6:.1f} MB | "
                      f"{statistics.median(times):,.0f} ms ({', '.join(f'{t:,.0f}' for t in times)}) | {peak:,.0f} MB ({before:,.0f} MB) |",
                      flush=True)
    finally:
        driver.process.kill()
        viewer.terminate()
        viewer.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
