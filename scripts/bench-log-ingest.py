#!/usr/bin/env python3
"""Log ingest end to end: OTLP/HTTP protobuf log batches into a release `otter viewer`, records per second.

Starts `otter viewer` (release build, in .build-release so that it leaves the debug build alone) on a fresh SQLite file, sends
BATCHES requests of RECORDS log records each from CONNECTIONS keep-alive connections. Shape: each record has a body of
six words from a small vocabulary plus a request id, a `request.id` and an `http.response.status_code` attribute, a
severity; every RECORDS_PER_TRACE records (default 8, a request's log lines) share a trace, a span and a request id;
64 different request bodies are cycled. Then it stops the viewer and counts the records in the file: every acknowledged
record (HTTP 200) must be stored. Prints records/s over the time from the first request to the last answer.

usage: scripts/bench-log-ingest.py [--batches 400] [--records 512] [--connections 4] [--records-per-trace 8]
                                   [--no-build] [--binary PATH]
Needs opentelemetry-proto (bash scripts/setup-python-peers.sh; run with .venv/bin/python).
"""
import argparse
import http.client
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def batch(seed: int, records: int, records_per_trace: int) -> bytes:
    rng = random.Random(seed)
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=f"bench-{seed % 4}")))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "bench"
    now = time.time_ns()
    words = ["order", "payment", "cache", "user", "request", "declined", "timeout", "retry", "db", "queue"]
    trace_id = span_id = request_id = None
    for index in range(records):
        if index % records_per_trace == 0:
            # A request: its records share a trace, a span and a request id (the ids are what a search looks for).
            trace_id = rng.getrandbits(128).to_bytes(16, "big")
            span_id = rng.getrandbits(64).to_bytes(8, "big")
            request_id = f"{rng.getrandbits(40):x}"
        record = scope_logs.log_records.add()
        record.time_unix_nano = now - (records - index) * 1000
        record.observed_time_unix_nano = record.time_unix_nano
        record.severity_number = rng.choice([5, 9, 9, 9, 13, 17])
        record.severity_text = "INFO"
        record.body.string_value = " ".join(rng.choice(words) for _ in range(6)) + f" request={request_id}"
        record.attributes.append(KeyValue(key="request.id", value=AnyValue(string_value=request_id)))
        record.attributes.append(KeyValue(key="http.response.status_code", value=AnyValue(int_value=rng.choice([200, 404, 500]))))
        record.trace_id = trace_id
        record.span_id = span_id
        record.flags = 1
    return request.SerializeToString()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--records", type=int, default=512)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--records-per-trace", type=int, default=8,
                        help="records that share a trace, span and request id (1: every record unique, the worst case)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-release", "release", "otter"), help="the otter executable")
    arguments = parser.parse_args()
    if not arguments.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "otter", "--scratch-path", ".build-release"], cwd=ROOT, check=True)
    otter = arguments.binary
    bodies = [batch(seed, arguments.records, max(1, arguments.records_per_trace)) for seed in range(64)]

    directory = tempfile.mkdtemp(prefix="otter-log-ingest-")
    database = os.path.join(directory, "otter.sqlite")
    viewer = subprocess.Popen(
        [otter, "viewer", "--db", database, "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    for line in viewer.stdout:
        match = re.search(r"OTLP/HTTP logs on http://127\.0\.0\.1:(\d+)/v1/logs", line)
        if match:
            port = int(match.group(1))
            break
    if port is None:
        print("the viewer did not start", file=sys.stderr)
        return 1
    threading.Thread(target=lambda: [None for _ in viewer.stdout], daemon=True).start()

    acknowledged = [0] * arguments.connections
    failures = [0] * arguments.connections

    def send(worker: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for index in range(worker, arguments.batches, arguments.connections):
            connection.request("POST", "/v1/logs", body=bodies[index % len(bodies)],
                               headers={"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                acknowledged[worker] += arguments.records
            else:
                failures[worker] += 1
        connection.close()

    def cpu_seconds() -> float:
        # utime + stime of the viewer process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
        with open(f"/proc/{viewer.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    workers = [threading.Thread(target=send, args=(worker,)) for worker in range(arguments.connections)]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    viewer.terminate()
    viewer.wait(timeout=60)

    stored = sqlite3.connect(database).execute("SELECT COALESCE(SUM(recordCount), 0) FROM log_block").fetchone()[0]
    total = sum(acknowledged)
    print(f"{total:,} log records acknowledged in {elapsed:.2f} s: {total / elapsed:,.0f} records/s "
          f"({arguments.connections} connections, {arguments.records} records per request, "
          f"{arguments.records_per_trace} per trace, {sum(failures)} requests refused)")
    # CPU time is what the machine's other load disturbs least: records per second of the viewer's own CPU.
    print(f"viewer CPU: {cpu:.2f} s, {total / cpu:,.0f} records per CPU-second; load average {os.getloadavg()[0]:.2f}")
    print(f"stored after the viewer stopped: {stored:,} ({'all' if stored == total else 'MISSING ' + str(total - stored)})")
    return 0 if stored == total and sum(failures) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
