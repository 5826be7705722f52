#!/usr/bin/env bash
# Runs every benchmark suite in Benchmarks/ (release build) and writes BENCHMARKS.md: each figure, its ratio to
# swift-otel and to swift-distributed-tracing's NoOpTracer measured in the same run, the machine and the command;
# then instructions and mallocs per span under callgrind (scripts/callgrind.py) and wrk (scripts/wrk.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
raw="$(mktemp)"
# The viewer benchmarks build their stored data set once per run (in the temporary directory) and share it.
rm -f "${TMPDIR:-/tmp}"/otter-bench-viewer-*
# Only the package-benchmark suites: HelloServer (for scripts/wrk.sh) is an executable of the same package.
(cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target SpanHotPath --target OTLPExport \
    --format markdown --no-progress) | tee "$raw"
python3 scripts/benchmarks_report.py "$raw" > BENCHMARKS.md
{ printf '\n## Instructions and mallocs per span (callgrind)\n\n'; python3 scripts/callgrind.py; } >> BENCHMARKS.md
if command -v wrk >/dev/null; then
  { echo; scripts/wrk.sh; } >> BENCHMARKS.md
else
  printf '\n## wrk\n\nNot run: wrk is not installed (apt-get install wrk), see scripts/wrk.sh.\n' >> BENCHMARKS.md
fi
echo "wrote BENCHMARKS.md"
