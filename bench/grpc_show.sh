#!/usr/bin/env bash
# make bench (gRPC read side): `tapline show --proto` on a synthetic 100k-message session
# (100 bidi calls of the proto/ Orders service): decode rate in messages per second,
# with the schema and schemaless. Not a test.
#
#   bench/grpc_show.sh [--messages N] [--flows N]
#
# Needs the release binary (make build; or TAPLINE_BIN=...) and .venv (make test-deps).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${TAPLINE_BIN:-.build/release/tapline}"
[[ -x "$BIN" ]] || { echo "bench: $BIN not found: run 'make build' first (or set TAPLINE_BIN)" >&2; exit 1; }
PY="${PYTHON:-.venv/bin/python}"
[[ -x "$PY" ]] || { echo "bench: $PY not found: run 'make test-deps'" >&2; exit 1; }
exec "$PY" bench/grpc_show.py --bin "$BIN" "$@"
