"""A real Prometheus (Debian's `prometheus`) scrapes the server's /metrics: the DCGM-exporter
series of the GPUs (DCGM_FI_DEV_GPU_UTIL, ..._POWER_USAGE, ...) appear in its query API with
node, GPU, job and entity labels, and a busy demo GPU reads like one (~90 %).

Prometheus runs on 127.0.0.1 with a temporary config and data dir; the test polls its HTTP API
(bounded) until the series appear. `honor_labels: true` keeps our `job` label (the job id)
instead of renaming it `exported_job` (see docs/agent.md).
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from harness import Server, free_port, kill_marked, poll, require_binary

PROMETHEUS = os.environ.get("GPUAAS_PROMETHEUS", shutil.which("prometheus") or "prometheus")


class PrometheusScrapeTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        if not shutil.which(PROMETHEUS):
            raise AssertionError(f"{PROMETHEUS} not found (scripts/install-deps.sh installs it)")
        self.server = Server(demo_gpus="l40s:2").start()
        self.dir = tempfile.mkdtemp(prefix="gpuaas-prom-", dir=self.server.data_dir)
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n"
                    "  - job_name: gpuaas\n"
                    "    honor_labels: true\n"
                    "    metrics_path: /metrics\n"
                    "    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{self.server.port}']\n")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.prom = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.marker = "600.%05d" % (os.getpid() % 100000)

    def tearDown(self):
        if self.prom.poll() is None:
            self.prom.send_signal(signal.SIGTERM)
            try:
                self.prom.wait(20)
            except subprocess.TimeoutExpired:
                self.prom.kill()
                self.prom.wait()
        self.log.close()
        kill_marked(f"sleep {self.marker}")
        self.server.cleanup()

    def query(self, expr):
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                body = json.load(r)
        except OSError:
            return []  # not listening yet
        self.assertEqual(body["status"], "success", body)
        return body["data"]["result"]

    def prom_log(self):
        with open(os.path.join(self.dir, "prometheus.log"), "rb") as f:
            return f.read().decode("utf-8", errors="replace")[-3000:]

    def test_dcgm_series_in_prometheus(self):
        admin = self.server.admin
        ent, member = admin.tenant("prom")
        job = member.submit(gpus=1, gpu_types=["l40s"], command=["sleep", self.marker],
                            walltime_s=600)
        running = member.wait_state(job["id"], "running", timeout=30)
        dev = running["gpu_ids"][0]
        # The busy device, as Prometheus stored it (first scrape within seconds; demo GPUs are
        # sampled every few seconds).
        expr = f'DCGM_FI_DEV_GPU_UTIL{{job="{job["id"]}",entity="{ent}"}} >= 88'
        try:
            series = poll(lambda: self.query(expr), 90, "the busy GPU's DCGM series", 0.5)
        except AssertionError:
            raise AssertionError("prometheus log:\n" + self.prom_log())
        labels = series[0]["metric"]
        self.assertEqual(labels["gpu"], str(dev))
        self.assertEqual(labels["Hostname"], running["node"])
        self.assertEqual(labels["modelName"], "NVIDIA L40S")
        self.assertTrue(labels["UUID"].startswith("GPU-"))
        self.assertLessEqual(float(series[0]["value"][1]), 100)
        # Every device has power, memory, temperature and an energy counter; idle power is low.
        power = poll(lambda: (lambda r: r if len(r) == 2 else None)(
            self.query(f'DCGM_FI_DEV_POWER_USAGE{{Hostname="{running["node"]}"}}')),
            30, "power of both GPUs", 0.5)
        watts = {s["metric"]["gpu"]: float(s["value"][1]) for s in power}
        self.assertGreater(watts[str(dev)], 250)
        self.assertLess(watts[str(1 - dev)], 60)
        for name in ("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_TEMP",
                     "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"):
            self.assertTrue(poll(lambda: self.query(name), 30, name, 0.5))


if __name__ == "__main__":
    unittest.main()
