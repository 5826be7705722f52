#!/usr/bin/env bash
# wrk against Hummingbird's hello world (Benchmarks/HelloServer): untraced, then with TracingMiddleware and nothing
# bootstrapped (swift-distributed-tracing's NoOpTracer: the middleware's own cost, the floor for any SDK), then with
# TracingMiddleware and Otter, then with TracingMiddleware and swift-otel, each SDK exporting every span over OTLP/HTTP protobuf with its default
# batch settings to one discarding receiver (scripts/otlp-sink.py). All on this machine, loopback only. Prints a
# markdown section: requests/s, p99 latency, ratios to untraced, and for Otter the spans queued, dropped and
# exported against the requests wrk made. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${WRK_DURATION:-10s}"
connections="${WRK_CONNECTIONS:-32}"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

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

for port in 24318 28080; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port is in use" >&2; exit 1; fi
done
python3 scripts/otlp-sink.py 24318 2>"$work/sink.log" &
sink=$!
pids+=($sink)
wait_for http://127.0.0.1:24318/stats

run() {
  local mode="$1"
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:24318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf "$hello" 28080 "$mode" \
    >"$work/hello-$mode.log" 2>&1 &
  local pid=$!
  wait_for http://127.0.0.1:28080/
  wrk -t2 -c"$connections" -d"$duration" --latency http://127.0.0.1:28080/ >"$work/wrk-$mode.txt"
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  curl -s http://127.0.0.1:24318/stats >"$work/sink-after-$mode.txt"
  cat "$work/wrk-$mode.txt" "$work/hello-$mode.log" "$work/sink-after-$mode.txt" >&2
}
run untraced
run noop
run otter
run swift-otel
kill -TERM "$sink"
wait "$sink" 2>/dev/null || true

python3 - "$work" "$duration" "$connections" <<'PY'
import os, re, sys
work, duration, connections = sys.argv[1:4]
def read(mode):
    text = open(os.path.join(work, f"wrk-{mode}.txt")).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()
    return rps, requests, float(value) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
untraced, noop, otter, swift_otel = read("untraced"), read("noop"), read("otter"), read("swift-otel")
spans = re.search(r"spans: queued=(\d+) dropped=(\d+) exported=(\d+)", open(os.path.join(work, "hello-otter.log")).read())
def received(mode):
    return int(re.search(r"spans=(\d+)", open(os.path.join(work, f"sink-after-{mode}.txt")).read()).group(1))
received_otter = received("otter") - received("noop")
received_swift_otel = received("swift-otel") - received("otter")
print("## wrk: Hummingbird hello world, untraced and traced\n")
print(f"`scripts/wrk.sh`: wrk -t2 -c{connections} -d{duration}; server, receiver and wrk share this machine's cores. "
      "Traced = Hummingbird's TracingMiddleware (one SERVER span per request, every request sampled), the SDK's "
      "default batch processor, OTLP/HTTP protobuf to one discarding receiver (`scripts/otlp-sink.py`).\n")
print("| | requests/s | p99 latency | throughput vs untraced | vs NoOpTracer |")
print("|:--|--:|--:|--:|--:|")
for name, (rps, _, p99) in [("untraced", untraced), ("TracingMiddleware, NoOpTracer", noop), ("Otter", otter),
                            ("swift-otel", swift_otel)]:
    print(f"| {name} | {rps:,.0f} | {p99:.2f} ms | {rps / untraced[0]:.2f}x | {rps / noop[0]:.2f}x |")
print()
if spans:
    queued, dropped, exported = map(int, spans.groups())
    print(f"Otter: wrk made {otter[1]:,} requests (it does not count those in flight when it stops, nor the "
          f"readiness probe); the SDK queued {queued:,} spans, dropped {dropped:,}, and the receiver got {received_otter:,}.")
print(f"swift-otel: wrk made {swift_otel[1]:,} requests; the receiver got {received_swift_otel:,} spans.")
PY
