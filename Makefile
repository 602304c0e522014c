# GPUaaS: the front door. Thin on purpose: CMake builds (CMakePresets.json), scripts/ orchestrate.
#
#   make build         install missing packages, build the release binary build/gpuaas
#   make run [ARGS=..] build, then run `build/gpuaas server ARGS` in the foreground
#   make test          build; unit tests (release, then ASan+UBSan); integration suite; portal e2e
#   make portal        build the web portal only (web/dist, copied to build/web)
#   make e2e           build, then the portal's end-to-end tests (tests/e2e/run.sh)
#   make bench         build, then run the benchmarks and print their figures (bench/run.sh)
#   make asan          unit tests under AddressSanitizer + UBSan only
#   make format        clang-format -i the C++ sources;  make format-check: fail if unformatted
#   make clean         remove the build trees

SHELL := /bin/bash
ARGS ?=

# The C++ sources, NUL-separated for xargs.
FIND_CXX = find src bench \( -name '*.cc' -o -name '*.h' \) -print0 2>/dev/null

.PHONY: all deps build portal run test unit asan integration e2e bench format format-check clean

all: build

deps:
	@scripts/install-deps.sh

# The portal's assets (web/, TypeScript + Vite) are built too and copied to build/web, where
# `build/gpuaas server` finds them by default (see `gpuaas server --web-dir`).
build: deps
	cmake --preset release
	cmake --build --preset release -j2
	$(MAKE) --no-print-directory portal

# The web portal only: npm ci (from web/package-lock.json) and vite build into web/dist, then
# copied to build/web.
portal:
	cd web && npm ci --no-audit --no-fund && npm run build
	rm -rf build/web && mkdir -p build && cp -r web/dist build/web

run: build
	./build/gpuaas server $(ARGS)

# Every suite runs even when an earlier one fails; the script exits non-zero if any failed and
# ends with the line "N passed, N failed".
test: deps
	scripts/test.sh

unit: build
	ctest --test-dir build --output-on-failure -j2

asan: deps
	scripts/test.sh --only asan

integration: build
	tests/integration/run.sh

# Portal end-to-end tests (playwright-core + Debian's chromium against a real server).
e2e: build
	tests/e2e/run.sh

bench: build
	bench/run.sh

format:
	@$(FIND_CXX) | xargs -0 -r clang-format -i

format-check:
	@$(FIND_CXX) | xargs -0 -r clang-format --dry-run --Werror

clean:
	rm -rf build build-asan
