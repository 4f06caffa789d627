#!/usr/bin/env bash
# Installs what the integration tests and the benchmark need (make test-deps):
#   Debian: curl nghttp2-client nghttp2-server nghttp2-proxy nginx-light wrk openssl procps chromium
#           e2fsprogs mount util-linux protobuf-compiler libprotobuf-dev nodejs socat
#           (chromium: the browser client of test_websocket_h2_export.py; e2fsprogs,
#           mount, util-linux: the ext4 image test_capture_backpressure.py freezes;
#           protobuf-compiler: protoc, the oracle of test_protobuf_raw.py and
#           test_proto_schema.py; libprotobuf-dev: the well-known types' .proto files
#           (google/protobuf/*.proto) protoc compiles proto/'s example service against;
#           nodejs: the Node client of test_run_command.py; socat: the TCP relay
#           bench/grpc_unary.py measures as every proxy's ceiling)
#           (+ python3 / python3-venv when no usable python3 is there)
#   PyPI:   Tests/integration/requirements.txt, into the project venv ./.venv
#
# Idempotent: Debian packages are checked with dpkg-query, and the venv is
# reused while it works and was built from the same requirements file.
#
# nginx is only ever run by our own tests/bench, as the current user, with its
# own config on a free port. So it is installed without starting the system
# service, and if it was installed by this run its service is stopped and
# disabled.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "install-test-deps: $*" >&2; }
die() { echo "install-test-deps: error: $*" >&2; exit 1; }

SUDO=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi

is_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

# --- Debian packages -----------------------------------------------------------
packages=(curl nghttp2-client nghttp2-server nghttp2-proxy wrk openssl procps chromium e2fsprogs mount util-linux protobuf-compiler libprotobuf-dev nodejs iproute2 nftables socat)
nginx_was_installed=1
if command -v dpkg-query >/dev/null 2>&1 && ! is_installed nginx-light; then
    nginx_was_installed=0
fi

# A python3 able to make a venv (ensurepip): pyenv's has it built in; Debian's
# needs python3-venv.
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    packages+=(python3 python3-venv)
    PYTHON=/usr/bin/python3
elif ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    packages+=(python3-venv)
fi

"$ROOT/scripts/install-deps.sh" --only "${packages[@]}"
TAPLINE_NO_SERVICE_START=1 "$ROOT/scripts/install-deps.sh" --only nginx-light

if [[ $nginx_was_installed -eq 0 ]]; then
    say "stopping and disabling the system nginx service (tests run their own nginx)"
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        "${SUDO[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
    else
        "${SUDO[@]}" service nginx stop >/dev/null 2>&1 || true
        if command -v update-rc.d >/dev/null 2>&1; then
            "${SUDO[@]}" update-rc.d nginx disable >/dev/null 2>&1 || true
        fi
    fi
fi

if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    # e.g. a pyenv/other python3 without ensurepip: fall back to Debian's.
    if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        PYTHON=/usr/bin/python3
    else
        die "$PYTHON cannot create a venv (no ensurepip); install python3-venv"
    fi
fi

# --- mitmproxy venv (export tests) ---------------------------------------------
# mitmproxy pins an h2 older than hypercorn accepts, so it lives in its own venv;
# the tests find mitmdump at .venv-mitmproxy/bin/mitmdump.
MITM_VENV="$ROOT/.venv-mitmproxy"
MITM_REQ="$ROOT/Tests/integration/requirements-mitmproxy.txt"
MITM_STAMP="$MITM_VENV/.tapline-requirements.sha256"
mitm_want="$(sha256sum "$MITM_REQ" | cut -d' ' -f1)"
if [[ -x "$MITM_VENV/bin/mitmdump" && -f "$MITM_STAMP" && "$(cat "$MITM_STAMP")" == "$mitm_want" ]]; then
    say "mitmproxy venv up to date: $MITM_VENV"
else
    [[ -x "$MITM_VENV/bin/python" ]] || "$PYTHON" -m venv "$MITM_VENV"
    say "installing mitmproxy into $MITM_VENV"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$MITM_VENV/bin/python" -m pip install -q -r "$MITM_REQ" </dev/null
    "$MITM_VENV/bin/mitmdump" --version >/dev/null || die "mitmdump does not run after install"
    echo "$mitm_want" >"$MITM_STAMP"
fi

# --- Python venv ---------------------------------------------------------------
VENV="$ROOT/.venv"
REQ="$ROOT/Tests/integration/requirements.txt"
STAMP="$VENV/.tapline-requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
IMPORTS='import pytest, pytest_timeout, h2, hypercorn, websockets, grpc, google.protobuf, jsonschema, brotli, requests, httpx'

venv_ok() {
    [[ -x "$VENV/bin/python" ]] \
        && "$VENV/bin/python" -c "$IMPORTS" >/dev/null 2>&1 \
        && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]
}

if venv_ok; then
    say "venv up to date: $VENV"
    exit 0
fi

if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "removing broken venv $VENV"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating venv $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi
say "installing Python test packages from $REQ"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q -r "$REQ" </dev/null
"$VENV/bin/python" -c "$IMPORTS" || die "Python test packages did not import after install"
echo "$want" >"$STAMP"
say "venv ready: $VENV"
