#!/usr/bin/env bash
# make bench (transparent part): wrk through `tapline run --transparent` (wrk in a
# network namespace, its TCP sent to Tapline by nftables tproxy, and by redirect) vs through the
# explicit forward proxy, in interleaved rounds against a local nginx, with the
# kernel's part alone beside them (nginx in a namespace with and without an nft
# redirect); prints requests/s, CPU per request and the ratios. --instructions:
# callgrind's instructions per request in Tapline, forward vs transparent. Needs
# root, ip (iproute2), nft (nftables), wrk and nginx (and valgrind for --instructions).
# Not a test.
#
#   bench/transparent.sh [--duration N] [--threads N] [--connections N] [--rounds N]
#   bench/transparent.sh --instructions [--short N] [--long N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${TAPLINE_BIN:-.build/release/tapline}"
[[ -x "$BIN" ]] || { echo "bench: $BIN not found: run 'make build' first (or set TAPLINE_BIN)" >&2; exit 1; }
for tool in wrk ip nft; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool not found: run 'make test-deps'" >&2; exit 1; }
done
# transparent.py cleans up nginx and tapline itself on exit, error, SIGINT or SIGTERM.
exec python3 bench/transparent.py --bin "$BIN" "$@"
