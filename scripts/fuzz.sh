#!/usr/bin/env bash
# Builds the HTTP/1 + ClientHello fuzz target with libFuzzer and AddressSanitizer
# and runs it for a bounded time: scripts/fuzz.sh [seconds, default 60].
# Crashing inputs are written to .build-fuzz/artifacts/; add each as a unit test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
scratch=.build-fuzz
TAPLINE_FUZZ=1 swift build --scratch-path "$scratch" -c debug \
    -Xswiftc -sanitize=fuzzer,address --product FuzzHTTP1
binary="$(TAPLINE_FUZZ=1 swift build --scratch-path "$scratch" -c debug --show-bin-path)/FuzzHTTP1"
# The seed corpus stays as committed; new inputs libFuzzer finds go to a scratch corpus.
work="$scratch/corpus-http1"
mkdir -p "$work" "$scratch/artifacts"
"$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 \
    "$work" Fuzz/corpus/http1
