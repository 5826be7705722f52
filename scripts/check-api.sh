#!/usr/bin/env bash
# Compares each library's public API (every public declaration, from the debug build's modules: run `swift build`
# first) with the committed baseline in docs/api/<Module>.txt, and fails on any difference: a removed or changed
# declaration breaks users, and an added one is a change to review. `--update` rewrites the baselines after such a
# review; commit them with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(Otter OtterOTLP OtterViewer OtterTesting)
current=$(mktemp -d)
trap 'rm -rf "$current"' EXIT
for module in "${modules[@]}"; do
    OTTER_MODULES="$module" bash scripts/public-api.sh --declarations | tail -n +2 > "$current/$module.txt"
done
if [ "${1:-}" = "--update" ]; then
    mkdir -p docs/api
    for module in "${modules[@]}"; do cp "$current/$module.txt" "docs/api/$module.txt"; done
    echo "check-api: baselines written to docs/api/"
    exit 0
fi
status=0
for module in "${modules[@]}"; do
    baseline="docs/api/$module.txt"
    if [ ! -f "$baseline" ]; then
        echo "check-api: $baseline is missing (bash scripts/check-api.sh --update writes it)"
        status=1
        continue
    fi
    removed=$(comm -23 <(sort "$baseline") <(sort "$current/$module.txt"))
    added=$(comm -13 <(sort "$baseline") <(sort "$current/$module.txt"))
    if [ -n "$removed" ]; then
        echo "check-api: $module: declarations removed or changed (this breaks users):"
        echo "$removed"
        status=1
    fi
    if [ -n "$added" ]; then
        echo "check-api: $module: declarations added (review them, then bash scripts/check-api.sh --update):"
        echo "$added"
        status=1
    fi
    [ -z "$removed$added" ] && echo "check-api: $module: $(wc -l < "$baseline") public declarations, as in $baseline"
done
exit $status
