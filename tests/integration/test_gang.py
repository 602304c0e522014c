"""Multi-node gangs: a job larger than any node runs across two nodes (two `gpuaas agent`s with
8 demo H200 each). Each node starts its part with its rank in the environment
(GPUAAS_NODE_RANK, GPUAAS_NUM_NODES, GPUAAS_MASTER_ADDR, CUDA_VISIBLE_DEVICES); the job is
running once both parts are; usage bills every GPU; a part that fails stops the other and
fails the job; cancel stops both and frees every device; a job larger than the whole cluster
is refused (docs/scheduling.md).
"""

import os
import random
import signal
import subprocess
import unittest

from harness import BIN, Server, assert_error_shape, kill_marked, parse_time, pgrep, poll, \
    require_binary

NODES = ("gang-a", "gang-b")


class GangTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_binary()
        # The embedded node has no H200: the H200 are the two agents' nodes.
        cls.server = Server(demo_gpus="l40s:4").start()
        cls.agents = []
        for name in NODES:
            state_dir = os.path.join(cls.server.data_dir, f"agent-{name}")
            log = open(os.path.join(cls.server.data_dir, f"agent-{name}.log"), "wb")
            cls.agents.append(subprocess.Popen(
                [BIN, "agent", "--server", cls.server.url, "--token", cls.server.admin_token,
                 "--name", name, "--demo-gpus", "h200:8", "--state-dir", state_dir],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True))
            log.close()
        admin = cls.server.admin

        def ready():
            nodes = admin.ok("GET", "/api/v1/nodes")["nodes"]
            up = [n for n in nodes if n["name"] in NODES and n["state"] == "ready"
                  and len(n["gpus"]) == 8]
            return len(up) == 2
        poll(ready, 20, "both agents' nodes to be ready with 8 GPUs")

    @classmethod
    def tearDownClass(cls):
        for a in cls.agents:
            if a.poll() is None:
                os.killpg(a.pid, signal.SIGKILL)
                a.wait()
        cls.server.cleanup()

    def setUp(self):
        self.marker = f"{500 + random.randint(1, 99999) / 100000:.5f}"
        _, self.member = self.server.admin.tenant("gang")
        self.out = os.path.join(self.server.data_dir, f"parts-{self.marker}")
        os.makedirs(self.out)

    def tearDown(self):
        kill_marked(f"sleep {self.marker}")

    def held_gpus(self):
        held = 0
        for n in self.server.admin.ok("GET", "/api/v1/nodes")["nodes"]:
            held += sum(1 for g in n["gpus"] if g.get("job"))
        return held

    def test_twelve_gpus_on_two_nodes_with_ranks_and_every_gpu_billed(self):
        script = ("env | grep -E '^(GPUAAS_|CUDA_VISIBLE_DEVICES=)' > "
                  f"{self.out}/part-$GPUAAS_NODE_RANK.env; sleep 2")
        job = self.member.submit(gpus=12, gpu_types=["h200"], command=["sh", "-c", script])
        self.assertEqual(job["state"], "queued", job)
        running = self.member.wait_state(job["id"], "running", timeout=30)
        self.assertEqual(sorted(running["nodes"]), sorted(NODES), running)
        self.assertEqual(len(running["slices"]), 2, running)
        self.assertEqual(sum(len(s["gpu_ids"]) for s in running["slices"]), 12, running)
        self.assertEqual(running["node"], running["nodes"][0], running)
        self.assertEqual(running["gpu_ids"], running["slices"][0]["gpu_ids"], running)
        # `gpuaas job ID` shows both nodes.
        shown = self.server.cli("job", str(job["id"]), token=self.member.token, json_out=False)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn(",".join(running["nodes"]), shown.stdout)

        done = self.member.wait_final(job["id"], timeout=30)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertFalse(done["releasing"], done)
        envs = {}
        for rank in (0, 1):
            with open(os.path.join(self.out, f"part-{rank}.env")) as f:
                envs[rank] = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        gpus = 0
        for rank, env in envs.items():
            self.assertEqual(env["GPUAAS_NODE_RANK"], str(rank), env)
            self.assertEqual(env["GPUAAS_NUM_NODES"], "2", env)
            self.assertEqual(env["GPUAAS_MASTER_ADDR"], done["nodes"][0], env)
            self.assertEqual(env["GPUAAS_NODES"], ",".join(done["nodes"]), env)
            self.assertEqual(env["GPUAAS_MASTER_PORT"], envs[0]["GPUAAS_MASTER_PORT"], env)
            self.assertEqual(env["GPUAAS_WORLD_GPUS"], "12", env)
            devices = env["CUDA_VISIBLE_DEVICES"].split(",")
            self.assertEqual(env["GPUAAS_GPUS_PER_NODE"], str(len(devices)), env)
            self.assertEqual(devices, [str(g) for g in done["slices"][rank]["gpu_ids"]], env)
            gpus += len(devices)
        self.assertEqual(gpus, 12)

        # Usage bills all 12 GPUs: between 12x the run time and 12x the time since submission.
        ent = done["entity"]
        usage = self.member.ok("GET", f"/api/v1/usage?entity={ent}")
        [row] = usage["entities"]
        secs = row["gpu_seconds"]["h200"]
        run = (parse_time(done["finished_at"]) - parse_time(done["started_at"])).total_seconds()
        wall = (parse_time(done["finished_at"]) - parse_time(done["submitted_at"])).total_seconds()
        self.assertGreaterEqual(secs, 12 * run - 0.5, (secs, run, wall))
        self.assertLessEqual(secs, 12 * wall + 0.5, (secs, run, wall))
        self.assertGreater(secs, 8 * wall, "more than one node's GPUs are billed")
        self.assertEqual(self.held_gpus(), 0)

    def test_a_part_that_fails_stops_the_other_and_fails_the_job(self):
        script = f'if [ "$GPUAAS_NODE_RANK" = 1 ]; then sleep 1; exit 3; fi; sleep {self.marker}'
        job = self.member.submit(gpus=12, gpu_types=["h200"], command=["sh", "-c", script])
        failed = self.member.wait_state(job["id"], "failed", timeout=30)
        self.assertEqual(failed["exit_code"], 3, failed)
        self.assertIn(f"node {failed['nodes'][1]} (rank 1)", failed["reason"], failed)
        # Rank 0's process is stopped by its agent, and every device is released.
        poll(lambda: not pgrep(f"sleep {self.marker}"), 20, "rank 0's process to stop")
        final = poll(lambda: (lambda j: j if not j["releasing"] else None)(
            self.member.job(job["id"])), 15, "the gang to release its GPUs")
        self.assertEqual(final["state"], "failed", final)
        self.assertTrue(all(s["released"] for s in final["slices"]), final)
        poll(lambda: self.held_gpus() == 0, 10, "every device to be free")

    def test_cancel_stops_both_parts_and_frees_all_sixteen_gpus(self):
        job = self.member.submit(gpus=16, gpu_types=["h200"],
                                 command=["sh", "-c", f"sleep {self.marker}"])
        self.member.wait_state(job["id"], "running", timeout=30)
        procs = poll(lambda: (lambda p: p if len(p) >= 2 else None)(
            pgrep(f"sleep {self.marker}")), 15, "one process per node")
        self.assertEqual(self.held_gpus(), 16)
        r = self.member.post(f"/api/v1/jobs/{job['id']}/cancel")
        self.assertEqual(r.status, 200, r)
        poll(lambda: not pgrep(f"sleep {self.marker}"), 20, f"processes {procs} to stop")
        final = poll(lambda: (lambda j: j if not j["releasing"] else None)(
            self.member.job(job["id"])), 15, "the gang to release its GPUs")
        self.assertEqual(final["state"], "cancelled", final)
        poll(lambda: self.held_gpus() == 0, 10, "every device to be free")
        # All 16 are free again: another 16-GPU gang runs.
        again = self.member.submit(gpus=16, gpu_types=["h200"], command=["true"])
        self.assertEqual(self.member.wait_final(again["id"], timeout=30)["state"], "succeeded")

    def test_each_part_has_its_own_log_by_rank(self):
        script = f"echo 'part {self.marker} of rank' $GPUAAS_NODE_RANK"
        job = self.member.submit(gpus=12, gpu_types=["h200"], command=["sh", "-c", script])
        self.assertEqual(self.member.wait_final(job["id"], timeout=30)["state"], "succeeded")
        base = f"/api/v1/jobs/{job['id']}/logs"

        def log(query):
            r = self.member.get(base + query)
            self.assertEqual(r.status, 200, r)
            return r.text
        # Logs travel with the agents' heartbeats: poll until both parts' lines are in.
        poll(lambda: f"part {self.marker} of rank 0" in log(""), 20, "rank 0's log")
        poll(lambda: f"part {self.marker} of rank 1" in log("?rank=1"), 20, "rank 1's log")
        self.assertEqual(log("?rank=0"), log(""))
        self.assertNotIn("of rank 1", log(""))
        self.assertNotIn("of rank 0", log("?rank=1"))
        # The CLI: gpuaas logs ID --rank 1.
        p = self.server.cli("logs", job["id"], "--rank", "1", token=self.member.token,
                            json_out=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"part {self.marker} of rank 1", p.stdout)
        # Ranks beyond the job's nodes, and what is not a rank, are refused.
        for query, needle in (("?rank=2", "below 2"), ("?rank=-1", "non-negative"),
                              ("?rank=x", "non-negative")):
            r = self.member.get(base + query)
            self.assertEqual(r.status, 400, (query, r))
            assert_error_shape(self, r, 400)
            self.assertIn(needle, r.json["error"]["message"], query)
        p = self.server.cli("logs", job["id"], "--rank", "one", token=self.member.token,
                            json_out=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--rank", p.stderr)
        # A single-node job has rank 0 only.
        single = self.member.submit(gpus=1, gpu_types=["h200"], command=["true"])
        self.member.wait_final(single["id"], timeout=30)
        r = self.member.get(f"/api/v1/jobs/{single['id']}/logs?rank=1")
        self.assertEqual(r.status, 400, r)
        self.assertIn("runs on 1 node", r.json["error"]["message"])

    def test_a_job_larger_than_the_cluster_is_refused(self):
        r = self.member.post("/api/v1/jobs", {"gpus": 17, "gpu_types": ["h200"],
                                              "command": ["true"]})
        self.assertEqual(r.status, 422, r)
        assert_error_shape(self, r, 422)
        self.assertIn("the cluster has 16 GPUs of class h200", r.json["error"]["message"])


if __name__ == "__main__":
    unittest.main()
