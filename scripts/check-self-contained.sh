#!/usr/bin/env bash
# Fails when a test, benchmark or build script names a path outside the repository.
#
# A fresh clone must pass `make test` with nothing beside it, so what the tests need
# lives under Tests/fixtures (with its source noted). This is the static half of that
# rule; the dynamic half is the audit hook in Tests/integration/conftest.py, which fails
# any integration test that opens a file beside the repository while it runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The project's shared material sits beside the repository on a developer's machine
# (a sibling folder named shared) and not in a fresh clone: no test may name it.
pattern='(\.\./|/)shared/(schemas|fixtures|tools|DESIGN)|"shared"'
hits=$(grep -rnE "$pattern" Tests bench scripts Makefile Package.swift \
        --include='*.py' --include='*.swift' --include='*.sh' --include='Makefile' \
        --include='Package.swift' --include='*.conf*' 2>/dev/null \
      | grep -v '^scripts/check-self-contained.sh:' || true)
if [ -n "$hits" ]; then
  echo "check-self-contained: these lines read outside the repository; copy what they need under Tests/fixtures:" >&2
  echo "$hits" >&2
  exit 1
fi
echo "check-self-contained: no test, benchmark or script names a path outside the repository"
