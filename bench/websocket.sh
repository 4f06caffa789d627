#!/usr/bin/env bash
# make bench (WebSocket part): echo round trips with a Python `websockets` client
# against a Python `websockets` echo server, direct and through
# `tapline proxy --reverse` (capturing into a temporary directory, and with
# --no-capture), in one run:
#   - 64 B messages, sequential round trips per second
#   - 1 MiB messages, echo throughput (MB/s each way)
# Prints both and the ratio through Tapline / direct. Not a test.
#
#   bench/websocket.sh [--seconds N] [--compression deflate]
#
# Needs the release binary (make build; or TAPLINE_BIN=...) and .venv (make test-deps).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${TAPLINE_BIN:-.build/release/tapline}"
[[ -x "$BIN" ]] || { echo "bench: $BIN not found: run 'make build' first (or set TAPLINE_BIN)" >&2; exit 1; }
PY=.venv/bin/python
[[ -x "$PY" ]] || { echo "bench: $PY not found: run 'make test-deps'" >&2; exit 1; }
# websocket.py cleans up the server and tapline itself on exit, error, SIGINT or SIGTERM.
exec "$PY" bench/websocket.py --bin "$BIN" "$@"
