"""The small-first order with aging ([scheduler] small_first_delay_factor and small_first_rate,
docs/scheduling.md): within a tier, the smaller request (GPUs x walltime) is ahead in the queue,
by default with the rate from the platform's GPUs; with the factor or a fixed rate at 0, arrival
order. A bad value stops the server at start with a clear message."""

import os
import random
import tempfile
import unittest

from harness import Server, kill_marked, poll, require_binary


def config_file(text):
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


class SmallFirstTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.marker = f"{500 + random.randint(1, 99999) / 100000:.5f}"
        self.servers, self.configs = [], []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        for c in self.configs:
            os.unlink(c)
        kill_marked(f"sleep {self.marker}")

    def positions(self, rate, more=""):
        """On one GPU held by a blocker: a 10 h job, then a 1 h job; their queue positions.
        `rate` None: the rate from the platform's GPUs (no small_first_rate line)."""
        line = "" if rate is None else f"small_first_rate = {rate}\n"
        self.configs.append(config_file(f"[scheduler]\n{line}{more}"))
        server = Server(demo_gpus="h200:1", extra_args=["--config", self.configs[-1]]).start()
        self.servers.append(server)
        _, member = server.admin.tenant(f"sf{len(self.servers)}")
        blocker = member.submit(gpus=1, command=["sleep", self.marker], walltime_s=3600)
        member.wait_state(blocker["id"], "running", timeout=30)
        long = member.submit(gpus=1, command=["sleep", self.marker], walltime_s=36000)
        short = member.submit(gpus=1, command=["sleep", self.marker], walltime_s=3600)
        # Positions come with the pass after the submissions: wait until both have one.
        def both():
            got = (member.job(long["id"]).get("queue_position"),
                   member.job(short["id"]).get("queue_position"))
            return got if None not in got and sorted(got) == [1, 2] else None
        return poll(both, 10, "both queue positions")

    def test_smaller_request_goes_first(self):
        self.assertEqual(self.positions(2), (2, 1))

    def test_rate_zero_is_arrival_order(self):
        self.assertEqual(self.positions(0), (1, 2))

    def test_default_is_small_first_at_the_platforms_rate(self):
        """No rate set: the rate from the platform's GPUs (here 1 / 320 GPU-seconds a second;
        how it scales with the GPUs is sched_test's SmallFirstRateComesFromThePlatformsGpus)."""
        self.assertEqual(self.positions(None), (2, 1))

    def test_delay_factor_zero_is_arrival_order(self):
        self.assertEqual(self.positions(None, "small_first_delay_factor = 0\n"), (1, 2))

    def test_size_cap_keeps_arrival_order_beyond_it(self):
        """[scheduler] small_first_cap: with a 1 s cap the request's size hardly counts."""
        self.assertEqual(self.positions(2, "small_first_cap = \"1s\"\n"
                                           "fair_share_wait_floor = \"4h\"\n"
                                           "faster_class_wait_ratio = 0\n"
                                           "faster_class_patience_extra = \"21d\"\n"
                                           "fair_share_wait_ratio = 2.5\n"
                                           "fair_share_wait_horizon = \"12h\"\n"
                                           "fair_share_wait_rank_half_life = \"30d\"\n"
                                           "fair_share_usage_delay = 0\n"), (1, 2))

    def test_bad_fairness_knobs_are_refused_at_start(self):
        """Each refusal names the key; a negative duration's says what 0 would mean there."""
        for line, word in (("faster_class_wait_ratio = \"soon\"", "faster_class_wait_ratio"),
                           ("small_first_cap = \"soon\"", "small_first_cap"),
                           ("small_first_delay_factor = -1", "small_first_delay_factor"),
                           ("small_first_delay_factor = \"x\"", "small_first_delay_factor"),
                           ("fair_share_wait_floor = 0", "fair_share_wait_floor"),
                           ("fair_share_wait_ratio = -1", "fair_share_wait_ratio"),
                           ("fair_share_usage_delay = -5",
                            "fair_share_usage_delay must be 0 (the strict order by usage) or "
                            "positive"),
                           ("fair_share_usage_delay = \"soon\"", "fair_share_usage_delay"),
                           ("fair_share_usage_delay = 2000000000", "fair_share_usage_delay"),
                           ("fair_share_wait_horizon = -1",
                            "fair_share_wait_horizon must be 0 (the waits so far) or positive"),
                           ("fair_share_wait_horizon = \"soon\"", "fair_share_wait_horizon"),
                           ("fair_share_wait_horizon = 2000000000", "fair_share_wait_horizon"),
                           ("fair_share_wait_rank_half_life = -1",
                            "fair_share_wait_rank_half_life must be 0 (the whole history) or "
                            "positive"),
                           ("fair_share_wait_rank_half_life = \"x\"",
                            "fair_share_wait_rank_half_life"),
                           ("fair_share_wait_rank_half_life = 2000000000",
                            "fair_share_wait_rank_half_life"),
                           ("faster_class_patience_extra = -1",
                            "faster_class_patience_extra must be 0 (off) or positive"),
                           ("faster_class_patience_extra = \"x\"", "faster_class_patience_extra")):
            self.configs.append(config_file(f"[scheduler]\n{line}\n"))
            server = Server(extra_args=["--config", self.configs[-1]])
            self.servers.append(server)
            with self.assertRaises(AssertionError) as e:
                server.start()
            self.assertIn(word, str(e.exception))

    def test_bad_rate_is_refused_at_start(self):
        self.configs.append(config_file("[scheduler]\nsmall_first_rate = -1\n"))
        server = Server(extra_args=["--config", self.configs[-1]])
        self.servers.append(server)
        with self.assertRaises(AssertionError) as e:
            server.start()
        self.assertIn("small_first_rate", str(e.exception))


if __name__ == "__main__":
    unittest.main()
