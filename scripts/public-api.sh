#!/usr/bin/env bash
# Prints the number of public symbols per library module (from the debug build's modules; run `swift build` first)
# and, with --list, the symbols themselves: the public API as users see it (with --declarations, each one's
# declaration: what scripts/check-api.sh compares with the committed baseline). With OTTER_SYMBOL_GRAPHS=DIR the symbol
# graphs are kept in DIR (scripts/check-docs.sh builds the DocC catalogs from them).
set -euo pipefail
cd "$(dirname "$0")/.."
modules=.build/debug/Modules
if [ -n "${OTTER_SYMBOL_GRAPHS:-}" ]; then
    out="$OTTER_SYMBOL_GRAPHS"
    mkdir -p "$out"
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
includes=()
# C modules of the dependencies: their include folders and the module maps the build wrote.
for dir in .build/checkouts/*/Sources/*/include .build/checkouts/*/Sources/*/*/include; do
    [ -d "$dir" ] && includes+=(-Xcc "-I$dir")
done
for map in .build/debug/*.build/module.modulemap .build/checkouts/GRDB.swift/Sources/GRDBSQLite/module.modulemap; do
    case "$map" in *-tool.build/*) continue ;; esac
    includes+=(-Xcc "-fmodule-map-file=$map")
done
for module in ${OTTER_MODULES:-Otter OtterOTLP OtterViewer OtterTesting}; do
    swift symbolgraph-extract -module-name "$module" -I "$modules" "${includes[@]}" \
        -target "$(uname -m)-unknown-linux-gnu" -minimum-access-level public -skip-synthesized-members \
        -output-dir "$out"
    python3 - "$out" "$module" "${1:-}" <<'PY'
import glob, json, os, sys
folder, module, mode = sys.argv[1:4]
# The module's own symbols, and its public extensions of other modules' types (Module@Other.symbols.json).
files = [os.path.join(folder, module + ".symbols.json")] + sorted(glob.glob(os.path.join(folder, module + "@*.symbols.json")))
symbols = []
for file in files:
    graph = json.load(open(file))
    extended = os.path.basename(file)[len(module) + 1:-len(".symbols.json")] if "@" in os.path.basename(file) else ""
    for symbol in graph["symbols"]:
        name = ".".join(symbol["pathComponents"])
        kind = symbol["kind"]["identifier"].removeprefix("swift.")
        if mode == "--declarations":
            declaration = " ".join("".join(f["spelling"] for f in symbol.get("declarationFragments", [])).split())
            symbols.append(f"{name}: {declaration}{'  (extends ' + extended + ')' if extended else ''}")
        else:
            symbols.append(f"{name} ({kind}{', extends ' + extended if extended else ''})")
symbols.sort()
print(f"{module}: {len(symbols)} public symbols")
if mode in ("--list", "--declarations"):
    for symbol in symbols: print("  " + symbol)
PY
done
