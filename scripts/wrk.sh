#!/usr/bin/env bash
# wrk against Hummingbird's hello world, untraced and then with TracingMiddleware + Otter exporting every span
# over OTLP/HTTP to `otter viewer` (all on this machine, loopback only). Prints a markdown section with
# requests/s, p99 latency and the traced/untraced ratios. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${WRK_DURATION:-10s}"
connections="${WRK_CONNECTIONS:-32}"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

swift build -c release --product otter >&2
(cd Benchmarks && swift build -c release --product HelloServer) >&2
hello="Benchmarks/.build/release/HelloServer"

wait_for() {
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "nothing answers at $1" >&2
  exit 1
}

.build/release/otter viewer --db "$work/wrk.sqlite" --otlp-grpc-port 24317 --otlp-http-port 24318 --ui-port 26686 >"$work/viewer.log" 2>&1 &
pids+=($!)
wait_for http://127.0.0.1:26686/api/services

run() {
  local mode="$1"
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:24318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf "$hello" 28080 $mode >"$work/hello-$mode.log" 2>&1 &
  local pid=$!
  wait_for http://127.0.0.1:28080/
  wrk -t2 -c"$connections" -d"$duration" --latency http://127.0.0.1:28080/ >"$work/wrk-$mode.txt"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  cat "$work/wrk-$mode.txt" >&2
}
run untraced
run traced

python3 - "$work/wrk-untraced.txt" "$work/wrk-traced.txt" "$duration" "$connections" <<'PY'
import re, sys
def read(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()
    p99_ms = float(value) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
    return rps, p99_ms
untraced, traced = read(sys.argv[1]), read(sys.argv[2])
print("## wrk: Hummingbird hello world, untraced vs. traced\n")
print(f"`scripts/wrk.sh` (wrk -t2 -c{sys.argv[4]} -d{sys.argv[3]}, server, viewer and wrk on the same 2 cores). Traced = "
      "TracingMiddleware + Otter (every request sampled, BatchSpanProcessor, OTLP/HTTP protobuf) exporting to `otter viewer`.\n")
print("| | requests/s | p99 latency | ratio to untraced |")
print("|:--|--:|--:|--:|")
print(f"| untraced | {untraced[0]:,.0f} | {untraced[1]:.2f} ms | 1.00x |")
print(f"| traced, exporting to the viewer | {traced[0]:,.0f} | {traced[1]:.2f} ms | {traced[0] / untraced[0]:.2f}x throughput, {traced[1] / untraced[1]:.2f}x p99 |")
PY
spans=$(curl -s 'http://127.0.0.1:26686/api/traces?service=hello&limit=1' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
echo
echo "The viewer stored the traced run's spans (a search for service \`hello\` finds $spans trace(s))."
