#!/usr/bin/env bash
# Installs the Debian 12 packages GPUaaS needs to build, test and benchmark.
#
# Idempotent and fast when everything is present: it asks dpkg-query first and only runs
# `apt-get update` + `apt-get install` when a package is missing. Works as root, or through sudo
# when run by another user. Prints what it installs (nothing when all is present).
#
# Usage: scripts/install-deps.sh [--check]   (--check: only report what is missing, exit 1 if any)
set -euo pipefail

# Build and unit tests.
BUILD_PACKAGES=(
  build-essential g++ cmake pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libssl-dev libsodium-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang-format
)

# Integration tests, benchmarks and the scripts themselves.
TOOL_PACKAGES=(
  jq curl wrk python3 procps openssl
)

# --- Packages added by later issues go here (keep one group per issue, with a comment) -------
# e.g. containers runtime:    podman runc
#      notebooks:             jupyter-notebook
#      portal e2e tests:      chromium nodejs npm
#      monitoring:            prometheus
EXTRA_PACKAGES=(
  # portal (web/, built with npm) and its e2e tests (playwright-core drives Debian's chromium);
  # fonts so that pages and screenshots render text
  nodejs chromium fonts-dejavu-core
  # node agent (issue 6): containers (podman with runc; busybox-static builds the test image)
  # and monitoring (a real Prometheus scrapes /metrics in tests/integration/test_agent_*.py)
  podman runc busybox-static prometheus
  # notebooks (issue 7): kind=notebook runs Debian's jupyter-notebook with a python3 kernel
  jupyter-notebook python3-ipykernel
  # the PostgreSQL store (libpq to build; the server's programs for its tests, which start a
  # PostgreSQL of their own: store/pg_test_server.h, tests/integration/test_postgres.py)
  postgresql libpq-dev
)
# npm: Debian's package, unless an npm is already there (a NodeSource nodejs ships its own npm
# and conflicts with Debian's).
if ! command -v npm >/dev/null 2>&1; then
  EXTRA_PACKAGES+=(npm)
fi
# ----------------------------------------------------------------------------------------------

ALL_PACKAGES=("${BUILD_PACKAGES[@]}" "${TOOL_PACKAGES[@]}" "${EXTRA_PACKAGES[@]}")

check_only=0
if [[ "${1:-}" == "--check" ]]; then
  check_only=1
fi

# A package counts as present when dpkg reports it fully installed (one dpkg-query for all).
declare -A installed=()
while read -r name status; do
  [[ "$status" == "installed" ]] && installed["${name%%:*}"]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${ALL_PACKAGES[@]}" 2>/dev/null || true)
missing=()
for pkg in "${ALL_PACKAGES[@]}"; do
  if [[ -z "${installed[$pkg]:-}" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#ALL_PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if [[ $check_only -eq 1 ]]; then
  exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: not root and no sudo; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: apt-get update"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
echo "install-deps: installing: ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed: ${missing[*]}"
