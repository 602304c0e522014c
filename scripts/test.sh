#!/usr/bin/env bash
# Runs every GPUaaS test suite (what `make test` does), in this order:
#   0. the C++ sources are clang-formatted (make format-check; `make format` fixes them)
#   1. release build (build/) and its unit tests (ctest)
#   2. the unit tests again, built with AddressSanitizer + UBSan (build-asan/, no benchmarks)
#   3. the integration suite (tests/integration/run.sh) against build/gpuaas
#   4. the portal e2e suite (tests/e2e/run.sh: builds web/, drives chromium against build/gpuaas)
# Every suite runs even when an earlier one fails. Exits non-zero if anything failed; the last
# line is "N passed, N failed": the totals over all suites (one unit-test program = one test).
#
# Usage: scripts/test.sh [--only format|release|asan|integration|e2e]
# Preconditions: packages installed (scripts/install-deps.sh); run from anywhere.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
only="${2:-}"
if [[ "${1:-}" != "--only" ]]; then
  only=""
fi

total_passed=0
total_failed=0
summaries=()

# record SUITE PASSED FAILED
record() {
  total_passed=$((total_passed + $2))
  total_failed=$((total_failed + $3))
  summaries+=("$(printf '%-12s %s passed, %s failed' "$1" "$2" "$3")")
}

# run_ctest SUITE BUILD_DIR: runs the tests of BUILD_DIR and records their counts.
run_ctest() {
  local suite="$1" dir="$2" out rc line failed all
  out="$(mktemp)"
  ctest --test-dir "$dir" --output-on-failure -j2 --timeout 600 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  line="$(grep -E '[0-9]+ tests failed out of [0-9]+' "$out" | tail -n 1)"
  rm -f "$out"
  if [[ -n "$line" ]]; then
    failed="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")"
    all="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")"
    record "$suite" $((all - failed)) "$failed"
  elif [[ $rc -ne 0 ]]; then
    record "$suite" 0 1
  else
    record "$suite" 0 0
  fi
}

banner() {
  printf '\n==== %s ====\n' "$*"
}

# Disk: the two build trees take about 2 GB and ccache a few hundred MB more. Where less than
# GPUAAS_LOW_DISK_MB (default 6000) is free at the start, ccache is off (a fresh machine gets
# no hits from it anyway) and build-asan is removed once its tests have run (the later suites
# use build/ only), so a small disk still runs every suite; the figures are printed either way.
free_mb() {
  df -Pm "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'
}
banner "disk"
df -h . "${TMPDIR:-/tmp}" 2>/dev/null | awk '!seen[$0]++'
low_disk=0
if [[ "$(free_mb .)" =~ ^[0-9]+$ && "$(free_mb .)" -lt "${GPUAAS_LOW_DISK_MB:-6000}" ]]; then
  low_disk=1
  export CCACHE_DISABLE=1
  echo "less than ${GPUAAS_LOW_DISK_MB:-6000} MB free: ccache off, build-asan removed after its tests"
fi

if [[ -z "$only" || "$only" == "format" ]]; then
  banner "format (clang-format)"
  if make --no-print-directory format-check; then
    record format 1 0
  else
    echo "C++ sources not clang-formatted: run 'make format'"
    record format 0 1
  fi
fi

release_ok=1
if [[ -z "$only" || "$only" == "release" || "$only" == "integration" ]]; then
  banner "release build"
  if cmake --preset release && cmake --build --preset release -j2; then
    if [[ "$only" != "integration" ]]; then
      banner "unit tests (release)"
      run_ctest unit build
    fi
  else
    release_ok=0
    record build 0 1
  fi
fi

if [[ -z "$only" || "$only" == "asan" ]]; then
  banner "unit tests (ASan + UBSan)"
  if cmake --preset asan; then
    # Build only the unit-test programs: ask the generated build system for its targets.
    mapfile -t targets < <(cmake --build build-asan --target help 2>/dev/null |
      grep -oE '[A-Za-z0-9_]+_test$' | sort -u)
    if [[ ${#targets[@]} -eq 0 ]]; then
      echo "no *_test targets found in build-asan"
      record asan 0 0
    elif cmake --build --preset asan -j2 --target "${targets[@]}"; then
      ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}" \
        UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
        run_ctest asan build-asan
    else
      record asan-build 0 1
    fi
  else
    record asan-build 0 1
  fi
  if [[ $low_disk -eq 1 ]]; then
    rm -rf build-asan
  fi
fi

if [[ -z "$only" || "$only" == "integration" ]]; then
  banner "integration tests"
  if [[ $release_ok -eq 1 && -x build/gpuaas ]]; then
    out="$(mktemp)"
    tests/integration/run.sh 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)"
    rm -f "$out"
    if [[ -n "$line" ]]; then
      failed="$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")"
      # A suite that crashed after its summary still counts as a failure.
      if [[ $rc -ne 0 && $failed -eq 0 ]]; then
        failed=1
      fi
      record integration "${line%% *}" "$failed"
    else
      record integration 0 1
    fi
  else
    echo "build/gpuaas was not built: integration suite not run"
    record integration 0 1
  fi
fi

# Portal e2e tests (web/): tests/e2e/run.sh builds the portal, then drives chromium against
# build/gpuaas.
if [[ -z "$only" || "$only" == "e2e" ]]; then
  banner "portal e2e tests"
  if [[ -x build/gpuaas && ( $release_ok -eq 1 || "$only" == "e2e" ) ]]; then
    out="$(mktemp)"
    tests/e2e/run.sh 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)"
    rm -f "$out"
    if [[ -n "$line" ]]; then
      failed="$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")"
      if [[ $rc -ne 0 && $failed -eq 0 ]]; then
        failed=1
      fi
      record e2e "${line%% *}" "$failed"
    else
      record e2e 0 1
    fi
  else
    echo "build/gpuaas was not built: portal e2e suite not run"
    record e2e 0 1
  fi
fi

banner "summary"
echo "disk free at the end: $(free_mb .) MB"
for s in "${summaries[@]}"; do
  echo "$s"
done
echo "${total_passed} passed, ${total_failed} failed"
[[ $total_failed -eq 0 ]]
