#!/usr/bin/env python3
"""Submission-to-running latency: "a job that fits on free GPUs starts within 50 ms of its
submission" (issue 3), measured end to end.

Starts `gpuaas server` on 127.0.0.1 (a free port, a fresh data dir) with its demo agents, then N
times: POST /api/v1/jobs (1 GPU, `sleep 60`), poll GET /api/v1/jobs/ID over one keep-alive
connection until its state is "running" (the agent started the process and reported it), record
the time from just before the POST to that answer, cancel the job and wait until its GPU is free
again, so that every submission fits on free GPUs. Prints p50/p90/p99/max over N.

Then it reads the server's gpuaas_job_start_seconds histograms (GET /metrics) and prints the mean
of each stage (submit_commit, queue, place, dispatch, agent, running_commit, total; see
src/state/start_trace.h); the rest of the client's figure is its own requests and polling.

Usage: bench/start_latency.py [--n 200] [--bin build/gpuaas] [--gpus h200:8]
                              [--log-level debug --server-log FILE]
The poll adds up to its interval (1 ms) plus one request; the figure is an upper bound.
With --log-level debug the server log (--server-log keeps it) has one line per job with its stages
and the agent's heartbeat and launch times.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Api:
    def __init__(self, port, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.conn.request(method, path, json.dumps(body) if body is not None else None,
                          self.headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p / 100))]


def print_stages(api, client_mean_ms):
    """Mean of each stage of the server's gpuaas_job_start_seconds histograms."""
    api.conn.request("GET", "/metrics")
    r = api.conn.getresponse()
    text = r.read().decode()
    sums, counts = {}, {}
    for line in text.splitlines():
        for kind, into in (("_sum", sums), ("_count", counts)):
            prefix = "gpuaas_job_start_seconds" + kind + '{stage="'
            if line.startswith(prefix):
                stage = line[len(prefix):line.index('"', len(prefix))]
                into[stage] = float(line.rsplit(" ", 1)[1])
    if not counts.get("total"):
        print("no gpuaas_job_start_seconds in /metrics")
        return
    parts = [f"{s} {sums[s] / counts[s] * 1000:.1f}" for s in
             ("submit_commit", "queue", "place", "dispatch", "agent", "running_commit", "total")
             if counts.get(s)]
    total = sums["total"] / counts["total"] * 1000
    print(f"server stages, mean ms over {int(counts['total'])} jobs: " + ", ".join(parts) +
          f"; client (requests, polling) {client_mean_ms - total:.1f} of the mean "
          f"{client_mean_ms:.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "gpuaas"))
    ap.add_argument("--gpus", default="h200:8")
    ap.add_argument("--poll-ms", type=float, default=1.0,
                    help="client poll interval (its requests also load the 2 cores)")
    ap.add_argument("--log-level", default="warn")
    ap.add_argument("--server-log", help="copy the server's log here at the end")
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="gpuaas-startlat-")
    port = free_port()
    log = open(os.path.join(data, "server.log"), "w")
    server = subprocess.Popen(
        [args.bin, "server", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
         "--demo-gpus", args.gpus, "--web-dir", "none", "--log-level", args.log_level],
        stdout=log, stderr=subprocess.STDOUT)
    jobs = []
    try:
        token_path = os.path.join(data, "admin.token")
        for _ in range(200):
            if os.path.exists(token_path) and os.path.getsize(token_path) > 0:
                break
            time.sleep(0.05)
        token = open(token_path).read().strip()
        api = None
        for _ in range(100):
            try:
                api = Api(port, token)
                if api.call("GET", "/api/v1/nodes")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        st, _ = api.call("POST", "/api/v1/entities", {"name": "bench"})
        assert st in (200, 201), st
        lat = []
        for i in range(args.n):
            t0 = time.perf_counter()
            st, job = api.call("POST", "/api/v1/jobs", {
                "entity": "bench", "gpus": 1, "walltime_s": 600, "command": ["sleep", "60"]})
            assert st == 201, (st, job)
            jid = job["id"]
            jobs.append(jid)
            state = job["state"]
            while state != "running":
                if state in ("failed", "cancelled", "lost", "preempted", "succeeded"):
                    raise SystemExit(f"job {jid} ended as {state}")
                time.sleep(args.poll_ms / 1000)
                state = api.call("GET", f"/api/v1/jobs/{jid}")[1]["state"]
                if time.perf_counter() - t0 > 10:
                    raise SystemExit(f"job {jid} not running after 10 s")
            lat.append((time.perf_counter() - t0) * 1000)
            api.call("POST", f"/api/v1/jobs/{jid}/cancel")
            t1 = time.perf_counter()
            while api.call("GET", f"/api/v1/jobs/{jid}")[1].get("finished_at") is None or any(
                    g.get("job") for n in api.call("GET", "/api/v1/nodes")[1]["nodes"]
                    for g in n.get("gpus", [])):
                time.sleep(0.002)
                if time.perf_counter() - t1 > 30:
                    raise SystemExit(f"job {jid}: GPU not released after 30 s")
        lat.sort()
        print(f"start latency over {len(lat)} submissions (1 GPU, free GPUs, {args.gpus}): "
              f"p50={pct(lat, 50):.1f} ms p90={pct(lat, 90):.1f} ms p99={pct(lat, 99):.1f} ms "
              f"max={lat[-1]:.1f} ms; within 50 ms: {sum(1 for x in lat if x <= 50)}/{len(lat)}")
        print_stages(api, sum(lat) / len(lat))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.server_log:
            shutil.copy(os.path.join(data, "server.log"), args.server_log)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
