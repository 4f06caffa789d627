#!/usr/bin/env bash
# make bench: throughput, p99 latency and Tapline's peak RSS, against a local
# nginx serving a 1 KiB and a 1 MiB file: direct, through `tapline proxy
# --reverse` capturing, and with --no-capture. Not a test: prints a table and
# writes raw wrk output to bench/results/.
#
#   bench/run.sh [--duration SECONDS] [--connections N] [--cases direct,capture,no-capture]
#
# Needs the release binary (make build; or TAPLINE_BIN=...), wrk and nginx
# (make test-deps).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${TAPLINE_BIN:-.build/release/tapline}"
need_bin=1
for a in "$@"; do [[ "$a" == "direct" || "$a" == "--cases=direct" ]] && need_bin=0; done
if [[ $need_bin -eq 1 && ! -x "$BIN" ]]; then
    echo "bench: $BIN not found: run 'make build' first (or set TAPLINE_BIN)" >&2
    exit 1
fi
command -v wrk >/dev/null 2>&1 || { echo "bench: wrk not found: run 'make test-deps'" >&2; exit 1; }
if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
    echo "bench: nginx not found: run 'make test-deps'" >&2
    exit 1
fi
# bench.py cleans up nginx/tapline/wrk itself on exit, error, SIGINT or SIGTERM.
exec python3 bench/bench.py --bin "$BIN" "$@"
