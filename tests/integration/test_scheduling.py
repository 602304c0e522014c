"""Scheduling through the real server: whole-node H200 jobs never share a GPU and run one after
another, while small L40S jobs run beside them (no head-of-line blocking across classes)."""

from harness import ServerTestCase, parse_time


class ExclusiveGpuTest(ServerTestCase):

    def test_ten_full_node_jobs_never_overlap_and_l40s_runs_beside(self):
        _, member = self.admin.tenant("sched")
        big = [member.submit(name=f"big{i}", gpus=8, gpu_types=["h200"], command=["sleep", "1"])
               for i in range(10)]
        small = [member.submit(name=f"small{i}", gpus=1, gpu_types=["l40s"],
                               command=["sleep", "2"]) for i in range(4)]
        for j in big + small:
            self.assertIn(j["state"], ("queued", "starting", "running"), j)

        done_big = [member.wait_final(j["id"], timeout=90) for j in big]
        done_small = [member.wait_final(j["id"], timeout=30) for j in small]

        for j in done_big:
            self.assertEqual(j["state"], "succeeded", j)
            self.assertEqual(j["gpu_type"], "h200")
            self.assertEqual(sorted(j["gpu_ids"]), list(range(8)), j)
        for j in done_small:
            self.assertEqual(j["state"], "succeeded", j)
            self.assertEqual(j["gpu_type"], "l40s")
            self.assertEqual(len(j["gpu_ids"]), 1)

        # The H200 node holds one 8-GPU job at a time: intervals must not overlap.
        spans = sorted((parse_time(j["started_at"]), parse_time(j["finished_at"]), j["id"])
                       for j in done_big)
        for (s1, f1, id1), (s2, f2, id2) in zip(spans, spans[1:]):
            self.assertLessEqual(s1, f1)
            self.assertGreaterEqual(s2, f1, f"job {id2} started before job {id1} finished")

        # The L40S jobs did not wait behind the H200 queue: each started before the last H200
        # job did, and each ran while some H200 job ran.
        last_big_start = spans[-1][0]
        for j in done_small:
            s, f = parse_time(j["started_at"]), parse_time(j["finished_at"])
            self.assertLess(s, last_big_start, f"l40s job {j['id']} waited for the h200 queue")
            self.assertTrue(any(s < bf and f > bs for bs, bf, _ in spans),
                            f"l40s job {j['id']} did not overlap any h200 job")

        # Overlapping L40S jobs on one node hold different GPUs. (Timestamps may be rounded,
        # but rounding is monotone: a strict overlap of the rounded times is a real one.)
        for a in done_small:
            for b in done_small:
                if (a["id"] < b["id"] and a["node"] == b["node"]
                        and parse_time(a["started_at"]) < parse_time(b["finished_at"])
                        and parse_time(b["started_at"]) < parse_time(a["finished_at"])):
                    self.assertFalse(set(a["gpu_ids"]) & set(b["gpu_ids"]), (a, b))
