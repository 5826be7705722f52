#!/usr/bin/env bash
# Runs every benchmark suite in Benchmarks/ (release build) and writes BENCHMARKS.md: each figure, its ratio to
# swift-otel and to swift-distributed-tracing's NoOpTracer measured in the same run, the machine and the command.
set -euo pipefail
cd "$(dirname "$0")/.."
raw="$(mktemp)"
(cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --format markdown --no-progress) | tee "$raw"
python3 scripts/benchmarks_report.py "$raw" > BENCHMARKS.md
echo "wrote BENCHMARKS.md"
