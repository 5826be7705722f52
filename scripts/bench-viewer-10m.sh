#!/usr/bin/env bash
# The viewer benchmarks against 10,485,760 stored spans (about 10 minutes: the data set is built first, in the
# temporary directory, about 1 GB). Appends a section to BENCHMARKS.md; run it after scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
spans=10485760
raw="$(mktemp)"
rm -f "${TMPDIR:-/tmp}"/otter-bench-viewer-"$spans"*
(cd Benchmarks && OTTER_BENCH_VIEWER_SPANS=$spans swift package --allow-writing-to-package-directory benchmark \
    --target OTLPExport --filter 'viewer/.*' --format markdown --no-progress) | tee "$raw"
size="$(cat "${TMPDIR:-/tmp}"/otter-bench-viewer-"$spans".sqlite.complete 2>/dev/null || echo "n/a")"
{
  echo
  echo "## Viewer with 10,485,760 stored spans"
  echo
  echo "\`scripts/bench-viewer-10m.sh\`: the viewer benchmarks above, against 10,485,760 stored spans (2,621,440 traces"
  echo "of 4 spans). The stored data set takes $size on disk (file size over span count)."
  echo
  python3 scripts/benchmarks_report.py "$raw" --table-only
} >> BENCHMARKS.md
rm -f "${TMPDIR:-/tmp}"/otter-bench-viewer-"$spans"*
echo "appended the 10M section to BENCHMARKS.md"
