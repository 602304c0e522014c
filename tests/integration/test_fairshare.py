"""GET /api/v1/fairshare and `gpuaas fairshare` (docs/api.md, docs/scheduling.md): each entity's
decayed usage, Slurm's factor and the delay it puts on its jobs, its wait ratio; the figures
explain the queue order (an entity with usage sees a later job of an idle entity go first).
Members see their own entity only."""

import random
import unittest

from harness import ServerTestCase, kill_marked, poll


class FairShareTest(ServerTestCase):
    DEMO_GPUS = "h200:2"

    def setUp(self):
        self.marker = f"{600 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        kill_marked(f"sleep {self.marker}")

    def test_standing_explains_the_order(self):
        busy, busy_member = self.admin.tenant("fsbusy")
        idle, idle_member = self.admin.tenant("fsidle")
        blocker = busy_member.submit(gpus=2, command=["sleep", self.marker], walltime_s=3600)
        busy_member.wait_state(blocker["id"], "running", timeout=30)
        first = busy_member.submit(gpus=1, command=["sleep", self.marker], walltime_s=3600)
        later = idle_member.submit(gpus=1, command=["sleep", self.marker], walltime_s=3600)

        def idle_first():
            got = (busy_member.job(first["id"]).get("queue_position"),
                   idle_member.job(later["id"]).get("queue_position"))
            return got if got == (2, 1) else None
        # The idle entity's later job goes first: the busy one's usage delays its jobs. (Both
        # count as late on waits only from 1.3 times the average, each queued job counted a day
        # ahead: a fraction of a second more does not make the busy one late.)
        poll(idle_first, 20, "the idle entity's later job ahead")

        view = self.admin.ok("GET", "/api/v1/fairshare")
        self.assertEqual(view["queue_order"], "fair-share")
        self.assertEqual(view["usage_delay_s"], 4 * 3600)
        # The small-first rate the passes use: the platform's 2 GPUs / 320.
        self.assertEqual(view["small_first_delay_factor"], 320)
        self.assertAlmostEqual(view["small_first_rate"], 2 / 320, places=12)
        rows = {e["entity"]: e for e in view["entities"]}
        self.assertIn(busy, rows)
        self.assertIn(idle, rows)
        b, i = rows[busy], rows[idle]
        self.assertGreater(b["usage_gpu_hours"] + b["usage"], 0)
        self.assertEqual(b["usage"], 1.0)  # the only usage so far
        self.assertEqual(i["usage"], 0.0)
        self.assertEqual(i["factor"], 0.0)
        self.assertEqual(i["delay_s"], 0)
        self.assertEqual(b["queued_jobs"], 1)
        self.assertEqual(i["queued_jobs"], 1)
        # Slurm's classic factor 1 - 2^(-U/S), and the delay in 16 steps of the 4 h.
        self.assertAlmostEqual(b["factor"], 1 - 2 ** (-b["usage"] / b["share"]), places=3)
        for row in (b, i):
            self.assertEqual(row["late"], row["wait_ratio"] is not None
                             and row["wait_ratio"] >= view["late_wait_ratio"], row)
        self.assertFalse(b["late"], b)
        self.assertGreater(b["delay_s"], 0)
        self.assertEqual(b["delay_s"] % 900, 0)
        self.assertLessEqual(abs(b["delay_s"] / 900 - 16 * b["factor"]), 0.5 + 1e-3)

        # The waiting job's reason says it too (the idle entity's job, first, has nothing to add).
        def hours_minutes(s):
            h, m = divmod(s // 60, 60)
            return (f"{h}h" if h else "") + (f"{m}m" if m else "")
        said = (f"fair share: placed as if submitted {hours_minutes(b['delay_s'])} later for its "
                "entity's recent use")
        reason = poll(lambda: (lambda r: r if said in r else None)(
            busy_member.job(first["id"]).get("reason", "")), 20, "the fair-share reason")
        self.assertTrue(reason.startswith("waiting for"), reason)
        self.assertNotIn("fair share", idle_member.job(later["id"]).get("reason", ""))

        # A member sees its own entity only; the CLI prints the same figures as a table.
        mine = busy_member.ok("GET", "/api/v1/fairshare")
        self.assertEqual([e["entity"] for e in mine["entities"]], [busy])
        out = self.server.cli("fairshare", json_out=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("DELAY", out.stdout)
        # 3600 / (2 / 320) s = 6d16h per GPU-hour asked.
        self.assertIn("each GPU-hour asked places a job 6d16h later", out.stdout)
        self.assertIn(busy, out.stdout)
        self.assertIn(idle, out.stdout)
        as_json = self.server.cli("fairshare")
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        self.assertIn(idle, [e["entity"] for e in as_json.json["entities"]])

    def test_needs_a_token(self):
        self.assertError(self.admin.get("/api/v1/fairshare", token=""), 401)


if __name__ == "__main__":
    unittest.main()
