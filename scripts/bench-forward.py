#!/usr/bin/env python3
"""Forwarding end to end: how fast `otter viewer --forward` sends on what it stores, and what it costs ingest.

Release `otter viewer` (built into .build-release so the debug build is left alone), a fresh SQLite file per run, a
discarding OTLP/HTTP receiver (scripts/otlp-sink.py, which counts the spans it gets) on 127.0.0.1. Three runs in one go:

1. baseline: REQUESTS requests of SPANS spans each (CONNECTIONS keep-alive connections) into a viewer without
   --forward; ingest spans/s and the p50/p99 latency of an ingest request;
2. forwarding: the same into a viewer forwarding to the sink, which is up: the same figures, and how long after the
   last request the sink has every span;
3. drain: the same into a viewer forwarding to a port where nothing listens yet (everything queues in the store),
   then the sink starts: spans/s from then until the sink has every span (forwarding alone, nothing else running).

Shape: each span has a name of 8, 3 attributes, 16 spans per trace, one resource per request; 64 different request
bodies are cycled (spans repeat: the viewer stores and forwards each copy). Prints a markdown table.

usage: .venv/bin/python scripts/bench-forward.py [--requests 2000] [--spans 512] [--connections 4] [--no-build]
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def body(seed: int, spans: int) -> bytes:
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=f"bench-{seed % 4}")))
    scope = resource.scope_spans.add()
    scope.scope.name = "bench"
    now = time.time_ns()
    for index in range(spans):
        if index % 16 == 0:
            trace_id = rng.getrandbits(128).to_bytes(16, "big")
            root = rng.getrandbits(64).to_bytes(8, "big")
        span = scope.spans.add()
        span.trace_id = trace_id
        span.span_id = root if index % 16 == 0 else rng.getrandbits(64).to_bytes(8, "big")
        if index % 16:
            span.parent_span_id = root
        span.name = f"operation-{index % 8}"
        span.kind = 2 if index % 16 == 0 else 3
        span.start_time_unix_nano = now - 1_000_000 + index
        span.end_time_unix_nano = now
        span.attributes.append(KeyValue(key="http.route", value=AnyValue(string_value=f"/api/{index % 8}")))
        span.attributes.append(KeyValue(key="http.response.status_code", value=AnyValue(int_value=200)))
        span.attributes.append(KeyValue(key="user.id", value=AnyValue(string_value=f"user-{rng.getrandbits(20)}")))
    return request.SerializeToString()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


DIRECTORIES = []


def start_viewer(otter: str, extra: list) -> tuple:
    directory = tempfile.mkdtemp(prefix="otter-forward-bench-")
    DIRECTORIES.append(directory)
    viewer = subprocess.Popen(
        [otter, "viewer", "--db", os.path.join(directory, "otter.sqlite"), "--otlp-grpc-port", "0", "--otlp-http-port", "0",
         "--ui-port", "0"] + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ingest = ui = None
    for line in viewer.stdout:
        match = re.search(r"OTLP/HTTP on http://127\.0\.0\.1:(\d+)/v1/traces", line)
        if match:
            ingest = int(match.group(1))
        match = re.search(r"UI on http://127\.0\.0\.1:(\d+)/", line)
        if match:
            ui = int(match.group(1))
        if ingest and ui:
            break
    threading.Thread(target=lambda: [None for _ in viewer.stdout], daemon=True).start()
    return viewer, ingest, ui


def send(port: int, bodies: list, requests: int, connections: int, spans: int) -> tuple:
    latencies = [[] for _ in range(connections)]
    failures = [0] * connections

    def worker(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for index in range(number, requests, connections):
            started = time.perf_counter()
            connection.request("POST", "/v1/traces", body=bodies[index % len(bodies)],
                               headers={"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            latencies[number].append(time.perf_counter() - started)
            if response.status != 200:
                failures[number] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    everything = sorted(latency for per_worker in latencies for latency in per_worker)
    p99 = everything[min(len(everything) - 1, int(len(everything) * 0.99))]
    return requests * spans / elapsed, statistics.median(everything) * 1000, p99 * 1000, sum(failures)


class Sink:
    def __init__(self, port: int):
        self.port = port
        self.process = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "otlp-sink.py"), str(port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                self.spans()
                return
            except OSError:
                time.sleep(0.05)

    def spans(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as response:
            return int(re.search(r"spans=(\d+)", response.read().decode()).group(1))

    def wait_for(self, total: int, deadline: float = 600) -> float:
        end = time.perf_counter() + deadline
        while time.perf_counter() < end:
            if self.spans() >= total:
                return time.perf_counter()
            time.sleep(0.02)
        raise RuntimeError(f"the sink got {self.spans()} of {total} spans")

    def stop(self):
        self.process.kill()
        self.process.wait()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--spans", type=int, default=512)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-release", "release", "otter"))
    arguments = parser.parse_args()
    if not arguments.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "otter", "--scratch-path", ".build-release"], cwd=ROOT, check=True)
    bodies = [body(seed, arguments.spans) for seed in range(64)]
    total = arguments.requests * arguments.spans
    rows = []

    viewer, ingest, _ = start_viewer(arguments.binary, [])
    rate, p50, p99, failures = send(ingest, bodies, arguments.requests, arguments.connections, arguments.spans)
    viewer.terminate()
    viewer.wait()
    rows.append(("without --forward", rate, p50, p99, failures, "", ""))

    sink = Sink(free_port())
    viewer, ingest, _ = start_viewer(arguments.binary, ["--forward", f"http://127.0.0.1:{sink.port}", "--forward-compression", "none"])
    rate, p50, p99, failures = send(ingest, bodies, arguments.requests, arguments.connections, arguments.spans)
    ended = time.perf_counter()
    lag = sink.wait_for(total) - ended
    viewer.terminate()
    viewer.wait()
    sink.stop()
    rows.append(("with --forward (sink up)", rate, p50, p99, failures, f"{lag:.2f} s", ""))

    port = free_port()
    viewer, ingest, ui = start_viewer(arguments.binary, ["--forward", f"http://127.0.0.1:{port}", "--forward-compression", "none"])
    rate, p50, p99, failures = send(ingest, bodies, arguments.requests, arguments.connections, arguments.spans)
    queued = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ui}/api/otter/status"))["forwarding"]["spans"]["queued"]
    sink = Sink(port)
    started = time.perf_counter()
    drained = sink.wait_for(total)
    viewer.terminate()
    viewer.wait()
    sink.stop()
    rows.append(("with --forward (sink down, then up)", rate, p50, p99, failures, "", f"{total / (drained - started):,.0f} spans/s ({queued:,} queued)"))

    print(f"{total:,} spans per run ({arguments.requests} requests of {arguments.spans}, {arguments.connections} connections), "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print("| run | ingest spans/s | request p50 | request p99 | refused | sink complete after the last request | drain |")
    print("|:--|--:|--:|--:|--:|--:|--:|")
    for name, rate, p50, p99, failures, lag, drain in rows:
        print(f"| {name} | {rate:,.0f} | {p50:.1f} ms | {p99:.1f} ms | {failures} | {lag} | {drain} |")
    for directory in DIRECTORIES:
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if all(row[4] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
