#!/usr/bin/env bash
# Runs the GPUaaS integration suite against build/gpuaas (or $GPUAAS_BIN).
# The last line is "N passed, N failed"; the exit code is non-zero if any test failed.
# Usage: tests/integration/run.sh [-k PATTERN] [TEST_NAME ...]   (see runner.py)
# A watchdog bounds the whole run ($GPUAAS_IT_TIMEOUT seconds, default 1200).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export GPUAAS_BIN="${GPUAAS_BIN:-$repo/build/gpuaas}"
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1
cd "$repo" || exit 2
timeout --signal=TERM --kill-after=30 "${GPUAAS_IT_TIMEOUT:-1200}" \
  python3 "$here/runner.py" "$@"
rc=$?
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
  echo "integration suite killed by its watchdog after ${GPUAAS_IT_TIMEOUT:-1200}s"
  echo "0 passed, 1 failed"
fi
exit $rc
