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
                    results[name][cells[0]] = float(cells[3]) * unit_scale(cells[0])  # p50, in ns or units
                except ValueError:
                    pass
    return results


UNITS = {"(ns)": 1, "(us)": 1e3, "(μs)": 1e3, "(ms)": 1e6, "(s)": 1e9, "(K)": 1e3, "(M)": 1e6, "(G)": 1e9}


def unit_scale(label):
    """package-benchmark writes units and magnitudes into the metric label: `Time (wall clock) (us) *`."""
    scale = 1.0
    for unit, factor in UNITS.items():
        if unit in label:
            scale *= factor
    return scale


def batch_size(name):
    found = re.search(r"(\d+) spans per iteration|batch of (\d+)", name)
    return int(found.group(1) or found.group(2)) if found else 1


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
    table_only = "--table-only" in sys.argv
    results = parse([argument for argument in sys.argv[1:] if not argument.startswith("--")][0])
    if table_only:
        print_table(results)
        return
    print("# Benchmarks\n")
    print("Latest run of `scripts/bench.sh` (package-benchmark, release build). Figures are p50 per operation.")
    print("Ratios compare with the same benchmark in the same run: `swift-otel` is swift-otel 1.6.0 (its tracing")
    print("service running, exporter `none`), `floor` is swift-distributed-tracing's NoOpTracer. Span benchmarks use")
    print("the global API (`withSpan`, the tracer bound with `withTracer`), two attributes, and each SDK's batch")
    print("processor running in front of a discarding exporter. Above 1x means Otter is faster. Figures are per")
    print("operation; batch benchmarks (OTLP encoding")
    print("and SQLite ingest of 512 spans, pipeline iterations of 512 spans ended and flushed into a receiver on")
    print("127.0.0.1) are divided by 512, so their figures are per span. Viewer queries run against the stored "
          "data set named in the benchmark (1,048,576 spans by default, `OTTER_BENCH_VIEWER_SPANS` to change it): traces of "
          "4 HTTP spans over 2 services; each query benchmark asks for a different trace or attribute value every iteration.\n")
    print(f"Machine: {os.cpu_count()} cores (`nproc`), {cpu_model()}, {platform.system()} {platform.release()}.\n")
    print_table(results)
    print("\nCommand: `scripts/bench.sh` (runs `swift package --allow-writing-to-package-directory benchmark --target SpanHotPath --target OTLPExport"
          " --format markdown --no-progress` in `Benchmarks/`).")


def print_table(results):
    print("| benchmark | wall clock (ns) | mallocs | per second | bytes per span | vs swift-otel | vs floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in sorted(results):
        row = results[name]
        spans = batch_size(name)
        wall = metric(row, "Time (wall clock)")
        mallocs = metric(row, "Malloc (total)")
        wall = wall / spans if wall is not None else None
        mallocs = mallocs / spans if mallocs is not None else None
        baseline = None
        if "/otter/" in name:
            baseline = metric(results.get(name.replace("/otter/", "/swift-otel/"), {}), "Time (wall clock)")
        floor = metric(results.get(name.replace("/otter/", "/floor/"), {}), "Time (wall clock)")
        vs_floor = ratio(floor, wall) if name.startswith("withSpan/otter/") and floor else "n/a"
        wall_text = f"{wall:.0f}" if wall is not None else "n/a"
        if mallocs is None:
            malloc_text = "n/a"
        elif mallocs == int(mallocs):
            malloc_text = f"{mallocs:.0f}"
        else:
            malloc_text = f"{mallocs:.2f}"
        rate_text = f"{1e9 / wall:,.0f}" if wall else "n/a"
        size = metric(row, "bytes per span")
        size_text = f"{size:.0f}" if size is not None else ""
        print(f"| {name} | {wall_text} | {malloc_text} | {rate_text} | {size_text} | {ratio(baseline, wall) if baseline else 'n/a'} | {vs_floor} |")


main()
