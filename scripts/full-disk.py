#!/usr/bin/env python3
"""A full disk recovers by itself, whatever --max-size is (issue 27). Needs root (it mounts a 16 MB tmpfs).

For each case, a 16 MB tmpfs is filled until FREE MB are left, a release `otter viewer` stores into it with
`--max-size BOUND`, and two keep-alive connections send OTLP/HTTP requests of 512 spans (scripts/bench-forward.py's
shape) for SECONDS. Prints, per case, the answers per 5-second window, the spans acknowledged and the files at the
end, and exits 1 when a case stops recovering (a window after the first without a 200 answer), when a 503 comes
without Retry-After, or when the database, its write-ahead log and the reserve end over the bound.

usage: .venv/bin/python scripts/full-disk.py [--seconds 30] [--binary .build-release/release/otter]
"""
import argparse
import collections
import http.client
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [(8, "4MB", 4 << 20), (8, "100MB", 100 << 20), (3, "1GB", 1 << 30), (16, "16MB", 16 << 20), (16, "1GB", 1 << 30)]


def load_bodies():
    spec = importlib.util.spec_from_file_location("bench_forward", os.path.join(ROOT, "scripts", "bench-forward.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [module.body(seed, 512) for seed in range(16)]


def run_case(binary, bodies, free_mb, max_size, bound, seconds):
    mount = tempfile.mkdtemp(prefix="otter-full-disk-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount], check=True)
    problems = []
    try:
        with open(os.path.join(mount, "filler"), "wb") as filler:
            filler.write(b"\0" * ((16 - free_mb) << 20))
        database = os.path.join(mount, "otter.sqlite")
        viewer = subprocess.Popen(
            [binary, "viewer", "--db", database, "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--ui-port", "0",
             "--max-size", max_size], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        port = None
        for line in viewer.stdout:
            match = re.search(r"OTLP/HTTP on http://127\.0\.0\.1:(\d+)/v1/traces", line)
            if match:
                port = int(match.group(1))
                break
        threading.Thread(target=lambda: [None for _ in viewer.stdout], daemon=True).start()
        windows = collections.defaultdict(collections.Counter)
        acknowledged = [0, 0]
        started = time.time()

        def send(number):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            index = number
            while time.time() - started < seconds:
                connection.request("POST", "/v1/traces", body=bodies[index % len(bodies)],
                                   headers={"Content-Type": "application/x-protobuf"})
                response = connection.getresponse()
                response.read()
                windows[int((time.time() - started) // 5)][response.status] += 1
                if response.status == 200:
                    acknowledged[number] += 512
                elif response.status == 503 and response.getheader("Retry-After") is None:
                    problems.append("a 503 without Retry-After")
                index += 2

        senders = [threading.Thread(target=send, args=(number,)) for number in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        files = {name: os.path.getsize(os.path.join(mount, name)) for name in os.listdir(mount) if name != "filler"}
        viewer.terminate()
        viewer.wait(30)
        print(f"\n--max-size {max_size}, {free_mb} MB free: {sum(acknowledged):,} spans acknowledged in {seconds} s")
        for window in sorted(windows):
            print(f"  {window * 5:3d}-{window * 5 + 5:3d} s: " + ", ".join(
                f"{count} x {status}" for status, count in sorted(windows[window].items())))
        print("  files at the end: " + ", ".join(f"{name} {size:,}" for name, size in sorted(files.items())))
        for window in sorted(windows)[1:]:
            if window * 5 + 5 <= seconds and windows[window][200] == 0:
                problems.append(f"no request stored between {window * 5} and {window * 5 + 5} s")
        stored = sum(size for name, size in files.items() if name.startswith("otter.sqlite") and not name.endswith("-shm"))
        if stored > bound:
            problems.append(f"the store's files take {stored:,} bytes, over the bound of {bound:,}")
    finally:
        subprocess.run(["umount", mount])
        os.rmdir(mount)
    for problem in problems[:5]:
        print(f"  PROBLEM: {problem}")
    return not problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--cases", default=",".join(str(number) for number in range(1, len(CASES) + 1)),
                        help="which cases to run, by number (1 to %d), separated by commas" % len(CASES))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build-release", "release", "otter"))
    arguments = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("full-disk.py mounts a tmpfs: run it as root")
    bodies = load_bodies()
    results = [run_case(arguments.binary, bodies, free, size, bound, arguments.seconds) for free, size, bound in
               [CASES[int(number) - 1] for number in arguments.cases.split(",")]]
    print("\nevery case recovered" if all(results) else "\nSOME CASE DID NOT RECOVER")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
