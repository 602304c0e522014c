"""Isolation of the process runtime, end to end: a standalone `gpuaas agent` (GPUs from the NVML
stand-in, cgroups required: v1 on this machine, v2 on production servers) runs jobs with the
memory and CPU they asked for (or the per-GPU defaults).

Shows: a job over its memory limit is killed by the kernel's OOM killer and reported `failed`
with "out of memory (limit 1 GiB)"; bad cpus/memory_gb are refused in the contract's error
shape; with `[agents] on_gpu_failure = "requeue"` a job whose GPU falls off the bus is failed
with the reason and resubmitted, and the copy runs on the healthy GPU.
"""

import glob
import os
import random
import tempfile
import unittest

from harness import Server, kill_marked, pgrep, poll, require_binary
from test_agent_telemetry import NvmlNode, node_of


@unittest.skipUnless(os.geteuid() == 0, "cgroups need root on this machine")
class AgentLimitsTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        self.config.write('[agents]\non_gpu_failure = "requeue"\n'
                          '[limits]\ndefault_cpus_per_gpu = 3\ndefault_memory_gb_per_gpu = 5\n')
        self.config.close()
        self.server = Server(demo_gpus="h200:1", extra_args=["--config", self.config.name]).start()
        self.name = f"lim-{random.randint(1, 999999)}"
        self.node = NvmlNode(self.server, self.name)
        poll(lambda: (lambda n: n if n and n["state"] == "ready" else None)(
            node_of(self.server.admin, self.name)), 20, "node ready")
        self.marker = f"{500 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        self.node.stop()
        kill_marked(f"sleep {self.marker}")
        self.server.cleanup()
        os.unlink(self.config.name)
        # The node's cgroups (the agent keeps them while its workloads may run; they are gone).
        for root in glob.glob(f"/sys/fs/cgroup/*/gpuaas/{self.name}"):
            for child in glob.glob(os.path.join(root, "a*")):
                if os.path.isdir(child):
                    try:
                        os.rmdir(child)
                    except OSError:
                        pass
            try:
                os.rmdir(root)
            except OSError:
                pass

    def test_a_job_over_its_memory_limit_fails_out_of_memory(self):
        self.assertIn("workload memory/CPU limits through cgroup", self.node.log())
        _, member = self.server.admin.tenant("oom")
        job = member.submit(gpus=1, gpu_types=["l40s"], cpus=1, memory_gb=1, walltime_s=600,
                            command=["python3", "-c", "b = bytearray(3 << 30); print(len(b))"])
        self.assertEqual((job["cpus"], job["memory_gb"]), (1, 1))
        done = member.wait_final(job["id"], timeout=60)
        self.assertEqual(done["state"], "failed", done)
        self.assertEqual(done["reason"], "out of memory (limit 1 GiB)")
        self.assertEqual(done["exit_code"], 137)
        # Within its limit, the same program succeeds; defaults come from the config per GPU.
        ok = member.submit(gpus=1, gpu_types=["l40s"], walltime_s=600,
                           command=["python3", "-c", "b = bytearray(64 << 20); print(len(b))"])
        self.assertEqual((ok["cpus"], ok["memory_gb"]), (3, 5))
        self.assertEqual(member.wait_final(ok["id"], timeout=60)["state"], "succeeded")

    def test_bad_resources_are_refused(self):
        _, member = self.server.admin.tenant("badres")
        for body, status in (({"memory_gb": 0}, 422), ({"cpus": 5000}, 422),
                             ({"cpus": "four"}, 400), ({"memory_gb": 1.5}, 400)):
            r = member.post("/api/v1/jobs", dict(gpus=1, command=["true"], **body))
            self.assertEqual(r.status, status, (body, r.text))
            self.assertIn("error", r.json)
            self.assertIn("code", r.json["error"])

    def test_cli_submit_with_cpus_and_memory(self):
        _, member = self.server.admin.tenant("clires")
        p = self.server.cli("submit", "--gpus", "1", "--gpu-type", "l40s", "--cpus", "2",
                            "--memory-gb", "3", "--", "true", token=member.token)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual((p.json["cpus"], p.json["memory_gb"]), (2, 3))
        bad = self.server.cli("submit", "--gpus", "1", "--memory-gb", "lots", "--", "true",
                              token=member.token)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--memory-gb", bad.stderr)
        member.wait_final(p.json["id"], timeout=60)

    def test_a_job_on_a_gpu_falling_off_the_bus_is_requeued(self):
        _, member = self.server.admin.tenant("requeue")
        job = member.submit(gpus=1, gpu_types=["l40s"], command=["sleep", self.marker],
                            walltime_s=600)
        running = member.wait_state(job["id"], "running", timeout=30)
        dev = running["gpu_ids"][0]
        poll(lambda: pgrep(f"sleep {self.marker}"), 10, "the job's process")
        self.node.set(dev, lost=1)
        done = member.wait_final(job["id"], timeout=30)
        self.assertEqual(done["state"], "failed")
        self.assertIn("fell off the bus", done["reason"])
        self.assertIn("(resubmitted as job ", done["reason"])
        again = int(done["reason"].rsplit("(resubmitted as job ", 1)[1].rstrip(")"))
        copy = member.wait_state(again, "running", timeout=30)
        self.assertEqual(copy["resubmitted_from"], job["id"])
        self.assertEqual(copy["gpu_ids"], [1 - dev])
        g = node_of(self.server.admin, self.name)["gpus"][dev]
        self.assertEqual(g["state"], "unhealthy")
        self.assertIn("fell off the bus", g["health_reason"])
        member.ok("POST", f"/api/v1/jobs/{again}/cancel")
        member.wait_final(again, timeout=30)


if __name__ == "__main__":
    unittest.main()
