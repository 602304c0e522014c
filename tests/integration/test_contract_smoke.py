"""Contract smoke test: the path a new user walks (entity, member, a 2-GPU job, its log, its
usage and cost), plus the server's basic surface (/healthz, /readyz, /metrics, admin token)."""

import datetime
import os
import re
import stat

from harness import ServerTestCase, parse_time, poll, unique


class ContractSmokeTest(ServerTestCase):

    def test_health_ready_metrics(self):
        r = self.admin.get("/healthz", token="")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"status": "ok"})
        self.assertEqual(self.admin.get("/readyz", token="").status, 200)
        m = self.admin.get("/metrics", token="")
        self.assertEqual(m.status, 200, m)
        self.assertRegex(m.text, r"(?m)^# (TYPE|HELP) \w+", "Prometheus text format")

    def test_admin_token_file(self):
        path = os.path.join(self.server.data_dir, "admin.token")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertRegex(self.server.admin_token, r"^gpa_[0-9a-f]{64}$")
        self.assertIn(f"admin token: {self.server.admin_token}", self.server.log_text())
        who = self.admin.ok("GET", "/api/v1/whoami")
        self.assertEqual(who["user"]["role"], "platform-admin")

    def test_demo_inventory(self):
        nodes = self.admin.ok("GET", "/api/v1/nodes")["nodes"]
        by_class = {}
        for n in nodes:
            self.assertTrue(n["name"])
            self.assertTrue(n["simulated"], n)
            indices = [g["index"] for g in n["gpus"]]
            self.assertEqual(len(set(indices)), len(indices), f"duplicate GPU index on {n}")
            for g in n["gpus"]:
                for k in ("index", "uuid", "model", "memory_mb", "state", "gpu_class"):
                    self.assertIn(k, g)
                by_class[g["gpu_class"]] = by_class.get(g["gpu_class"], 0) + 1
        self.assertEqual(by_class, {"h200": 8, "l40s": 4})

    def test_two_gpu_job_end_to_end(self):
        ent = unique("smoke")
        self.assertEqual(self.server.cli("entity", "create", ent).returncode, 0)
        u = self.server.cli("user", "create", unique("alice"), "--entity", ent)
        self.assertEqual(u.returncode, 0, u.stderr)
        token = u.json["token"]
        member = self.admin.with_token(token)

        sub = self.server.cli("submit", "--gpus", "2", "--gpu-type", "h200", "--",
                              "sh", "-c", "echo $CUDA_VISIBLE_DEVICES; sleep 1", token=token)
        self.assertEqual(sub.returncode, 0, sub.stderr)
        job_id = sub.json["id"]
        self.assertEqual(sub.json["gpus"], 2)
        self.assertEqual(sub.json["entity"], ent)

        w = self.server.cli("wait", job_id, "--timeout", "60", token=token, timeout=90)
        self.assertEqual(w.returncode, 0, w.stderr)
        job = w.json
        self.assertEqual(job["state"], "succeeded", job)
        self.assertEqual(job["exit_code"], 0)
        self.assertEqual(job["gpu_type"], "h200")
        self.assertEqual(len(job["gpu_ids"]), 2)
        self.assertEqual(len(set(job["gpu_ids"])), 2)
        self.assertTrue(job["node"])
        self.assertEqual(job["cost"]["currency"], "EUR")
        self.assertGreater(job["cost"]["micros"], 0, job["cost"])

        logs = poll_logs(self, member, job_id)
        m = re.search(r"(?m)^(\d+),(\d+)$", logs)
        self.assertIsNotNone(m, f"no CUDA_VISIBLE_DEVICES line in log: {logs!r}")
        shown = sorted(int(x) for x in m.groups())
        self.assertEqual(len(set(shown)), 2, logs)
        self.assertEqual(shown, sorted(job["gpu_ids"]))
        cli_logs = self.server.cli("logs", job_id, token=token, json_out=False)
        self.assertEqual(cli_logs.returncode, 0, cli_logs.stderr)
        self.assertIn(m.group(0), cli_logs.stdout)

        run_s = (parse_time(job["finished_at"]) - parse_time(job["started_at"])).total_seconds()
        today = datetime.datetime.now(datetime.timezone.utc).date()
        frm = (today - datetime.timedelta(days=1)).isoformat()
        to = (today + datetime.timedelta(days=1)).isoformat()
        usage = member.ok("GET", f"/api/v1/usage?entity={ent}&from={frm}&to={to}")
        rows = [e for e in usage["entities"] if e["entity"] == ent]
        self.assertEqual(len(rows), 1, usage)
        gpu_s = rows[0]["gpu_seconds"].get("h200", 0)
        # The job slept 1 s on 2 GPUs; timestamps are whole seconds, hence the slack.
        self.assertGreaterEqual(gpu_s, 2 * 1.0 - 0.1, usage)
        self.assertLessEqual(abs(gpu_s - 2 * run_s), 2.5, f"run {run_s}s, usage {usage}")
        self.assertGreater(rows[0]["cost"]["micros"], 0, usage)

        cli_usage = self.server.cli("usage", "--entity", ent, "--from", frm, "--to", to,
                                    token=token)
        self.assertEqual(cli_usage.returncode, 0, cli_usage.stderr)
        self.assertEqual(cli_usage.json["entities"][0]["entity"], ent)


def poll_logs(tc, api, job_id, timeout=15):
    """The job's log once it is non-empty (logs travel with heartbeats, after the job ends)."""
    return poll(lambda: (lambda r: r.text if r.status == 200 and r.text.strip() else None)(
        api.get(f"/api/v1/jobs/{job_id}/logs")), timeout, f"logs of job {job_id}")
