#!/usr/bin/env bash
# Installs the Debian packages Tapline needs to build, and nothing else.
#
#   scripts/install-deps.sh                 the build dependencies (make deps)
#   scripts/install-deps.sh --only PKG...   exactly these packages (used by
#                                           scripts/install-test-deps.sh)
#
# Idempotent: asks dpkg which packages are already installed, and runs
# `apt-get update` + `apt-get install` only when something is missing.
# Non-interactive. Uses sudo only when not running as root.
#
# Environment:
#   TAPLINE_NO_SERVICE_START=1  forbid maintainer scripts from starting services
#                               while installing (a temporary policy-rc.d), for
#                               packages such as nginx that we only run ourselves.
set -euo pipefail

BUILD_PACKAGES=(
    pkg-config
    libssl-dev
    zlib1g-dev
    libnghttp2-dev
    libbrotli-dev
    libzstd-dev
    ca-certificates
)

die() { echo "install-deps: error: $*" >&2; exit 1; }
say() { echo "install-deps: $*" >&2; }

packages=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--only" ]]; then
    shift
    packages=("$@")
elif [[ $# -gt 0 ]]; then
    die "usage: $0 [--only PACKAGE...]"
fi
[[ ${#packages[@]} -gt 0 ]] || exit 0

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    die "this script needs a Debian-based system with apt-get and dpkg-query.
Install these packages (or their equivalents) by hand: ${packages[*]}"
fi

is_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

missing=()
for pkg in "${packages[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    say "already installed: ${packages[*]}"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    die "missing packages (${missing[*]}) and not root, and sudo is not available.
Run as root: apt-get update && apt-get install -y ${missing[*]}"
fi

# Keep services from starting during the install when asked to (nginx-light
# would otherwise start a system nginx on port 80). Only ever create our own
# policy-rc.d, never replace one that is already there.
policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
    if [[ $created_policy -eq 1 ]]; then
        "${SUDO[@]}" rm -f "$policy" || true
    fi
}
trap cleanup EXIT
if [[ "${TAPLINE_NO_SERVICE_START:-0}" == "1" && ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# temporary, created by tapline scripts/install-deps.sh\nexit 101\n' \
        | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 0755 "$policy"
    created_policy=1
fi

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}" </dev/null \
    || die "apt-get install failed for: ${missing[*]}"

still_missing=()
for pkg in "${missing[@]}"; do
    is_installed "$pkg" || still_missing+=("$pkg")
done
[[ ${#still_missing[@]} -eq 0 ]] || die "still not installed after apt-get: ${still_missing[*]}"
say "installed: ${missing[*]}"
