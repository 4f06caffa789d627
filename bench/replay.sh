#!/usr/bin/env bash
# make bench (replay and mock part): `tapline mock` against nginx serving the same
# 1 KiB files and `mitmdump --server-replay` (wrk -t2 -c50), and `tapline replay
# --concurrency 50` of a 100k-flow session against nginx, as a ratio of wrk -c50's
# rate, with the replay's peak RSS. Interleaved rounds; prints medians and ratios.
# Not a test.
#
#   bench/replay.sh [--only mock|replay] [--flows N] [--rounds N] [--seconds N]
#   bench/replay.sh --only big [--big-mib N]   replay of a 1 GiB request and 1 GiB response (peak RSS)
#   BENCH_QUICK=1 bench/replay.sh    one round, 10,000 flows, 3 s wrk runs
#
# Needs the release binary (make build; or TAPLINE_BIN=...), wrk and nginx
# (make test-deps); mitmdump from $TAPLINE_MITMDUMP or PATH (its column is left out without it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${TAPLINE_BIN:-.build/release/tapline}"
[[ -x "$BIN" ]] || { echo "bench/replay: $BIN not found: run 'make build' first (or set TAPLINE_BIN)" >&2; exit 1; }
command -v wrk >/dev/null 2>&1 || { echo "bench/replay: wrk not found: run 'make test-deps'" >&2; exit 1; }
quick=()
[[ -n "${BENCH_QUICK:-}" ]] && quick=(--rounds 1 --flows 10000 --seconds 3)
# replay.py cleans up nginx, tapline and mitmdump itself on exit, error, SIGINT or SIGTERM.
exec python3 bench/replay.py --bin "$BIN" "${quick[@]}" "$@"
