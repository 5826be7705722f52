#!/usr/bin/env bash
# Creates .venv with the opentelemetry-python packages that the interoperability tests run against.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r scripts/python-peers.txt
