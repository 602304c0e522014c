"""A node whose agent goes silent: after the heartbeat timeout the server marks the node down and
its running jobs `lost`, and gives its GPUs to nobody. When the agent speaks again, the node
comes back, the agent stops the lost job's processes (no longer desired), and work resumes.

Needs a standalone agent (`gpuaas agent`) and a short heartbeat timeout through
`gpuaas server --config FILE`. The config text can be overridden with $GPUAAS_IT_LOST_CONFIG
(a TOML document); by default it is `[agents] heartbeat_timeout = "3s"`.
"""

import os
import random
import signal
import subprocess
import unittest

from harness import BIN, Server, kill_marked, pgrep, poll, require_binary, run_cli

TIMEOUT_MS = 3000
CONFIG = os.environ.get("GPUAAS_IT_LOST_CONFIG",
                        f'[agents]\nheartbeat_timeout = "{TIMEOUT_MS // 1000}s"\n')


def help_text(*cmd):
    p = run_cli([BIN, *cmd, "--help"], timeout=10)
    return p.stdout + p.stderr


class NodeLostTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        missing = []
        if "--config" not in help_text("server"):
            missing.append("`gpuaas server --config FILE`")
        agent_help = help_text("agent")
        for flag in ("--server", "--token", "--name", "--demo-gpus", "--state-dir"):
            if flag not in agent_help:
                missing.append(f"`gpuaas agent {flag}`")
        if missing:
            self.skipTest("needs " + ", ".join(missing) + " (not in --help yet)")
        self.server = Server(demo_gpus="h200:8")  # no L40S: L40S jobs must go to the agent's node
        os.makedirs(self.server.data_dir, exist_ok=True)
        cfg = os.path.join(self.server.data_dir, "it-config.toml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        self.server.extra_args = ["--config", cfg]
        self.agent = None
        self.marker = f"{400 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        if getattr(self, "agent", None) is not None and self.agent.poll() is None:
            os.killpg(self.agent.pid, signal.SIGCONT)
            self.agent.kill()
            self.agent.wait()
        kill_marked(f"sleep {self.marker}")
        if hasattr(self, "server"):
            self.server.cleanup()

    def start_agent(self, name):
        state_dir = os.path.join(self.server.data_dir, f"agent-{name}")
        log = open(os.path.join(self.server.data_dir, f"agent-{name}.log"), "wb")
        self.agent = subprocess.Popen(
            [BIN, "agent", "--server", self.server.url, "--token", self.server.admin_token,
             "--name", name, "--demo-gpus", "l40s:2", "--state-dir", state_dir],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()

    def node(self, api, name):
        for n in api.ok("GET", "/api/v1/nodes")["nodes"]:
            if n["name"] == name:
                return n
        return None

    def test_silent_agent_marks_jobs_lost(self):
        s = self.server.start()
        admin = s.admin
        _, member = admin.tenant("lost")
        self.start_agent("n-x")
        poll(lambda: (lambda n: n and n["state"] == "ready" and len(n["gpus"]) == 2)(
            self.node(admin, "n-x")), 15, "node n-x to register and be ready")
        # One agent per state directory: a second one stops at once, saying why.
        state_dir = os.path.join(self.server.data_dir, "agent-n-x")
        second = run_cli([BIN, "agent", "--server", self.server.url, "--token",
                          self.server.admin_token, "--name", "n-y", "--demo-gpus", "l40s:2",
                          "--state-dir", state_dir], timeout=30)
        self.assertEqual(second.returncode, 1, second.stdout + second.stderr)
        self.assertIn(f"the agent state directory {state_dir} is in use by another GPUaaS "
                      f"process (pid {self.agent.pid})", second.stderr)
        self.assertIsNone(self.node(admin, "n-y"))

        job = member.submit(gpus=1, gpu_types=["l40s"],
                            command=["sh", "-c", f"sleep {self.marker}"])
        running = member.wait_state(job["id"], "running", timeout=30)
        self.assertEqual(running["node"], "n-x")
        poll(lambda: pgrep(f"sleep {self.marker}"), 10, "the job's process")

        os.killpg(self.agent.pid, signal.SIGSTOP)  # silent, not dead: it will come back
        lost = member.wait_state(job["id"], "lost", timeout=TIMEOUT_MS / 1000 + 15)
        self.assertIsNotNone(lost["finished_at"])
        node = self.node(admin, "n-x")
        self.assertNotEqual(node["state"], "ready", node)

        # Its GPUs are given to nobody while it is silent.
        waiting = member.submit(gpus=1, gpu_types=["l40s"], command=["true"])
        w = member.job(waiting["id"])
        self.assertEqual(w["state"], "queued", w)
        self.assertTrue(w["reason"], w)

        # Back again: the node is ready, the lost job's processes are stopped, work resumes.
        os.killpg(self.agent.pid, signal.SIGCONT)
        poll(lambda: (lambda n: n and n["state"] == "ready")(self.node(admin, "n-x")), 15,
             "node n-x to be ready again")
        poll(lambda: not pgrep(f"sleep {self.marker}"), 20, "the lost job's process to stop")
        self.assertEqual(member.wait_final(waiting["id"], timeout=30)["state"], "succeeded")
        self.assertEqual(member.job(job["id"])["state"], "lost")
