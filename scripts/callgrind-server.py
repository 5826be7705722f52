#!/usr/bin/env python3
"""Instructions per HTTP request of Hummingbird's hello world (Benchmarks/HelloServer), untraced, with
TracingMiddleware and nothing bootstrapped (NoOpTracer, the floor), with Otter and with swift-otel, under callgrind.

Each mode serves N and then 2N keep-alive `GET /` requests from one client on 127.0.0.1; the difference of the two
runs' totals divided by N is the cost of one request (start-up, shutdown and the last export cancel out). Traced
modes export every span over OTLP/HTTP protobuf to scripts/otlp-sink.py, so the figure includes building the span,
Hummingbird's attribute writes, encoding and sending. Unlike requests/s under wrk, the machine's load does not move
these figures. Prints a markdown table.

    scripts/callgrind-server.py [--requests N] [--modes untraced,noop,otter,swift-otel] [--no-build]
"""
import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "Benchmarks", ".build", "release", "HelloServer")
SERVER_PORT = 28082
SINK_PORT = 24320


def request_loop(count):
    deadline = time.monotonic() + 300
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", SERVER_PORT, timeout=60)
            connection.request("GET", "/")
            connection.getresponse().read()
            break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit("HelloServer did not answer under valgrind within 300 s")
            time.sleep(0.5)
    for _ in range(count):
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"HelloServer answered {response.status}")
    connection.close()


def instructions(binary, mode, count, work):
    output = os.path.join(work, f"callgrind-{mode}-{count}.out")
    environment = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{SINK_PORT}",
                       OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={output}", binary, str(SERVER_PORT), mode],
        env=environment, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"{mode}-{count}.log"), "w"))
    try:
        request_loop(count)
    finally:
        server.terminate()
        server.wait(timeout=300)
    with open(output) as file:
        return int(re.search(r"^summary: (\d+)", file.read(), re.MULTILINE).group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--modes", default="untraced,noop,otter,swift-otel")
    parser.add_argument("--no-build", action="store_true")
    arguments = parser.parse_args()
    if not arguments.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "HelloServer"],
                       cwd=os.path.join(ROOT, "Benchmarks"), check=True)
    modes = arguments.modes.split(",")
    count = arguments.requests
    with tempfile.TemporaryDirectory() as work:
        # valgrind 3.19 cannot read the DWARF 5 the Swift compiler writes: it profiles a copy without debug info.
        binary = os.path.join(work, "HelloServer")
        subprocess.run(["objcopy", "--strip-debug", SERVER, binary], check=True)
        sink = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "otlp-sink.py"), str(SINK_PORT)],
                                stderr=subprocess.DEVNULL)
        try:
            per_request = {}
            for mode in modes:
                small = instructions(binary, mode, count, work)
                large = instructions(binary, mode, 2 * count, work)
                per_request[mode] = (large - small) / count
                print(f"{mode}: {per_request[mode]:,.0f} instructions per request", file=sys.stderr)
        finally:
            sink.terminate()
            sink.wait()
    untraced = per_request.get("untraced")
    noop = per_request.get("noop")
    print(f"| HelloServer, {count:,} and {2 * count:,} requests | instructions per request | vs untraced "
          "| above NoOpTracer |")
    print("|:--|--:|--:|--:|")
    for mode, value in per_request.items():
        ratio = f"{value / untraced:.2f}x" if untraced else "n/a"
        above = f"{value - noop:,.0f}" if noop is not None else "n/a"
        print(f"| {mode} | {value:,.0f} | {ratio} | {above} |")


if __name__ == "__main__":
    main()
