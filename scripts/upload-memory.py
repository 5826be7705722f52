#!/usr/bin/env python3
"""What a big trace file costs the viewer (issue 27): uploading a Jaeger JSON file of one N-span trace to the explorer
(`POST /api/otter/trace-models`), and reading the same trace's model (`GET /api/otter/traces/{id}`).

Makes the file once: a fresh viewer (the first binary) is sent one `services` trace (scripts/big-trace-timing.py's
shape: 10 services, wide and deep, three attributes and an event a span) over OTLP/HTTP, and its `/api/traces/{id}`
is the file. Then, per binary and run (the binaries alternate, so each gets the machine in the same state): a fresh
viewer's peak RSS (VmHWM) is reset through /proc/PID/clear_refs and the file is uploaded; another fresh viewer is sent
the same trace, its peak reset, and the model read. Printed per binary: seconds and the viewer's peak RSS for each,
and its RSS just before (for the read, what ingest left resident). Every answer must be a 200 holding N spans, or the
script stops.

usage: .venv/bin/python scripts/upload-memory.py --binaries OLD,NEW [--spans 90000] [--runs 2]
"""
import argparse
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("big_trace_timing", os.path.join(ROOT, "scripts", "big-trace-timing.py"))
big_trace_timing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(big_trace_timing)


class Viewer:
    """A release viewer on a fresh SQLite file and ports of its own."""

    def __init__(self, binary: str):
        self.directory = tempfile.mkdtemp(prefix="otter-upload-")
        self.process = subprocess.Popen(
            [binary, "viewer", "--db", os.path.join(self.directory, "otter.sqlite"), "--otlp-grpc-port", "0",
             "--otlp-http-port", "0", "--ui-port", "0", "--max-size", "64GB"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.ingest = self.ui = None
        for line in self.process.stdout:
            if match := re.search(r"OTLP/HTTP on http://127\.0\.0\.1:(\d+)/v1/traces", line):
                self.ingest = int(match.group(1))
            if match := re.search(r"UI on http://127\.0\.0\.1:(\d+)/", line):
                self.ui = int(match.group(1))
            if self.ingest and self.ui:
                break
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def send(self, spans: int, trace_id: bytes, start: int) -> None:
        for body in big_trace_timing.requests("services", spans, trace_id, start):
            request = urllib.request.Request(f"http://127.0.0.1:{self.ingest}/v1/traces", body,
                                             {"Content-Type": "application/x-protobuf"})
            urllib.request.urlopen(request, timeout=600).read()

    def call(self, path: str, body: bytes | None = None) -> tuple[bytes, float, float, float]:
        """The answer, its seconds, the viewer's RSS before (MB) and its peak RSS while the answer was made."""
        before = big_trace_timing.memory_mb(self.process.pid, "VmRSS")
        big_trace_timing.reset_peak(self.process.pid)
        request = urllib.request.Request(f"http://127.0.0.1:{self.ui}{path}", body,
                                         {"Content-Type": "application/json"} if body else {})
        started = time.time()
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = response.read()
        return answer, time.time() - started, before, big_trace_timing.memory_mb(self.process.pid, "VmHWM")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def span_count(model: dict) -> int:
    return len(model.get("spans", []))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binaries", required=True, help="comma-separated otter binaries; the first makes the file")
    parser.add_argument("--spans", type=int, default=90_000)
    parser.add_argument("--runs", type=int, default=2)
    arguments = parser.parse_args()
    binaries = arguments.binaries.split(",")
    trace_id = random.getrandbits(128).to_bytes(16, "big")
    start = time.time_ns() - 600_000_000_000

    maker = Viewer(binaries[0])
    try:
        maker.send(arguments.spans, trace_id, start)
        file, _, _, _ = maker.call(f"/api/traces/{trace_id.hex()}")
    finally:
        maker.stop()
    print(f"file: one {arguments.spans:,}-span trace, {len(file) / 1e6:.1f} MB of Jaeger JSON\n")
    print("| binary | run | upload: time, peak RSS (RSS before) | GET /api/otter/traces/{id}: time, peak RSS (RSS before) |")
    print("|:--|--:|--:|--:|")
    for run in range(1, arguments.runs + 1):
        for binary in binaries:
            # Each in a viewer of its own: what one leaves resident is not counted in the other's peak.
            viewer = Viewer(binary)
            try:
                uploaded, upload_seconds, upload_before, upload_peak = viewer.call("/api/otter/trace-models", file)
            finally:
                viewer.stop()
            viewer = Viewer(binary)
            try:
                viewer.send(arguments.spans, trace_id, start)
                model, model_seconds, model_before, model_peak = viewer.call(f"/api/otter/traces/{trace_id.hex()}")
            finally:
                viewer.stop()
            read = span_count(json.loads(model))
            models = json.loads(uploaded)["traces"]
            if read != arguments.spans or [span_count(m) for m in models] != [arguments.spans]:
                print(f"{binary}: wrong answer: the model has {read} spans, the upload {[span_count(m) for m in models]}")
                return 1
            print(f"| {binary} | {run} | {upload_seconds:.1f} s, {upload_peak:,.0f} MB ({upload_before:,.0f} MB) "
                  f"| {model_seconds:.1f} s, {model_peak:,.0f} MB ({model_before:,.0f} MB) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
