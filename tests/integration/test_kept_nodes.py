"""Nodes kept for large jobs: an agent started with `--label gpuaas.io/min-gpus=8` serves a node
that only jobs of 8 GPUs or more may use (docs/scheduling.md). A smaller job that only such nodes
could hold is refused at submit with the reason; a flexible one runs on the open class instead;
an 8-GPU job runs there. A bad value is refused by the agent (exit 2) and by the server (400,
the contract's error shape) before anything is stored.
"""

import os
import signal
import subprocess
import unittest

from harness import BIN, Server, assert_error_shape, poll, require_binary

LABEL = "gpuaas.io/min-gpus"


class KeptNodesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_binary()
        # The embedded node has four L40S and no label; the agent's node has eight H200, kept.
        cls.server = Server(demo_gpus="l40s:4").start()
        state_dir = os.path.join(cls.server.data_dir, "agent-kept")
        log = open(os.path.join(cls.server.data_dir, "agent-kept.log"), "wb")
        cls.agent = subprocess.Popen(
            [BIN, "agent", "--server", cls.server.url, "--token", cls.server.admin_token,
             "--name", "kept-a", "--demo-gpus", "h200:8", "--state-dir", state_dir,
             "--label", f"{LABEL}=8", "--label", "zone=eu"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        admin = cls.server.admin

        def ready():
            nodes = admin.ok("GET", "/api/v1/nodes")["nodes"]
            return any(n["name"] == "kept-a" and n["state"] == "ready" and len(n["gpus"]) == 8
                       for n in nodes)
        poll(ready, 20, "the kept node to be ready with 8 GPUs")

    @classmethod
    def tearDownClass(cls):
        if cls.agent.poll() is None:
            os.killpg(cls.agent.pid, signal.SIGKILL)
            cls.agent.wait()
        cls.server.cleanup()

    def setUp(self):
        _, self.member = self.server.admin.tenant("kept")

    def run_job(self, **body):
        """Submits a 30 s job, waits until it runs, cancels it when the test ends; the job."""
        job = self.member.submit(command=["sleep", "30"], **body)
        self.addCleanup(self.member.ok, "POST", f"/api/v1/jobs/{job['id']}/cancel")
        return self.member.wait_state(job["id"], "running", timeout=20)

    def test_node_lists_its_label(self):
        nodes = self.server.admin.ok("GET", "/api/v1/nodes")["nodes"]
        kept = [n for n in nodes if n["name"] == "kept-a"][0]
        self.assertEqual(kept["labels"], {LABEL: "8", "zone": "eu"})
        # `gpuaas nodes` says it in the STATE column of the kept node's rows only.
        p = self.server.cli("nodes", json_out=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [line for line in p.stdout.splitlines() if "jobs of 8+ GPUs" in line]
        self.assertEqual(len(rows), 8, p.stdout)
        self.assertTrue(all(line.startswith("kept-a") for line in rows), p.stdout)

    def test_small_job_only_kept_nodes_could_hold_is_refused(self):
        r = self.member.call("POST", "/api/v1/jobs", {
            "name": "small", "gpus": 2, "gpu_types": ["h200"], "command": ["sleep", "1"]})
        self.assertGreaterEqual(r.status, 400, r.text)
        self.assertLess(r.status, 500, r.text)
        assert_error_shape(self, r)
        self.assertIn("kept for jobs of at least 8 GPUs", r.json["error"]["message"])
        self.assertEqual([j for j in self.member.jobs() if j["name"] == "small"], [])

    def test_flexible_small_job_runs_on_the_open_class(self):
        running = self.run_job(name="flex", gpus=1, gpu_types=["h200", "l40s"])
        self.assertEqual(running["gpu_type"], "l40s")
        self.assertNotEqual(running["node"], "kept-a")

    def test_eight_gpu_job_runs_on_the_kept_node(self):
        running = self.run_job(name="big", gpus=8, gpu_types=["h200"])
        self.assertEqual(running["node"], "kept-a")
        self.assertEqual(running["gpu_type"], "h200")

    def test_bad_value_is_refused_by_agent_and_server(self):
        out = subprocess.run(
            [BIN, "agent", "--server", self.server.url, "--token", self.server.admin_token,
             "--name", "kept-bad", "--demo-gpus", "h200:8", "--label", f"{LABEL}=lots"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("must be a number of GPUs from 1 to 1024", out.stderr)
        r = self.server.admin.call("POST", "/api/v1/agent/heartbeat?wait_ms=0", {
            "node": "kept-bad", "simulated": True, "labels": {LABEL: "0"},
            "gpus": [{"index": 0, "uuid": "GPU-kept-bad-0", "model": "NVIDIA H200",
                      "gpu_class": "h200", "memory_mb": 143771, "state": "healthy"}]})
        self.assertEqual(r.status, 400, r.text)
        assert_error_shape(self, r)
        self.assertIn(LABEL, r.json["error"]["message"])
        nodes = self.server.admin.ok("GET", "/api/v1/nodes")["nodes"]
        self.assertNotIn("kept-bad", [n["name"] for n in nodes])


if __name__ == "__main__":
    unittest.main()
