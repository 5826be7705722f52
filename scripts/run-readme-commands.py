#!/usr/bin/env python3
"""Runs every shell command the README shows, exactly as written, and checks what each one promises.

The README's ```sh blocks are read in order. A command is run with bash in the repository, in one shared session,
the way a newcomer would type them one after the other:
- `swift test` is not run again: .ci/run runs it right before this script (the check is that it is there).
- commands that keep serving (`otter viewer`, `otter demo`, anything ending in `&`) must print their ready line,
  answer over HTTP, and then stop cleanly on Ctrl-C (SIGINT to their process group);
- every other command must exit 0, and its spans must reach the viewer started earlier.
A command this script does not know fails the run: a new README command needs a check here.
Exits non-zero on the first failure; prints 'N passed, 0 failed' at the end.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEADLINE = 600  # seconds for one command to get ready (a cold `swift run` builds first)


def readme_commands():
    commands, inside = [], False
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme:
        for line in readme:
            stripped = line.rstrip("\n")
            if stripped.startswith("```"):
                inside = stripped.strip() == "```sh" if not inside else False
                continue
            if inside and stripped.strip():
                command = re.split(r"\s{2,}#", stripped)[0].strip()
                commands.append(command)
    return commands


class Running:
    """A command in its own process group, its output collected line by line."""

    def __init__(self, command):
        self.command = command
        self.lines = []
        self.process = subprocess.Popen(
            ["bash", "-c", command.rstrip("&").strip()], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, pattern):
        end = time.time() + DEADLINE
        while time.time() < end:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.2)
        raise Failure(f"`{self.command}` never printed /{pattern}/; last lines:\n" + "\n".join(self.lines[-15:]))

    def interrupt(self):
        """Ctrl-C, as a person would stop it; it must exit by itself within 60 s."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise Failure(f"`{self.command}` did not stop on Ctrl-C within 60 s")
        self.reader.join(timeout=10)

    def finish(self, expected_status=0):
        try:
            status = self.process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise Failure(f"`{self.command}` did not finish within {DEADLINE} s")
        self.reader.join(timeout=10)
        if status != expected_status:
            raise Failure(f"`{self.command}` exited {status}, not {expected_status}; last lines:\n"
                          + "\n".join(self.lines[-20:]))


class Failure(Exception):
    pass


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode("utf-8", "replace")


def poll(description, check, seconds=60):
    end = time.time() + seconds
    last = None
    while time.time() < end:
        try:
            if check():
                return
        except Exception as error:  # the service may still be starting
            last = error
        time.sleep(0.5)
    raise Failure(f"{description} (last error: {last})")


def traces_since(service, start_microseconds):
    """The service's traces that started at or after the given time: the store (~/.otter by default) may already hold
    many from earlier runs, and a search answers at most `limit` of them."""
    status, body = get(f"http://127.0.0.1:16686/api/traces?service={service}&start={start_microseconds}&limit=50")
    return json.loads(body)["data"] if status == 200 else []


def main():
    commands = readme_commands()
    if "swift test" not in commands:
        raise Failure("the README shows no `swift test`")
    running = []  # long-running commands still up, stopped at the end in reverse order
    passed = 0
    try:
        for command in commands:
            print(f"$ {command}", flush=True)
            if command == "swift test":
                print("  (run by .ci/run before this script)")
                continue
            if command == "swift run otter demo":
                demo = Running(command)
                demo.wait_for_line(r"otter demo: every step succeeded")
                match = demo.wait_for_line(r"View trace 0x[0-9a-f]{32} at (http://\S+)")
                demo.wait_for_line(r"keeps serving")
                status, page = get(match.group(1))
                if status != 200 or "http-server" not in page:
                    raise Failure(f"the trace URL the demo printed does not show the trace: {status}")
                demo.interrupt()
            elif command == "swift run otter viewer":
                viewer = Running(command)
                viewer.wait_for_line(r"UI on http://127\.0\.0\.1:16686/")
                viewer.wait_for_line(r"OTLP/gRPC on 127\.0\.0\.1:4317")
                viewer.wait_for_line(r"OTLP/HTTP on http://127\.0\.0\.1:4318/v1/traces")
                poll("the viewer's UI did not answer", lambda: get("http://127.0.0.1:16686/search")[0] == 200)
                running.append(viewer)
            elif command == "swift run http-server &":
                server = Running(command)
                server.wait_for_line(r"listening on http://127\.0\.0\.1:8082")
                running.append(server)
            elif command in ("EXPORTER=otlp swift run http-client", "EXPORTER=jaeger swift run http-client"):
                started = int(time.time() * 1_000_000)
                Running(command).finish()
                # Its spans reach the viewer started above (OTLP/HTTP on 4318, or OTLP/gRPC on 4317 for jaeger).
                poll(f"`{command}` sent no trace to the viewer", lambda: len(traces_since("http-client", started)) > 0)
            elif command == ("swift run otter diff docs/examples/checkout-before.json "
                             "docs/examples/checkout-after.json"):
                diff = Running(command)
                diff.finish(expected_status=1)  # the README says it exits 1
                output = "\n".join(diff.lines)
                for promised in ("+3 SELECT item (db)", "beyond the thresholds: 3 spans added or missing"):
                    if promised not in output:
                        raise Failure(f"`{command}` did not print {promised!r}:\n{output}")
            else:
                raise Failure(f"the README shows `{command}` and this script has no check for it: add one")
            passed += 1
            print("  ok", flush=True)
        for process in reversed(running):
            process.interrupt()
        running.clear()
    finally:
        for process in reversed(running):
            try:
                os.killpg(process.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print(f"README command failed: {failure}", file=sys.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
