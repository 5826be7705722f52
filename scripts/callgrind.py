#!/usr/bin/env python3
"""Instructions and mallocs per operation on the span hot path, for Otter, swift-otel and NoOpTracer (the floor).

Runs Benchmarks' HotPathProbe (see its source for the workloads: the global swift-distributed-tracing API, two
attributes, each SDK's service running with a discarding exporter) at N and 2N operations, under
`valgrind --tool=callgrind` for instructions and under an LD_PRELOAD malloc counter (scripts/malloc-counter) for
allocations, and divides the difference by N, so start-up, warm-up and shutdown cancel out. Instruction counts barely depend
on the machine's load (the exporting task's scheduling varies a little: repeated runs of one binary differ by up to
about 3%). Prints a markdown table.

    scripts/callgrind.py [--operations N] [--sdks otter,swift-otel,stream,noop] [--workloads sampled,...,log] [--no-build]
                         [--probe PATH]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = os.path.join(ROOT, "Benchmarks", ".build", "release", "HotPathProbe")
SDKS = ["otter", "swift-otel", "noop"]
WORKLOADS = ["sampled", "unsampled", "parent-child", "propagation"]
# The log call (`--workloads log`) also compares swift-log's StreamLogHandler: `--sdks otter,swift-otel,stream,noop`.
SHAPES = {
    "sampled": 'withSpan("op") { $0.attributes["a"] = "x"; $0.attributes["b"] = 42 }, always_on',
    "unsampled": "the same span, always_off",
    "parent-child": "withSpan with one withSpan child inside, always_on",
    "propagation": "inject the current context into headers + extract it into a new context",
    "log": 'logger.info("order placed", metadata: ["a": "x", "b": "42"]) inside a span, through the bootstrapped '
           "swift-log handler (stream: StreamLogHandler to standard output; noop: swift-log's no-op handler)",
}


def instructions(sdk, workload, count, work):
    out = os.path.join(work, f"callgrind.{sdk}.{workload}.{count}")
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", os.path.join(work, "HotPathProbe"), sdk,
         workload, str(count)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as profile:
        for line in profile:
            match = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if match:
                return int(match.group(1))
    raise RuntimeError(f"no instruction total in {out}")


def mallocs(sdk, workload, count, library, work):
    result = subprocess.run(
        [os.path.join(work, "HotPathProbe"), sdk, workload, str(count)], env={**os.environ, "LD_PRELOAD": library},
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in result.stderr.splitlines():
        match = re.match(r"mallocs: (\d+) (.*)", line)
        if match and match.group(2).endswith("HotPathProbe"):
            return int(match.group(1))
    raise RuntimeError(f"no malloc count from the probe: {result.stderr[-500:]}")


def render(results, sdks, workloads):
    """The markdown table: instructions and mallocs per SDK, then swift-otel and the floor against Otter."""
    header = "| workload | " + " | ".join(f"{sdk}: instructions | {sdk}: mallocs" for sdk in sdks)
    rule = "|:--|" + "--:|--:|" * len(sdks)
    ratios = [sdk for sdk in sdks if sdk != "otter"] if "otter" in sdks else []
    header += "".join(f" | {sdk} / otter" for sdk in ratios) + " |"
    rule += "--:|" * len(ratios)
    lines = [header, rule]
    for workload in workloads:
        cells = []
        for sdk in sdks:
            ins, mal = results[(sdk, workload)]
            cells += [f"{ins:,.0f}", f"{mal:.1f}"]
        otter = results[("otter", workload)][0] if ratios else None
        cells += [f"{results[(sdk, workload)][0] / otter:.2f}x" for sdk in ratios]
        lines.append(f"| {workload} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--operations", type=int, default=20_000)
    parser.add_argument("--sdks", default=",".join(SDKS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--probe", default=PROBE,
                        help="a HotPathProbe binary to measure instead of Benchmarks' (implies --no-build), e.g. a copy "
                             "built against a patched dependency")
    arguments = parser.parse_args()
    sdks = arguments.sdks.split(",")
    workloads = arguments.workloads.split(",")
    n = arguments.operations

    if not arguments.no_build and arguments.probe == PROBE:
        subprocess.run(["swift", "build", "-c", "release", "--product", "HotPathProbe"],
                       cwd=os.path.join(ROOT, "Benchmarks"), check=True, stdout=sys.stderr)
    with tempfile.TemporaryDirectory() as work:
        # valgrind 3.19 cannot read the DWARF 5 the Swift compiler writes: it profiles a copy without debug info
        # (function names stay, from the symbol table).
        subprocess.run(["objcopy", "--strip-debug", arguments.probe, os.path.join(work, "HotPathProbe")], check=True)
        library = os.path.join(work, "libmalloc-counter.so")
        subprocess.run(["clang", "-O2", "-shared", "-fPIC", "-o", library,
                        os.path.join(ROOT, "scripts", "malloc-counter", "malloc-counter.c")], check=True)
        results = {}
        with ThreadPoolExecutor(max_workers=2) as pool:
            for workload in workloads:
                for sdk in sdks:
                    small, large = pool.map(lambda c: instructions(sdk, workload, c, work), [n, 2 * n])
                    small_m, large_m = (mallocs(sdk, workload, n, library, work),
                                          mallocs(sdk, workload, 2 * n, library, work))
                    results[(sdk, workload)] = ((large - small) / n, (large_m - small_m) / n)
                    print(f"{sdk:10} {workload:13} {results[(sdk, workload)][0]:10,.0f} instructions "
                          f"{results[(sdk, workload)][1]:5.1f} mallocs", file=sys.stderr)

    print(f"Per operation, N = {n:,} and 2N operations under callgrind and a malloc counter (`scripts/callgrind.py`).")
    print("Ratios are instructions against the same workload in the same run: above 1x, the other costs more.\n")
    print(render(results, sdks, workloads))
    print()
    for workload in workloads:
        print(f"- **{workload}**: {SHAPES[workload]}.")


if __name__ == "__main__":
    main()
