#!/usr/bin/env python3
"""Times how long the trace explorer takes to open a trace of N spans (default 10,000) in headless Chromium: sends the
trace to a running viewer over OTLP/HTTP JSON (a root, then chains of 4 under it), then opens /trace/{id} through
chromedriver five times and reports, per load, the milliseconds from navigation start until the explorer has drawn
its rows (`#explorer[data-visible-rows]`). Needs chromium and chromium-driver.
Usage: scripts/explorer-timing.py OTLP_HTTP_PORT UI_PORT [N]"""
import json, random, socket, statistics, subprocess, sys, time, urllib.request

otlp_port, ui_port = int(sys.argv[1]), int(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
trace_id = "%032x" % random.getrandbits(128)
now = time.time_ns() - 60_000_000_000
spans = []
for index in range(count):
    parent = "" if index == 0 else ("%016x" % 1 if index % 4 == 1 else "%016x" % index)
    spans.append({"traceId": trace_id, "spanId": "%016x" % (index + 1), "parentSpanId": parent, "name": f"step {index % 50}",
                  "kind": 1, "startTimeUnixNano": str(now + index * 500_000), "endTimeUnixNano": str(now + index * 500_000 + 1_000_000),
                  "attributes": [{"key": "row", "value": {"intValue": str(index)}}]})
for start in range(0, count, 5000):
    body = json.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": f"worker-{start // 5000}"}}]},
                                          "scopeSpans": [{"spans": spans[start:start + 5000]}]}]}).encode()
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{otlp_port}/v1/traces", body, {"Content-Type": "application/json"}), timeout=120).read()

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    driver_port = probe.getsockname()[1]
driver = subprocess.Popen(["chromedriver", f"--port={driver_port}", "--allowed-ips=127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{driver_port}{path}", data, {"Content-Type": "application/json"}, method=method)
    return json.loads(urllib.request.urlopen(request, timeout=120).read())["value"]

try:
    for _ in range(100):
        try:
            call("GET", "/status")
            break
        except OSError:
            time.sleep(0.1)
    session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": "/usr/bin/chromium", "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"]}}}})["sessionId"]
    times = []
    for _ in range(5):
        call("POST", f"/session/{session}/url", {"url": f"http://127.0.0.1:{ui_port}/trace/{trace_id}"})
        while True:
            ready = call("POST", f"/session/{session}/execute/sync", {"script":
                "const e = document.querySelector('#explorer'); return e && e.dataset.visibleRows ? performance.now() : null", "args": []})
            if ready is not None:
                times.append(ready)
                break
            time.sleep(0.01)
    call("DELETE", f"/session/{session}")
    print(f"{count} spans: explorer drawn after " + ", ".join(f"{t:.0f}" for t in times) + f" ms (median {statistics.median(times):.0f} ms)")
finally:
    driver.kill()
