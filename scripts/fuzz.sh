#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/OtterFuzz) with the fuzzer and AddressSanitizer, then runs each one.
#   scripts/fuzz.sh                 every target for 30 s (what CI runs)
#   scripts/fuzz.sh 1800 otlp-json  one target for 30 minutes
# Corpora live in .build-fuzz/corpus/TARGET (seeded from Fuzz/seeds/TARGET); crashes are written to
# .build-fuzz/crashes/ and make this script fail. Each crash becomes a unit test (Tests/OtterViewerTests/FuzzFindingsTests.swift).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(otlp-protobuf otlp-json otlp-logs block-scanner query-parsers)

# `--sanitize` links libFuzzer and ASan, but SwiftPM passes each as its own `-sanitize=` to swiftc, and the compiler
# keeps only the last: Swift code would get ASan without coverage, and libFuzzer would mutate blind. Both in one flag.
build=(swift build --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address --product OtterFuzz)
"${build[@]}"
binary=$("${build[@]}" --show-bin-path)/OtterFuzz

mkdir -p .build-fuzz/crashes
for target in "${targets[@]}"; do
    corpus=.build-fuzz/corpus/$target
    mkdir -p "$corpus"
    [ -d "Fuzz/seeds/$target" ] && cp -n Fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    echo "fuzzing $target for ${seconds}s"
    log=.build-fuzz/$target.log
    OTTER_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
        -artifact_prefix=.build-fuzz/crashes/"$target"- -print_final_stats=1 "$corpus" > "$log" 2>&1 || { tail -n 40 "$log"; exit 1; }
    tail -n 12 "$log"
    # A run that sees no coverage is not fuzzing: the build lost its instrumentation.
    if ! grep -q "INITED cov:" "$log"; then echo "fuzz: $target ran without coverage feedback" >&2; exit 1; fi
done
echo "fuzz: no crash in ${targets[*]} (${seconds}s each)"
