#!/usr/bin/env bash
# Installs the test identity provider's packages (npm ci from package-lock.json) when the lock
# changed since the last install. Used by tests/integration/test_sso.py.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "npm is missing (scripts/install-deps.sh)" >&2; exit 1; }
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2
fi
