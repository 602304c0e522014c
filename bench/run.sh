#!/usr/bin/env bash
# GPUaaS benchmarks (what `make bench` runs after building):
#   (a) durable job submissions/s: wrk POSTing /api/v1/jobs (bench/submit.lua), only 201s count;
#       the jobs hold their GPUs (a long sleep) so that most of them queue
#   (b) job reads/s: wrk GETting /api/v1/jobs/ID (bench/get_job.lua), only 200s count
#   (c) every Google Benchmark program build/*_bench that exists
# against a fresh server on a free port with a fresh data dir and a large demo inventory.
# Prints each figure, then a Markdown table of the results (for docs/benchmarks.md).
#
# Environment: GPUAAS_BIN (default build/gpuaas), BENCH_DURATION (default 10s),
# BENCH_THREADS (2), BENCH_CONNECTIONS (64), BENCH_KEEP=1 keeps the data dir,
# BENCH_BODY (the submitted job's JSON; e.g. '{"gpus":1,"command":["true"]}' to measure churn),
# BENCH_MICRO=0 (only the wrk figures), BENCH_TLS=1 (HTTPS: a self-signed certificate made with openssl; wrk and curl over TLS, each
# wrk connection one handshake, then kept alive), BENCH_DATABASE (a PostgreSQL connection string
# of an empty database: the server's --database; default: SQLite in the data dir),
# BENCH_COPY_TO (a PostgreSQL connection string of an empty database: (d) copies there instead
# of into a second SQLite file).
# (d) once the server is stopped, `gpuaas db copy` of its database (the jobs of (a)) into a new
#     SQLite file or BENCH_COPY_TO: rows and seconds.
# Needs: wrk, curl, jq, python3 (to pick a free port), openssl (BENCH_TLS).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
bin="${GPUAAS_BIN:-$repo/build/gpuaas}"
duration="${BENCH_DURATION:-10s}"
threads="${BENCH_THREADS:-2}"
conns="${BENCH_CONNECTIONS:-64}"

for tool in wrk curl jq python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x "$bin" ]] || { echo "bench: $bin does not exist (make build)" >&2; exit 1; }

# The default demo inventory (one node of 8 H200, one of 4 L40S): the first 12 jobs start and
# the rest queue, as they do when demand is high. Starting thousands of processes would measure
# fork/exec of this machine rather than the control plane (BENCH_INVENTORY to change it).
inventory="${BENCH_INVENTORY:-h200:8,l40s:4}"

data_dir="$(mktemp -d /tmp/gpuaas-bench-XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
tls_args=()
curl_tls=()
if [[ -n "${BENCH_TLS:-}" ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj /CN=bench -addext subjectAltName=IP:127.0.0.1 -keyout "$data_dir/tls.key" \
    -out "$data_dir/tls.crt" >/dev/null 2>&1
  tls_args=(--tls-cert "$data_dir/tls.crt" --tls-key "$data_dir/tls.key")
  curl_tls=(--cacert "$data_dir/tls.crt")
  url="https://127.0.0.1:$port"
fi
server_pid=""

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  # The benchmark's jobs outlive the server (they are adopted at its next start): end them.
  if [[ -n "${marker:-}" ]]; then
    mapfile -t pids < <(pgrep -f -- "sleep $marker" || true)
    if [[ ${#pids[@]} -gt 0 ]]; then
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
  fi
  if [[ -n "${BENCH_KEEP:-}" ]]; then
    echo "bench: kept $data_dir"
  else
    rm -rf "$data_dir"
  fi
}
trap cleanup EXIT

echo "bench: server on $url, data dir $data_dir, ${#inventory} chars of demo inventory"
"$bin" server --listen "127.0.0.1:$port" --data-dir "$data_dir" --demo-gpus "$inventory" \
  "${tls_args[@]}" ${BENCH_DATABASE:+--database "$BENCH_DATABASE"} >"$data_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -fsS "${curl_tls[@]}" "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "bench: server exited"; tail -20 "$data_dir/server.log"; exit 1; }
  sleep 0.1
done
curl -fsS "${curl_tls[@]}" "$url/healthz" >/dev/null || { echo "bench: server not healthy in 10 s"; tail -20 "$data_dir/server.log"; exit 1; }
admin="$(cat "$data_dir/admin.token")"

# api METHOD PATH [BODY] TOKEN: prints the JSON answer, fails on a non-2xx status.
api() {
  local method="$1" path="$2" body="$3" token="$4"
  curl -fsS "${curl_tls[@]}" -X "$method" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    ${body:+--data "$body"} "$url$path"
}

# The jobs hold their GPUs (a long sleep with a unique argument, so that their processes can be
# found and ended afterwards): once the inventory is full the rest queue, and the figure is the
# API + store + scheduler path, not the cost of spawning thousands of processes on 2 cores.
marker="3600.$(printf '%06d' $((RANDOM * 32768 + RANDOM)))"
default_body="$(printf '{"name":"bench","gpus":1,"command":["sleep","%s"]}' "$marker")"
export BENCH_BODY="${BENCH_BODY:-$default_body}"

api POST /api/v1/entities '{"name":"bench"}' "$admin" >/dev/null
member="$(api POST /api/v1/users '{"name":"bench-user","entity":"bench","role":"member"}' "$admin" | jq -r .token)"

# run_wrk LABEL SCRIPT: runs wrk, shows its output, sets wrk_result to its RESULT line.
run_wrk() {
  local label="$1" script="$2" out
  echo
  echo "== $label: wrk -t$threads -c$conns -d$duration -s $script"
  out="$(GPUAAS_TOKEN="$member" wrk -t"$threads" -c"$conns" -d"$duration" --latency \
    -s "$script" "$url" 2>&1)"
  echo "$out"
  wrk_result="$(grep '^RESULT' <<<"$out" | tail -n 1)"
}

field() {  # field NAME "RESULT a=1 b=2"
  sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<" $2"
}

run_wrk "durable job submissions" bench/submit.lua
submit_result="$wrk_result"
submit_rate="$(field ok_per_s "$submit_result")"

# Every acknowledged submission must be in the store (count them, page by page).
stored=0 after=""
while :; do
  page="$(api GET "/api/v1/jobs?limit=1000${after:+&after=$after}" "" "$member")"
  stored=$((stored + $(jq '.jobs | length' <<<"$page")))
  after="$(jq -r '.next_after // empty' <<<"$page")"
  [[ -n "$after" ]] || break
done
echo "jobs stored: $stored (201 answers counted by wrk: $(field status_ok "$submit_result"))"

job_id="$(api POST /api/v1/jobs "$BENCH_BODY" "$member" | jq -r .id)"
export GPUAAS_JOB_ID="$job_id"
run_wrk "job reads (GET /api/v1/jobs/$job_id)" bench/get_job.lua
get_result="$wrk_result"
get_rate="$(field ok_per_s "$get_result")"

# (d) The database the submissions filled, copied offline (the server must be stopped).
copy_result=""
if [[ -z "${BENCH_DATABASE:-}" ]]; then
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  copy_to="${BENCH_COPY_TO:-$data_dir/copy.db}"
  echo
  copy_kind="SQLite"
  [[ -n "${BENCH_COPY_TO:-}" ]] && copy_kind="PostgreSQL"
  echo "== gpuaas db copy --from $data_dir --to ($copy_kind) $copy_to"
  copy_json="$("$bin" db copy --from "$data_dir" --to "$copy_to" --json -q)"
  echo "$copy_json"
  copy_result="$(jq -r '"\(.rows) rows (\(.tables.jobs) jobs) in \(.seconds * 100 | round / 100) s"' <<<"$copy_json")"
fi

micro=()
shopt -s nullglob
for b in build/*_bench; do
  [[ -x "$b" && "${BENCH_MICRO:-1}" != 0 ]] || continue
  echo
  echo "== $b"
  "$b" --benchmark_min_time=0.2 2>&1 | tee "$data_dir/$(basename "$b").txt" || echo "$b failed"
  micro+=("$b")
done

date_utc="$(date -u +%Y-%m-%d)"
cpus="$(nproc) cores, $(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -n 1)"
echo
echo "== summary ($date_utc, $cpus)"
echo "| what | figure | p50 / p99 latency | command |"
echo "|---|---|---|---|"
echo "| durable job submissions (201/s) | ${submit_rate:-?} | $(field p50_ms "$submit_result") / $(field p99_ms "$submit_result") ms | \`wrk -t$threads -c$conns -d$duration -s bench/submit.lua\` |"
echo "| job reads (200/s) | ${get_rate:-?} | $(field p50_ms "$get_result") / $(field p99_ms "$get_result") ms | \`wrk -t$threads -c$conns -d$duration -s bench/get_job.lua\` |"
if [[ -n "$copy_result" ]]; then
  echo "| database copy, SQLite to $copy_kind | $copy_result | | \`gpuaas db copy --from DATA --to ...\` |"
fi
for b in "${micro[@]}"; do
  echo "| $(basename "$b") | see its output above | | \`$b\` |"
done
