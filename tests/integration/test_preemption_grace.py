"""Preemption grace: a preempted job gets SIGTERM, then the scheduler's preemption grace
([scheduler] preemption_grace), then SIGKILL, and is `preempted`; its GPUs go to the job that
preempted it. The cancel grace ([agents] grace) is set far longer here, so a job that ignores
SIGTERM and dies within the preemption grace proves the agent used the stop's own grace."""

import os
import random
import tempfile
import time
import unittest

from harness import Server, kill_marked, pgrep, poll, require_binary

PREEMPTION_GRACE_S = 3
CANCEL_GRACE_S = 60


class PreemptionGraceTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_binary()
        fd, cls.config = tempfile.mkstemp(suffix=".toml")
        with os.fdopen(fd, "w") as f:
            f.write(f'[scheduler]\npreemption_grace = "{PREEMPTION_GRACE_S}s"\n'
                    f'[agents]\ngrace = "{CANCEL_GRACE_S}s"\n')
        cls.server = Server(extra_args=["--config", cls.config]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        os.unlink(cls.config)

    def setUp(self):
        self.marker = f"{400 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        kill_marked(f"sleep {self.marker}")

    def test_preempted_job_is_killed_after_the_preemption_grace(self):
        _, member = self.server.admin.tenant("pgrace")
        # Ignores SIGTERM: only the SIGKILL at the end of the grace ends it.
        script = f"trap '' TERM; while :; do sleep {self.marker}; done"
        victim = member.submit(gpus=8, gpu_types=["h200"], command=["sh", "-c", script],
                               priority_class="best-effort")
        member.wait_state(victim["id"], "running", timeout=30)
        poll(lambda: pgrep(f"sleep {self.marker}"), 15, "the victim's sleep")

        t0 = time.monotonic()
        winner = member.submit(gpus=8, gpu_types=["h200"], command=["sleep", "0.2"])
        got = member.wait_state(victim["id"], "preempted", timeout=10)
        self.assertIn("preempted", got["reason"])
        self.assertEqual(member.job(winner["id"])["state"], "queued")

        # SIGTERM is ignored: still alive well into the grace.
        time.sleep(PREEMPTION_GRACE_S - 1.5)
        self.assertTrue(pgrep(f"sleep {self.marker}"), "killed before the preemption grace")
        # Killed after the preemption grace (plus heartbeat slack), long before the cancel grace.
        poll(lambda: not pgrep(f"sleep {self.marker}"), PREEMPTION_GRACE_S + 5,
             "the preempted job to be killed")
        self.assertLess(time.monotonic() - t0, CANCEL_GRACE_S / 2)

        done = member.wait_final(winner["id"], timeout=30)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(member.job(victim["id"])["state"], "preempted")


if __name__ == "__main__":
    unittest.main()
