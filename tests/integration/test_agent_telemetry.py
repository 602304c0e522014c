"""A standalone node agent on "real" GPUs: NVML through the test suite's stand-in library
(build/tests/nvml_stub/libnvidia-ml.so.1, the agent's real dlopen path), 1 s telemetry.

Shows: discovery (classes, UUIDs, memory), telemetry values flowing to the API (job telemetry,
GET /api/v1/nodes/{name}/telemetry, DCGM series on /metrics with node/job/entity labels), and a
GPU falling off the bus mid-job: the device is reported unhealthy with the reason, the job fails
with it, its processes are stopped, and nothing is placed on the device again.
"""

import os
import random
import signal
import subprocess
import tempfile
import unittest

from harness import BIN, REPO, Server, kill_marked, pgrep, poll, require_binary

STUB = os.environ.get("GPUAAS_NVML_STUB",
                      os.path.join(REPO, "build", "tests", "nvml_stub", "libnvidia-ml.so.1"))

H200 = "name=NVIDIA H200;uuid=GPU-it-h200-{i};mem_mb=143771;used_mb={used};util={util};" \
       "power_mw={power};temp={temp};lost={lost};mig={mig};mig_devices={mig_devices}"
L40S = "name=NVIDIA L40S;uuid=GPU-it-l40s-{i};mem_mb=46068;used_mb={used};util={util};" \
       "power_mw={power};temp={temp};lost={lost}"


class NvmlNode:
    """A `gpuaas agent` whose GPUs come from the NVML stand-in; set(i, ...) changes a GPU."""

    def __init__(self, server, name, gpus=("l40s", "l40s"), interval_ms=1000, mig=None,
                 extra_args=()):
        if not os.path.isfile(STUB):
            raise AssertionError(f"{STUB} does not exist (build the nvml_stub target)")
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"gpuaas-nvml-{name}-", dir=server.data_dir)
        self.config = os.path.join(self.dir, "gpus.conf")
        self.gpus = [dict(kind=k, i=i, used=0, util=0, power=35000 if k == "l40s" else 75000,
                          temp=35, lost=0, mig=0, mig_devices="") for i, k in enumerate(gpus)]
        for i, devices in (mig or {}).items():  # {gpu index: "GI:MB,GI:MB,..."}: MIG mode on
            self.gpus[i].update(mig=1, mig_devices=devices)
        self.write()
        env = dict(os.environ, GPUAAS_NVML_LIB=STUB, NVML_STUB_CONFIG=self.config)
        self.log_path = os.path.join(self.dir, "agent.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [BIN, "agent", "--server", server.url, "--token", server.admin_token,
                 "--name", name, "--state-dir", os.path.join(self.dir, "state"),
                 "--sample-interval-ms", str(interval_ms), "--wait-ms", "1000", *extra_args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                start_new_session=True)

    def write(self):
        lines = [(H200 if g["kind"] == "h200" else L40S).format(**g) for g in self.gpus]
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, self.config)  # the stub re-reads a file that changed

    def set(self, index, **values):
        self.gpus[index].update(values)
        self.write()

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def node_of(api, name):
    for n in api.ok("GET", "/api/v1/nodes")["nodes"]:
        if n["name"] == name:
            return n
    return None


class AgentTelemetryTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.server = Server(demo_gpus="h200:1").start()  # L40S jobs can only go to our node
        self.node = None
        self.marker = f"{500 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        if self.node:
            self.node.stop()
        kill_marked(f"sleep {self.marker}")
        self.server.cleanup()

    def start_node(self, name="gpu-node-01", **kw):
        self.node = NvmlNode(self.server, name, **kw)
        admin = self.server.admin
        try:
            return poll(lambda: (lambda n: n if n and n["state"] == "ready" and len(n["gpus"]) == 2
                                 else None)(node_of(admin, name)), 20, f"node {name} ready")
        except AssertionError:
            raise AssertionError("agent log:\n" + self.node.log()[-3000:])

    def test_discovery_from_nvml(self):
        n = self.start_node()
        self.assertFalse(n["simulated"])
        self.assertEqual([g["gpu_class"] for g in n["gpus"]], ["l40s", "l40s"])
        self.assertEqual([g["uuid"] for g in n["gpus"]], ["GPU-it-l40s-0", "GPU-it-l40s-1"])
        self.assertEqual(n["gpus"][0]["model"], "NVIDIA L40S")
        self.assertEqual(n["gpus"][0]["memory_mb"], 46068)
        self.assertEqual(n["gpus"][0]["state"], "healthy")

    def test_mig_instances_in_the_node_inventory(self):
        n = self.start_node(gpus=("h200", "l40s"), mig={0: "1:71680,2:35840,9:17920"})
        self.assertEqual(n["gpus"][0]["mig"], [
            {"index": 0, "uuid": "MIG-GPU-it-h200-0-0", "memory_mb": 71680, "gpu_instance_id": 1},
            {"index": 1, "uuid": "MIG-GPU-it-h200-0-1", "memory_mb": 35840, "gpu_instance_id": 2},
            {"index": 2, "uuid": "MIG-GPU-it-h200-0-2", "memory_mb": 17920, "gpu_instance_id": 9}])
        self.assertNotIn("mig", n["gpus"][1])  # no MIG: the field is left out (older clients)
        self.assertEqual(n["gpus"][0]["memory_mb"], 143771)  # a whole GPU to the scheduler

    def test_network_counters_of_a_real_node(self):
        """The agent's /proc/net/dev counters reach the node's JSON and /metrics. The
        loopback carries the agent's own heartbeats, so its counters grow."""
        self.start_node(extra_args=("--net-interfaces", "lo"))
        admin = self.server.admin
        first = poll(lambda: (lambda n: n if n["network"] and n["network"]["rx_bytes_per_s"]
                              is not None else None)(node_of(admin, "gpu-node-01")), 30,
                     "the node's network rates")["network"]
        self.assertGreater(first["rx_bytes"], 0, first)
        self.assertGreaterEqual(first["rx_bytes_per_s"], 0, first)
        later = poll(lambda: (lambda n: n["network"] if n["network"]["rx_bytes"] >
                              first["rx_bytes"] else None)(node_of(admin, "gpu-node-01")), 30,
                     "the counters to grow")
        self.assertGreater(later["at"], first["at"])
        # The server's own simulated node shares the host's interfaces: no figures for it.
        demo = [n for n in admin.ok("GET", "/api/v1/nodes")["nodes"] if n["simulated"]]
        self.assertTrue(demo)
        self.assertTrue(all(n["network"] is None for n in demo), demo)
        metrics = admin.get("/metrics").text
        for series in ("receive", "transmit"):
            line = [ln for ln in metrics.splitlines() if ln.startswith(
                f'gpuaas_node_network_{series}_bytes_total{{node="gpu-node-01"}} ')]
            self.assertEqual(len(line), 1, metrics[-2000:])
            self.assertGreater(int(line[0].split()[-1]), 0)
        # The shared link's capacity beside them ([network] capacity_gbps, 30 by default).
        self.assertIn("\ngpuaas_network_capacity_bytes_per_second 3750000000\n", metrics)
        good = os.path.join(self.node.dir, "good.toml")
        with open(good, "w") as f:
            f.write("[network]\ncapacity_gbps = 100\n")
        other = Server(demo_gpus="none", extra_args=("--config", good)).start()
        try:
            self.assertIn("\ngpuaas_network_capacity_bytes_per_second 12500000000\n",
                          other.admin.get("/metrics").text)
        finally:
            other.cleanup()
        for bad in ("0", '"fast"', "1e7"):
            conf = os.path.join(self.node.dir, "bad.toml")
            with open(conf, "w") as f:
                f.write(f"[network]\ncapacity_gbps = {bad}\n")
            p = subprocess.run([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir",
                                os.path.join(self.node.dir, "bad-data"), "--config", conf],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertIn("network.capacity_gbps must be a number", p.stderr, bad)
        # A report with bad counters is refused whole (400, nothing registered).
        for net in ({"t": 1, "rx_bytes": -1, "tx_bytes": 0}, {"t": 1, "rx_bytes": 2}, [1, 2]):
            r = admin.call("POST", "/api/v1/agent/heartbeat?wait_ms=0", {
                "node": "net-bad", "simulated": False, "labels": {}, "net": net,
                "gpus": [{"index": 0, "uuid": "GPU-net-bad-0", "model": "NVIDIA L40S",
                          "gpu_class": "l40s", "memory_mb": 46068, "state": "healthy"}]})
            self.assertEqual(r.status, 400, r.text)
            self.assertIn("net", r.json["error"]["message"])
        # So is one whose workload carries bad container counters.
        r = admin.call("POST", "/api/v1/agent/heartbeat?wait_ms=0", {
            "node": "net-bad", "simulated": False, "labels": {},
            "gpus": [{"index": 0, "uuid": "GPU-net-bad-0", "model": "NVIDIA L40S",
                      "gpu_class": "l40s", "memory_mb": 46068, "state": "healthy"}],
            "workloads": [{"job": 1, "allocation": 1, "state": "running",
                           "net": {"t": 1, "rx_bytes": 5, "tx_bytes": -5}}]})
        self.assertEqual(r.status, 400, r.text)
        self.assertIn("a workload's 'net' needs non-negative integers", r.json["error"]["message"])
        self.assertIsNone(node_of(admin, "net-bad"))
        # An interface the node does not have stops the agent at once, saying which.
        p = subprocess.run([BIN, "agent", "--server", self.server.url, "--token",
                            self.server.admin_token, "--name", "gpu-node-02", "--state-dir",
                            os.path.join(self.node.dir, "state2"), "--net-interfaces", "nope0"],
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, GPUAAS_NVML_LIB=STUB,
                                    NVML_STUB_CONFIG=self.node.config))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("network interface 'nope0' does not exist", p.stderr + p.stdout)

    def test_telemetry_flows_to_job_node_and_metrics(self):
        self.start_node()
        admin = self.server.admin
        ent, member = admin.tenant("tel")
        job = member.submit(gpus=1, gpu_types=["l40s"], command=["sleep", self.marker],
                            walltime_s=600)
        running = member.wait_state(job["id"], "running", timeout=30)
        dev = running["gpu_ids"][0]
        self.node.set(dev, util=93, used=40000, power=300500, temp=71)
        # The job's telemetry: samples at 93 % arrive every second.
        j = poll(lambda: (lambda j: j if j["telemetry"] and j["telemetry"]["samples"] >= 3
                          and j["telemetry"]["peak_mem_mb"] == 40000 else None)(
                              member.job(job["id"])), 30, "job telemetry")
        t = j["telemetry"]
        self.assertGreater(t["avg_util_pct"], 0)
        self.assertLessEqual(t["avg_util_pct"], 93)
        self.assertGreater(t["energy_wh"], 0)
        # The node's recent samples.
        tel = admin.ok("GET", "/api/v1/nodes/gpu-node-01/telemetry?limit=5")
        g = tel["gpus"][dev]
        self.assertEqual(g["job"], job["id"])
        self.assertEqual(g["samples"][-1]["util"], 93)
        self.assertEqual(g["samples"][-1]["power_w"], 300.5)
        self.assertLessEqual(len(g["samples"]), 5)
        self.assertEqual(admin.get("/api/v1/nodes/nope/telemetry").status, 404)
        # /metrics: DCGM names, labelled with node, GPU, job and entity.
        metrics = admin.get("/metrics").text
        uuid = f"GPU-it-l40s-{dev}"
        line = [ln for ln in metrics.splitlines()
                if ln.startswith("DCGM_FI_DEV_GPU_UTIL{") and f'UUID="{uuid}"' in ln]
        self.assertEqual(len(line), 1, metrics[-3000:])
        self.assertIn('Hostname="gpu-node-01"', line[0])
        self.assertIn(f'job="{job["id"]}"', line[0])
        self.assertIn(f'entity="{ent}"', line[0])
        self.assertIn('modelName="NVIDIA L40S"', line[0])
        self.assertTrue(line[0].endswith(" 93"), line[0])
        for name in ("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP",
                     "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"):
            self.assertIn(name + "{", metrics)
        member.ok("POST", f"/api/v1/jobs/{job['id']}/cancel")
        member.wait_final(job["id"], timeout=30)

    def test_gpu_falling_off_the_bus_mid_job(self):
        self.start_node()
        admin = self.server.admin
        _, member = admin.tenant("bus")
        job = member.submit(gpus=1, gpu_types=["l40s"], command=["sleep", self.marker],
                            walltime_s=600)
        running = member.wait_state(job["id"], "running", timeout=30)
        dev = running["gpu_ids"][0]
        poll(lambda: pgrep(f"sleep {self.marker}"), 10, "the job's process")
        self.node.set(dev, lost=1)
        done = member.wait_final(job["id"], timeout=30)
        self.assertEqual(done["state"], "failed")
        self.assertIn(f"GPU {dev} (GPU-it-l40s-{dev})", done["reason"])
        self.assertIn("fell off the bus", done["reason"])
        # The operator sees why on the node; the job's processes are gone.
        g = node_of(admin, "gpu-node-01")["gpus"][dev]
        self.assertEqual(g["state"], "unhealthy")
        self.assertIn("fell off the bus", g["health_reason"])
        poll(lambda: not pgrep(f"sleep {self.marker}"), 30, "the job's processes to stop")
        # The device is drained: a 1-GPU job gets the healthy one; a 2-GPU job waits.
        b = member.submit(gpus=1, gpu_types=["l40s"], command=["sleep", self.marker],
                          walltime_s=600)
        b_run = member.wait_state(b["id"], "running", timeout=30)
        self.assertNotEqual(b_run["gpu_ids"], [dev])
        a = member.submit(gpus=2, gpu_types=["l40s"], command=["sleep", self.marker],
                          walltime_s=600)
        self.assertEqual(member.job(a["id"])["state"], "queued")
        metrics = admin.get("/metrics").text
        self.assertIn(f'gpuaas_gpu_healthy{{gpu="{dev}",UUID="GPU-it-l40s-{dev}"', metrics)


if __name__ == "__main__":
    unittest.main()
