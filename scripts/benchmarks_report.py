"""Turns package-benchmark's markdown output into BENCHMARKS.md with ratios measured in the same run."""
import os
import platform
import re
import subprocess
import sys


def parse(path):
    results, name = {}, None
    for line in open(path, encoding="utf-8"):
        heading = re.match(r"^### (.+?)\s*$", line)
        if heading:
            name = heading.group(1)
            results[name] = {}
            continue
        if name and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 4 and cells[0] not in ("Metric",) and not cells[0].startswith(":"):
                try:
                    results[name][cells[0]] = float(cells[3])  # p50
                except ValueError:
                    pass
    return results


def metric(row, prefix):
    for key, value in row.items():
        if key.startswith(prefix):
            return value
    return None


def ratio(baseline, value):
    if not baseline or not value:
        return "n/a"
    return f"{baseline / value:.1f}x"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    results = parse(sys.argv[1])
    floor = metric(results.get("withSpan/NoOpTracer", {}), "Time (wall clock)")
    print("# Benchmarks\n")
    print("Latest run of `scripts/bench.sh` (package-benchmark, release build). Figures are p50 per operation.")
    print("Ratios compare with the same benchmark in the same run: `swift-otel` is swift-otel 1.6.0's tracer")
    print("(its tracing service not running, as in its own benchmark), `floor` is swift-distributed-tracing's")
    print("NoOpTracer. Above 1x means Otter is faster.\n")
    print(f"Machine: {os.cpu_count()} cores (`nproc`), {cpu_model()}, {platform.system()} {platform.release()}.\n")
    print("| benchmark | wall clock (ns) | mallocs | vs swift-otel | vs floor |")
    print("|---|---:|---:|---:|---:|")
    for name in sorted(results):
        row = results[name]
        wall = metric(row, "Time (wall clock)")
        mallocs = metric(row, "Malloc (total)")
        baseline = None
        if "/otter/" in name:
            baseline = metric(results.get(name.replace("/otter/", "/swift-otel/"), {}), "Time (wall clock)")
        vs_floor = ratio(floor, wall) if name.startswith("withSpan/") else "n/a"
        wall_text = f"{wall:.0f}" if wall is not None else "n/a"
        malloc_text = f"{mallocs:.0f}" if mallocs is not None else "n/a"
        print(f"| {name} | {wall_text} | {malloc_text} | {ratio(baseline, wall) if baseline else 'n/a'} | {vs_floor} |")
    print("\nCommand: `scripts/bench.sh` (runs `swift package --allow-writing-to-package-directory benchmark"
          " --format markdown --no-progress` in `Benchmarks/`).")


main()
