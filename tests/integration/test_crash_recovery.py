"""Crash recovery: kill -9 of the server while jobs run and while clients submit, then a restart
on the same data dir. Every acknowledged (201) job is still there, running jobs are reconciled
(they end with their real exit status), and no GPU is ever held by two running jobs."""

import os
import random
import threading
import time
import unittest
import urllib.error

from harness import (FINAL_STATES, Api, Server, kill_marked, kill_under, parse_time, poll,
                     processes_under, require_binary)


class CrashRecoveryTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.server = Server()
        self.marker = f"{200 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        kill_marked(self.marker)
        self.server.cleanup()

    def assert_no_gpu_shared(self, api):
        """No GPU of a node is held by two jobs in starting/running state, and the nodes' view
        agrees with the jobs' view."""
        active = api.jobs("state=running") + api.jobs("state=starting")
        held = {}
        for j in active:
            for g in j.get("gpu_ids") or []:
                key = (j["node"], g)
                self.assertNotIn(key, held, f"GPU {key} held by jobs {held.get(key)} and {j['id']}")
                held[key] = j["id"]
        return len(active)

    def test_kill9_and_restart(self):
        s = self.server.start()
        admin = s.admin
        ent, member = admin.tenant("crash")
        m = self.marker
        # Running at crash time: one succeeds later, one fails with exit status 3.
        ok_job = member.submit(gpus=8, gpu_types=["h200"],
                               command=["sh", "-c", f"sleep 4 || true; : {m}"])
        bad_job = member.submit(gpus=2, gpu_types=["l40s"],
                                command=["sh", "-c", f"sleep 4; exit 3; : {m}"])
        queued = member.submit(gpus=8, gpu_types=["h200"], command=["sleep", "0.1"])
        member.wait_state(ok_job["id"], "running", timeout=30)
        member.wait_state(bad_job["id"], "running", timeout=30)

        # Clients keep submitting while the server dies: whatever got a 201 must survive.
        acked, stop = [], threading.Event()

        def submitter():
            api = Api(s.url, member.token)
            while not stop.is_set():
                try:
                    r = api.post("/api/v1/jobs", {"gpus": 1, "gpu_types": ["l40s"],
                                                  "command": ["true"]}, timeout=5)
                except (OSError, urllib.error.URLError):
                    return
                if r.status == 201:
                    acked.append(r.json["id"])

        threads = [threading.Thread(target=submitter) for _ in range(4)]
        for t in threads:
            t.start()
        poll(lambda: len(acked) >= 20, 20, "20 acknowledged submissions")
        s.kill9()
        stop.set()
        for t in threads:
            t.join(10)
        acked_ids = sorted(set(acked) | {ok_job["id"], bad_job["id"], queued["id"]})

        s.start()
        self.assertNotIn(s.admin_token, s.log_text(), "restart printed the admin token")
        member = Api(s.url, member.token)  # tokens survive the restart
        for job_id in acked_ids:
            r = member.get(f"/api/v1/jobs/{job_id}")
            self.assertEqual(r.status, 200, f"acknowledged job {job_id} lost by the crash: {r!r}")

        # Until everything has ended, no GPU is ever given to two jobs.
        deadline = time.monotonic() + 90
        while True:
            self.assert_no_gpu_shared(member)
            states = [member.job(i)["state"] for i in acked_ids]
            if all(st in FINAL_STATES for st in states):
                break
            self.assertLess(time.monotonic(), deadline, f"jobs not final: {states}")
            time.sleep(0.2)

        ok_final, bad_final = member.job(ok_job["id"]), member.job(bad_job["id"])
        self.assertEqual(ok_final["state"], "succeeded", ok_final)
        self.assertEqual(ok_final["exit_code"], 0, ok_final)
        self.assertEqual(bad_final["state"], "failed", bad_final)
        self.assertEqual(bad_final["exit_code"], 3, bad_final)
        q = member.job(queued["id"])
        self.assertEqual(q["state"], "succeeded", q)
        self.assertGreaterEqual(parse_time(q["started_at"]), parse_time(ok_final["finished_at"]),
                                (q, ok_final))
        for job_id in acked_ids:
            # One whose start the crash cut short never ran: it is resubmitted, never lost.
            job = member.job(job_id)
            self.assertNotEqual(job["state"], "lost", job)
            if job["state"] == "failed" and job_id not in (ok_job["id"], bad_job["id"]):
                self.assertIn("resubmitted as job", job.get("reason", ""), job)
        # The restarted server still schedules.
        after = member.submit(gpus=1, command=["true"])
        self.assertEqual(member.wait_final(after["id"], timeout=30)["state"], "succeeded")

    def test_cleanup_kills_what_a_crashed_server_left_running(self):
        # A test that fails while its jobs run leaves their wrappers and processes behind the
        # server (sessions and process groups of their own): the harness's cleanup finds them
        # by the data dir and kills them, so that they hold nothing the next test needs.
        s = self.server.start()
        _, member = s.admin.tenant("orphan")
        job = member.submit(gpus=1, command=["sleep", "1000"])
        member.wait_state(job["id"], "running", timeout=30)
        self.server.kill9()
        left = processes_under(self.server.data_dir)
        self.assertTrue(left, "the job should outlive the crashed server")
        names = set()
        for pid in left:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    names.add(f.read().split(b"\0")[0].decode())
            except OSError:
                pass
        self.assertIn("sleep", {os.path.basename(n) for n in names}, names)
        kill_under(self.server.data_dir)
        poll(lambda: not processes_under(self.server.data_dir), 10,
             "no process left under the data dir")

    def test_sigterm_exits_zero_and_keeps_state(self):
        s = self.server.start()
        _, member = s.admin.tenant("term")
        job = member.submit(gpus=1, command=["true"])
        member.wait_final(job["id"], timeout=30)
        self.assertEqual(s.stop(), 0, s.log_tail())
        s.start()
        self.assertEqual(Api(s.url, member.token).job(job["id"])["state"], "succeeded")
