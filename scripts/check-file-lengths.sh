#!/usr/bin/env bash
# No source file is over 400 lines: a file per concept. Checks the Swift sources (generated code aside), the
# viewer's scripts and styles, and the Mustache templates; lists every file over the limit and exits 1 when any is.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=400
long=$(
    {
        find Sources -name '*.swift' -not -path '*/Generated/*'
        find Sources -name '*.js' -o -name '*.mjs' -o -name '*.css' -o -name '*.mustache'
    } | sort | while read -r file; do
        awk -v limit="$limit" 'END { if (NR > limit) print FILENAME ": " NR " lines" }' "$file"
    done
)
if [ -n "$long" ]; then
    echo "files over $limit lines:"
    echo "$long"
    exit 1
fi
echo "no file over $limit lines"
