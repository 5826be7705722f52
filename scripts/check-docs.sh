#!/usr/bin/env bash
# Builds each DocC catalog (Sources/*/*.docc) with the toolchain's docc against its module's public symbol graph
# (scripts/public-api.sh; needs `swift build` first) and fails on any warning: a broken symbol link, a missing
# article, a topic that names nothing. The rendered archives go to .build/docs/<Module>.doccarchive.
set -euo pipefail
export LC_ALL=C.UTF-8
cd "$(dirname "$0")/.."
graphs=.build/symbol-graphs
rm -rf "$graphs"
OTTER_SYMBOL_GRAPHS="$graphs" bash scripts/public-api.sh
docc=$(command -v docc || echo "$(dirname "$(readlink -f "$(command -v swift)")")/docc")
mkdir -p .build/docs
for catalog in Sources/*/*.docc; do
    module=$(basename "$catalog" .docc)
    moduleGraphs=$(mktemp -d)
    cp "$graphs/$module.symbols.json" "$graphs/$module"@*.symbols.json "$moduleGraphs/" 2>/dev/null || cp "$graphs/$module.symbols.json" "$moduleGraphs/"
    if ! output=$("$docc" convert "$catalog" --additional-symbol-graph-dir "$moduleGraphs" --fallback-display-name "$module" \
        --fallback-bundle-identifier "org.otter.$module" --warnings-as-errors \
        --output-path ".build/docs/$module.doccarchive" 2>&1); then
        echo "$output" | grep -v '^Finished\|^Generated' >&2
        echo "check-docs: $module: docc found problems (above)" >&2
        exit 1
    fi
    rm -rf "$moduleGraphs"
    echo "check-docs: $module: no warnings"
done
