#!/usr/bin/env bash
# Portal end-to-end suite: builds the portal (web/dist) if needed, installs playwright-core
# (npm ci, from tests/e2e/package-lock.json; no browser download: Debian's chromium is used),
# and runs tests/e2e/portal.test.mjs with node's test runner against build/gpuaas.
# Last line: "N passed, N failed". Exits non-zero if anything failed.
#
# Usage: tests/e2e/run.sh            (E2E_SCREENSHOTS=docs/screenshots to refresh the README's)
# Preconditions: build/gpuaas built; node, npm and /usr/bin/chromium (scripts/install-deps.sh).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

fail() {
  echo "e2e: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

[[ -x build/gpuaas ]] || fail "build/gpuaas is missing (make build)"
[[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] || fail "chromium is missing (scripts/install-deps.sh)"
command -v npm >/dev/null || fail "npm is missing (scripts/install-deps.sh)"

# npm ci only when the lock changed since the last install (it wipes node_modules).
npm_ci() {
  local dir="$1"
  if [[ ! -f "$dir/node_modules/.package-lock.json" ||
        "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund) || return 1
  fi
}

npm_ci web || fail "npm ci in web/ failed"
(cd web && npm run build) || fail "portal build failed"
npm_ci tests/e2e || fail "npm ci in tests/e2e failed"
npm_ci tests/oidc || fail "npm ci in tests/oidc failed (the test identity provider)"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
(cd tests/e2e && node --test --test-concurrency=1 --test-reporter=spec portal.test.mjs sso.test.mjs) 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
passed="$(grep -aoE '^(ℹ|#) pass [0-9]+' "$out" | tail -n 1 | grep -oE '[0-9]+$')"
failed="$(grep -aoE '^(ℹ|#) fail [0-9]+' "$out" | tail -n 1 | grep -oE '[0-9]+$')"
passed="${passed:-0}"
failed="${failed:-0}"
if [[ $rc -ne 0 && $failed -eq 0 ]]; then
  failed=1
fi
echo "${passed} passed, ${failed} failed"
[[ $rc -eq 0 && $failed -eq 0 ]]
