#!/usr/bin/env python3
"""Sends one trace of N spans (default 100,000; a deep chain every 10th span) to a viewer over OTLP/HTTP JSON and
times the trace page and the Jaeger JSON for it. Usage: scripts/big-trace.py OTLP_HTTP_PORT UI_PORT [N]"""
import json, os, random, sys, time, urllib.request

otlp_port, ui_port = int(sys.argv[1]), int(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
trace_id = "%032x" % random.getrandbits(128)
now = time.time_ns()
ids = ["%016x" % (index + 1) for index in range(count)]
spans = []
for index in range(count):
    parent = ids[index - 1] if index % 10 else (ids[index // 2] if index else "")
    spans.append({"traceId": trace_id, "spanId": ids[index], "parentSpanId": parent, "name": f"op-{index % 50}", "kind": 2,
                  "startTimeUnixNano": str(now + index * 1000), "endTimeUnixNano": str(now + index * 1000 + 500),
                  "attributes": [{"key": "i", "value": {"intValue": str(index)}}]})
for start in range(0, count, 5000):
    body = json.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "big"}}]},
                                          "scopeSpans": [{"spans": spans[start:start + 5000]}]}]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{otlp_port}/v1/traces", body, {"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=120).read()
for path in [f"/trace/{trace_id}", f"/api/traces/{trace_id}", f"/api/v3/traces/{trace_id}"]:
    started = time.time()
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}{path}", timeout=600) as response:
        size = len(response.read())
    print(f"{path.split('/')[1 if path.startswith('/trace') else 2]:>8} {path}: {time.time() - started:.2f} s, {size / 1e6:.1f} MB")
