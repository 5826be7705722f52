#!/usr/bin/env bash
# Unit tests of the viewer's pure browser modules (Sources/OtterViewer/UI/Assets/*.mjs), with Node's built-in test
# runner: no npm packages. Exits non-zero when a test fails or Node is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null; then
    echo "node is missing: install Node.js (18 or later) to run Tests/JavaScript" >&2
    exit 1
fi
# Every module parses (the tests import only the pure ones; the browser tests load the rest).
for module in Sources/OtterViewer/UI/Assets/*.mjs; do node --check "$module"; done
# The files named, not the folder: Node 18 to 22 agree on explicit paths.
node --test Tests/JavaScript/*.test.mjs
