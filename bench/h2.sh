#!/usr/bin/env bash
# make bench (HTTP/2 part): h2load -c 10 -m 10 against nghttpd, direct and through
# `tapline proxy --reverse h2c://...` with capture on and off, and h2 over TLS on
# both legs. Prints req/s, p99 and ratios. Needs h2load/nghttpd (make test-deps).
#
#   bench/h2.sh [--requests N] [--threads N] [--rounds N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${TAPLINE_BIN:-.build/release/tapline}"
if [[ ! -x "$BIN" ]]; then
    echo "bench/h2: $BIN not found: run 'make build' first (or set TAPLINE_BIN)" >&2
    exit 1
fi
exec python3 bench/h2.py --bin "$BIN" "$@"
