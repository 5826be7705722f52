#!/usr/bin/env bash
# Renders every page of the viewer to docs/viewer-*.png: runs the browser tests (headless Chromium through
# chromedriver, apt-get install chromium chromium-driver) with OTTER_SCREENSHOT_DIR set, so each screenshot shows a
# page in the state a test has just asserted on (seed-shaped traces stored in a real viewer).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromedriver >/dev/null || { echo "needs chromium and chromium-driver (apt-get install chromium chromium-driver)" >&2; exit 1; }
mkdir -p docs
OTTER_SCREENSHOT_DIR="$PWD/docs" OTTER_REQUIRE_BROWSER=1 swift test --filter ExplorerBrowserTests
ls docs/viewer-*.png
