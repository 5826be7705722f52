#!/usr/bin/env bash
# The SDK's tests (OtterTests: the span pipeline, processors, attributes under concurrency, the ServiceGroup paths)
# under the thread sanitizer, with Swift's exclusivity checking enforced (the default, stated explicitly here).
# Builds into .build-tsan (kept apart from the normal build; a first build takes about 8-20 minutes on 2 cores).
# ThreadSanitizer does not see Synchronization.Mutex on Linux (a futex): this build defines OTTER_THREAD_SANITIZER,
# which swaps in a pthread-backed lock with the same API for Otter's own code (Sources/Otter/Support/
# ThreadSanitizerMutex.swift). The tests' own helpers still use Synchronization.Mutex, so reports whose first frame
# is in test code (Tests/) are listed apart: the verdict is on reports whose first frame is in Sources/.
# Exits non-zero on a test failure or on any ThreadSanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-OtterTests\.}"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan -Xswiftc -enforce-exclusivity=checked \
  -Xswiftc -DOTTER_THREAD_SANITIZER
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  .build-tsan/debug/otterPackageTests.xctest --testing-library swift-testing --filter "$filter" >"$log" 2>&1 || status=$?
grep -E "Test run with" "$log" || true
# The first stack frame of each report (and of the access it races with), by file.
python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
reports = text.split("WARNING: ThreadSanitizer")[1:]
in_sources, in_tests = [], []
for report in reports:
    frames = re.findall(r"#0 .*? (/\S+?\.swift)(?::(\d+))?", report)
    files = [f for f, _ in frames]
    where = ", ".join(sorted({f"{f}:{l}" if l else f for f, l in frames}))
    (in_sources if any("/Sources/" in f for f in files) else in_tests).append(where)
print(f"ThreadSanitizer: {len(reports)} reports; {len(in_sources)} with a first frame in Sources/, {len(in_tests)} only in test code")
for where in sorted(set(in_sources)):
    print("  Sources: " + where)
for where in sorted(set(in_tests)):
    print("  tests only: " + where)
sys.exit(1 if in_sources else 0)
PY
verdict=$?
[ "$verdict" = 0 ] || exit 1
exit "$status"
