#!/usr/bin/env bash
# Renders the viewer's pages to PNG with headless Chromium (apt-get install chromium):
# runs `otter demo` (which stores its traces), serves them with `otter viewer`, and writes
# docs/viewer-search.png, docs/viewer-trace.png and docs/viewer-dependencies.png.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "needs chromium (apt-get install chromium)" >&2; exit 1; }
swift build --product otter
otter="$(swift build --show-bin-path)/otter"
data="$(mktemp -d)"
"$otter" demo --data-dir "$data" > "$data/demo.log"
trace="$(grep -o 'View trace 0x[0-9a-f]*' "$data/demo.log" | head -1 | sed 's/View trace 0x//')"
port=16700
"$otter" viewer --db "$data/traces.sqlite" --otlp-grpc-port 0 --otlp-http-port 0 --ui-port "$port" > "$data/viewer.log" &
viewer=$!
trap 'kill $viewer 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q "UI on" "$data/viewer.log" && break; sleep 0.2; done
mkdir -p docs
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,600 \
    --screenshot=docs/viewer-search.png "http://127.0.0.1:$port/search?service=http-server&lookback=1h"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,420 \
    --screenshot=docs/viewer-trace.png "http://127.0.0.1:$port/trace/$trace"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,760 \
    --screenshot=docs/viewer-dependencies.png "http://127.0.0.1:$port/dependencies"
echo "wrote docs/viewer-search.png, docs/viewer-trace.png and docs/viewer-dependencies.png (trace $trace)"
