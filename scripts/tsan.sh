#!/usr/bin/env bash
# The SDK's tests (OtterTests: the span pipeline, processors, attributes under concurrency, the ServiceGroup paths)
# under the thread sanitizer, with Swift's exclusivity checking enforced (the default, stated explicitly here).
# Builds into .build-tsan (kept apart from the normal build; a first build takes about 15-20 minutes on 2 cores).
# Exits non-zero on a test failure or on any ThreadSanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-OtterTests\.}"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan -Xswiftc -enforce-exclusivity=checked
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" \
  .build-tsan/debug/otterPackageTests.xctest --testing-library swift-testing --filter "$filter" >"$log" 2>&1 || status=$?
grep -E "Test run with|WARNING: ThreadSanitizer|SUMMARY: ThreadSanitizer" "$log" | sort | uniq -c || true
if grep -q "WARNING: ThreadSanitizer" "$log"; then
  grep -A30 "WARNING: ThreadSanitizer" "$log" | head -120
  echo "ThreadSanitizer reported races" >&2
  exit 1
fi
exit "$status"
