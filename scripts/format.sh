#!/usr/bin/env bash
# Formats every Swift file of the project with swift-format (the toolchain's, configured by .swift-format), or with
# --check only lints: exits non-zero and lists the findings when a file is not formatted. Generated code is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r -d '' file; do files+=("$file"); done < <(
    find Package.swift Sources Tests Examples Fuzz Benchmarks -name '*.swift' -not -path '*/Generated/*' -not -path '*/.build/*' -not -path 'Benchmarks/Packages/*' -print0 | sort -z)
if [ "${1:-}" = "--check" ]; then
    swift format lint --strict --parallel "${files[@]}"
else
    swift format format --in-place --parallel "${files[@]}"
fi
