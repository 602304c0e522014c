-- wrk script: durable job submissions. POSTs a job ($BENCH_BODY, default: a 1-GPU job running
-- `true`) to /api/v1/jobs with the token in $GPUAAS_TOKEN, counts 201 answers (and every other
-- status) per thread, and prints the totals when the run is done.
--   GPUAAS_TOKEN=... wrk -t2 -c64 -d10s -s bench/submit.lua http://127.0.0.1:PORT

local token = os.getenv("GPUAAS_TOKEN") or ""
wrk.method = "POST"
wrk.path = "/api/v1/jobs"
wrk.body = os.getenv("BENCH_BODY") or '{"name":"bench","gpus":1,"command":["true"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  other = 0
  codes = ""
end

function response(status, headers, body)
  if status == 201 then
    ok = ok + 1
  else
    other = other + 1
    if not string.find(codes, " " .. status .. " ", 1, true) then
      codes = codes .. " " .. status .. " "
    end
  end
end

function done(summary, latency, requests)
  local total_ok, total_other, seen = 0, 0, ""
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_other = total_other + t:get("other")
    for code in string.gmatch(t:get("codes"), "%d+") do
      if not string.find(seen, " " .. code .. " ", 1, true) then
        seen = seen .. " " .. code .. " "
      end
    end
  end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT status_ok=%d status_other=%d seconds=%.2f ok_per_s=%.1f " ..
                         "p50_ms=%.2f p99_ms=%.2f\n", total_ok, total_other, secs,
                         total_ok / secs, latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
  if total_other > 0 then
    io.write("non-201 statuses seen:" .. string.gsub(seen, "  ", " ") .. "\n")
  end
end
