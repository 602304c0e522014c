"""Cancelling: a running job's whole process tree goes away within the grace period, its state
is `cancelled`, and its GPUs are free again; a queued job is cancelled at once; cancelling a
final job answers 409."""

import random

from harness import ServerTestCase, kill_marked, pgrep, poll

GRACE_S = 10  # the agent protocol's default grace_ms / 1000


class CancelTest(ServerTestCase):

    def setUp(self):
        # Unique arguments let pgrep find exactly this job's processes.
        self.marker = f"{300 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        kill_marked(f"sleep {self.marker}")

    def test_cancel_running_job_kills_its_children_and_frees_gpus(self):
        _, member = self.admin.tenant("cancel")
        script = f"sleep {self.marker} & sleep {self.marker} & wait"
        job = member.submit(gpus=8, gpu_types=["h200"], command=["sh", "-c", script])
        member.wait_state(job["id"], "running", timeout=30)
        procs = poll(lambda: (lambda p: p if len(p) >= 2 else None)(pgrep(f"sleep {self.marker}")),
                     15, "the job's two background sleeps")

        r = member.post(f"/api/v1/jobs/{job['id']}/cancel")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["state"], "cancelled", r.json)

        # Within the grace period (SIGTERM, then SIGKILL) plus one heartbeat of slack.
        poll(lambda: not pgrep(f"sleep {self.marker}"), GRACE_S + 5,
             f"processes {procs} of job {job['id']} to exit")

        # The server learns that the processes are gone at the agent's next report.
        final = poll(lambda: (lambda j: j if not j.get("releasing") else None)(
            member.job(job["id"])), 15, f"job {job['id']} to finish releasing")
        self.assertEqual(final["state"], "cancelled", final)
        self.assertIsNotNone(final["finished_at"], final)

        # Its 8 GPUs are the only H200s: the next 8-GPU job can start only if they were freed.
        nxt = member.submit(gpus=8, gpu_types=["h200"], command=["sleep", "0.2"])
        started = member.wait_state(nxt["id"], ("running", "succeeded"), timeout=30)
        self.assertEqual(sorted(started["gpu_ids"]), list(range(8)))
        self.assertEqual(member.wait_final(nxt["id"], timeout=30)["state"], "succeeded")
        # Cancelling a final job is a conflict, and changes nothing.
        again = member.post(f"/api/v1/jobs/{job['id']}/cancel")
        self.assertError(again, 409)
        self.assertEqual(member.job(job["id"])["state"], "cancelled")

    def test_cancel_queued_job_is_immediate(self):
        _, member = self.admin.tenant("cancelq")
        blocker = member.submit(gpus=8, gpu_types=["h200"],
                                command=["sh", "-c", f"sleep {self.marker}"])
        member.wait_state(blocker["id"], "running", timeout=30)
        queued = member.submit(gpus=8, gpu_types=["h200"], command=["true"])
        self.assertEqual(member.job(queued["id"])["state"], "queued")
        r = member.post(f"/api/v1/jobs/{queued['id']}/cancel")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["state"], "cancelled")
        self.assertIsNone(member.job(queued["id"])["started_at"])
        # CLI cancel of the running blocker prints the cancelled job.
        c = self.server.cli("cancel", blocker["id"], token=member.token)
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertEqual(c.json["state"], "cancelled")
        poll(lambda: not pgrep(f"sleep {self.marker}"), GRACE_S + 5, "the blocker to exit")
