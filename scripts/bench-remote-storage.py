#!/usr/bin/env python3
"""Jaeger remote storage: how long a large trace takes to read through `GetTraces`, against the Jaeger HTTP APIs that
read the same store, in one run.

Release `otter viewer --remote-storage-port` (built into .build-release so the debug build is left alone), a fresh
SQLite file, on 127.0.0.1. One trace of SPANS spans (two services, one 80-byte attribute per span, the shape of
Tests/EndToEndTests/Python/remote_storage_client.py) is written through the port's OTLP TraceService, then read ROUNDS
times each way: `GetTraces` with a grpcio client generated from Protos/ (default 4 MiB receive limit), `GET
/api/traces/{id}` (Jaeger's UI model) and `GET /api/v3/traces/{id}` (OTLP JSON). Prints a markdown table of medians,
with each path as a ratio to `/api/traces/{id}`.

usage: .venv/bin/python scripts/bench-remote-storage.py [--spans 100000] [--rounds 5] [--no-build]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests/EndToEndTests/Python"))
from remote_storage_client import generate, write_trace  # noqa: E402  (the end-to-end test's stubs and trace)


def start_viewer(binary, db):
    viewer = subprocess.Popen(
        [binary, "viewer", "--db", db, "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", "0",
         "--remote-storage-port", "0"], stdout=subprocess.PIPE, text=True)
    ports = {}
    while len(ports) < 2:
        line = viewer.stdout.readline()
        if not line:
            raise SystemExit("the viewer stopped")
        if "remote storage (gRPC) on " in line:
            ports["grpc"] = line.rsplit(" on ", 1)[1].strip()
        if "UI on " in line:
            ports["ui"] = line.rsplit(" on ", 1)[1].strip()
    return viewer, ports


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-build", action="store_true")
    arguments = parser.parse_args()
    if not arguments.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "otter", "--scratch-path", ".build-release"], cwd=ROOT,
                       check=True)
    binary = os.path.join(ROOT, ".build-release/x86_64-unknown-linux-gnu/release/otter")
    stubs = tempfile.mkdtemp(prefix="otter-bench-stubs-")
    generate(os.path.join(ROOT, "Protos"), stubs)
    from storage.v2 import trace_storage_pb2, trace_storage_pb2_grpc

    db = os.path.join(tempfile.mkdtemp(prefix="otter-bench-remote-"), "otter.sqlite")
    viewer, ports = start_viewer(binary, db)
    try:
        channel = grpc.insecure_channel(ports["grpc"])
        trace_id = bytes.fromhex("be7c" * 8)
        start = (time.time_ns() // 10**9 - 600) * 10**9
        write_trace(channel, trace_id, arguments.spans, start)

        reader = trace_storage_pb2_grpc.TraceReaderStub(channel)
        query = trace_storage_pb2.GetTracesRequest(query=[trace_storage_pb2.GetTraceParams(trace_id=trace_id)])

        def grpc_read():
            chunks = list(reader.GetTraces(query, timeout=600))
            spans = sum(len(ss.spans) for chunk in chunks for rs in chunk.resource_spans for ss in rs.scope_spans)
            return spans, len(chunks), sum(chunk.ByteSize() for chunk in chunks)

        def http_read(path):
            def read():
                with urllib.request.urlopen(ports["ui"] + path, timeout=600) as response:
                    body = response.read()
                return None, None, len(body)
            return read

        paths = [("`GetTraces` (gRPC, remote storage)", grpc_read),
                 ("`GET /api/traces/{id}` (HTTP, Jaeger UI model)", http_read(f"api/traces/{trace_id.hex()}")),
                 ("`GET /api/v3/traces/{id}` (HTTP, OTLP JSON)", http_read(f"api/v3/traces/{trace_id.hex()}"))]
        results = {}
        for name, read in paths:
            times, detail = [], None
            for _ in range(arguments.rounds):
                began = time.perf_counter()
                detail = read()
                times.append(time.perf_counter() - began)
            results[name] = (statistics.median(times), detail)
        spans, chunks, _ = results[paths[0][0]][1]
        if spans != arguments.spans:
            raise SystemExit(f"GetTraces returned {spans} spans, not {arguments.spans}")
        baseline = results[paths[1][0]][0]
        print(f"One trace of {arguments.spans:,} spans, median of {arguments.rounds} reads, release build, 127.0.0.1:\n")
        print("| read | median | spans/s | bytes | ratio to `/api/traces/{id}` |")
        print("|---|---|---|---|---|")
        for name, _ in paths:
            median, (_, _, size) = results[name]
            print(f"| {name} | {median:.2f} s | {arguments.spans / median:,.0f} | {size:,} | {median / baseline:.2f} |")
        print(f"\n`GetTraces` answered in {chunks} chunks (each under 4 MiB).")
    finally:
        viewer.terminate()
        viewer.wait(timeout=60)


if __name__ == "__main__":
    main()
