#!/usr/bin/env bash
# make bench (gRPC part): gRPC unary calls with h2load and a grpcio client, 1 and 16 in flight, direct vs
# through `tapline proxy --reverse h2c://...` with capture on, against a grpcio server
# and against `tapline mock` (a fast server). Prints calls/s and ratios. Not a test.
#
#   bench/grpc_unary.sh [--seconds N] [--rounds N] [--threads N] [--clients h2load,grpcio] [--previous-bin OTHER_TAPLINE]
#
# Needs the release binary (make build; or TAPLINE_BIN=...), h2load/nghttp and .venv
# with grpcio (make test-deps).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN="${TAPLINE_BIN:-.build/release/tapline}"
[[ -x "$BIN" ]] || { echo "bench: $BIN not found: run 'make build' first (or set TAPLINE_BIN)" >&2; exit 1; }
PY="${PYTHON:-.venv/bin/python}"
[[ -x "$PY" ]] || { echo "bench: $PY not found: run 'make test-deps'" >&2; exit 1; }
exec python3 bench/grpc_unary.py --bin "$BIN" --python "$PY" "$@"
