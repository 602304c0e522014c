"""GET /api/v1/forecast against the real server: short jobs on the demo agents make the usage
history; the forecast's shape and figures follow from those jobs and the demo inventory
(h200:8, l40s:4); every parameter is validated; members are refused. And `gpuaas forecast`
asking the server (GPUAAS_URL), as JSON and as an HTML report."""

import csv
import datetime
import json
import math
import os
import shutil
import tempfile

from harness import BIN, ServerTestCase, assert_error_shape, parse_time, run_cli

WEEK_S = 7 * 86400


def gpu_hours(jobs):
    """What the ledger export counts: gpus x run time rounded up to the second, per class."""
    out = {}
    for j in jobs:
        run_ms = (parse_time(j["finished_at"]) - parse_time(j["started_at"])).total_seconds()
        secs = max(1, math.ceil(run_ms - 1e-9))
        cls = j["gpu_types"][0] if j.get("gpu_types") else "any"
        out[cls] = out.get(cls, 0) + j["gpus"] * secs / 3600
    return out


class ForecastApiTest(ServerTestCase):

    def test_forecast_from_the_usage_history(self):
        admin = self.admin
        # Before any job ran: an empty answer, not an error.
        r = admin.get("/api/v1/forecast")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["classes"], [])
        self.assertEqual(r.json["weeks_of_history"], 0)

        ent, member = admin.tenant("fc")
        ids = [member.submit(gpus=8, gpu_types=["h200"], command=["sleep", "1.2"])["id"]
               for _ in range(2)]
        ids.append(member.submit(gpus=4, gpu_types=["l40s"], command=["sleep", "0.5"])["id"])
        jobs = [member.wait_final(i, timeout=60) for i in ids]
        for j in jobs:
            self.assertEqual(j["state"], "succeeded", j)
        want = gpu_hours(jobs)

        r = admin.get("/api/v1/forecast?weeks=8&lead_time=12w")
        self.assertEqual(r.status, 200, r)
        doc = r.json
        self.assertEqual(doc["horizon_weeks"], 8)
        self.assertEqual(doc["lead_time_s"], 12 * WEEK_S)
        self.assertEqual(doc["weeks_of_history"], 1)
        self.assertEqual(doc["jobs_used"], 3)
        self.assertEqual(parse_time(doc["history_start"]), parse_time(jobs[0]["submitted_at"]))
        by = {c["class"]: c for c in doc["classes"]}
        self.assertEqual(set(by), {"h200", "l40s"})
        for cls, gpus in (("h200", 8), ("l40s", 4)):
            c = by[cls]
            self.assertEqual(c["gpus"], gpus)
            self.assertAlmostEqual(c["capacity_gpu_hours_per_week"], gpus * 168 * 0.8, places=3)
            self.assertEqual(len(c["history_gpu_hours"]), 1)
            self.assertAlmostEqual(c["history_gpu_hours"][0], want[cls], delta=0.0006)
            self.assertEqual(len(c["forecast_gpu_hours"]), 8)
            self.assertEqual(c["season_weeks"], 0)
            self.assertIn("under 8 weeks", c["seasonality"])
            # A few seconds of use never reach a fleet's week.
            self.assertIsNone(c["exceed_week"])
            self.assertIsNone(c["exceed_date"])
            self.assertIsNone(c["order_by"])
            self.assertFalse(c["order_now"])

        # A fleet that may only be used a millionth: exceeded in the first projected week, and a
        # 12-week lead time puts the order date in the past.
        r = admin.get("/api/v1/forecast?weeks=4&lead_time=12w&max_utilization=0.000001&class=h200")
        self.assertEqual(r.status, 200, r)
        self.assertEqual([c["class"] for c in r.json["classes"]], ["h200"])
        c = r.json["classes"][0]
        self.assertEqual(c["exceed_week"], 1)
        start = parse_time(r.json["history_start"])
        self.assertEqual(parse_time(c["exceed_date"]), start + datetime.timedelta(weeks=1))
        self.assertEqual(parse_time(c["order_by"]), start - datetime.timedelta(weeks=11))
        self.assertTrue(c["order_now"])
        # growth scales the projection (one week of history: a flat line at that week).
        g = admin.get("/api/v1/forecast?weeks=2&growth=3&class=h200").json["classes"][0]
        self.assertAlmostEqual(g["forecast_gpu_hours"][0], 3 * want["h200"], delta=0.002)

        # Bad parameters: 400 in the contract's shape, naming the parameter.
        for query, word in (("weeks=0", "weeks"), ("weeks=521", "weeks"), ("weeks=2x", "weeks"),
                            ("lead_time=-1d", "lead_time"), ("lead_time=soon", "lead_time"),
                            ("lead_time=4000d", "lead_time"), ("growth=0", "growth"),
                            ("growth=nan", "growth"), ("max_utilization=1.5", "max_utilization"),
                            ("class=b200x", "class"), ("horizon=3", "horizon")):
            r = admin.get("/api/v1/forecast?" + query)
            self.assertEqual(r.status, 400, (query, r))
            assert_error_shape(self, r, 400)
            self.assertIn(word, r.json["error"]["message"], query)

        # Platform admins only.
        r = member.get("/api/v1/forecast")
        self.assertEqual(r.status, 403, r)
        assert_error_shape(self, r, 403)
        r = admin.get("/api/v1/forecast", token="")
        self.assertEqual(r.status, 401, r)

        # The CLI asks the server when GPUAAS_URL is set and no --trace is given.
        env = {"GPUAAS_URL": self.server.url, "GPUAAS_TOKEN": admin.token}
        p = run_cli([BIN, "forecast", "--lead-time", "12w", "--horizon-weeks", "8", "--json"],
                    env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual({c["class"] for c in p.json["classes"]}, {"h200", "l40s"})
        report = tempfile.mkdtemp(prefix="gpuaas-fc-")
        try:
            p = run_cli([BIN, "forecast", "--lead-time", "12w", "--max-utilization", "0.000001",
                         "--report", report], env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("h200: 1 weeks of history", p.stdout)
            self.assertIn("order by", p.stdout)
            with open(os.path.join(report, "index.html")) as f:
                html = f.read()
            self.assertIn("data-series=\"history-h200\"", html)
            self.assertIn("order now", html)
            self.assertIn(self.server.url, html)
        finally:
            shutil.rmtree(report, ignore_errors=True)
        p = run_cli([BIN, "forecast", "--server"],
                    env={"GPUAAS_URL": self.server.url, "GPUAAS_TOKEN": member.token})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("platform admins", p.stderr)
        p = run_cli([BIN, "forecast", "--server", "--lead-time", "tomorrow"], env=env)
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_simulate_writes_one_row_per_job(self):
        """simulate --jobs-csv: every finished job once per policy, with the times it had."""
        out = tempfile.mkdtemp(prefix="gpuaas-jobs-")
        try:
            path = os.path.join(out, "jobs.csv")
            p = run_cli([BIN, "simulate", "--trace", "traces/sample_300.csv", "--cluster",
                         "h200:8x2,l40s:4x2", "--policy", "fifo,default", "--set",
                         "small_first_cap_s=3600", "--set", "fair_share_wait_floor_s=600",
                         "--json", "-q", "--jobs-csv", path], timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            results = {r["policy"]: r for r in json.loads(p.stdout)["results"]}
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(list(rows[0].keys()),
                             ["policy", "id", "entity", "gpus", "gpu_class", "submit_s",
                              "start_s", "end_s", "wait_s", "run_s", "timed_out"])
            by_policy = {}
            for r in rows:
                by_policy.setdefault(r["policy"], []).append(r)
                self.assertAlmostEqual(float(r["wait_s"]),
                                       float(r["start_s"]) - float(r["submit_s"]), places=2)
                self.assertAlmostEqual(float(r["run_s"]),
                                       float(r["end_s"]) - float(r["start_s"]), places=2)
                self.assertIn(r["gpu_class"], ("h200", "l40s"))
            # The label holds a comma: it is quoted in the file and read back whole.
            label = "default[small_first_cap_s=3600,fair_share_wait_floor_s=600]"
            self.assertEqual(sorted(by_policy), sorted(results))
            self.assertIn(label, by_policy)
            for name, jobs in by_policy.items():
                self.assertEqual(len(jobs), results[name]["finished"])
                self.assertEqual(len({j["id"] for j in jobs}), len(jobs))
                waits = sum(float(j["wait_s"]) for j in jobs) / len(jobs)
                self.assertAlmostEqual(waits, results[name]["avg_wait_s"], delta=0.01)
            p = run_cli([BIN, "simulate", "--trace", "traces/sample_300.csv", "--cluster",
                         "h200:8x2", "-q", "--jobs-csv", os.path.join(out, "no", "such.csv")])
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("cannot write", p.stderr)
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_plan_applies_scheduler_settings_to_every_fleet(self):
        base = [BIN, "plan", "--trace", "traces/sample_300.csv", "--cluster", "h200:8x2,l40s:4x2",
                "--try", "h200:8x3,l40s:4x2", "--json"]
        plain = run_cli(base, timeout=120)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        fifo = run_cli(base + ["--set", "queue_order=fifo", "--set", "backfill=false",
                               "--set", "strict_order=true", "--default-walltime", "2d"],
                       timeout=120)
        self.assertEqual(fifo.returncode, 0, fifo.stderr)
        a, b = json.loads(plain.stdout), json.loads(fifo.stdout)
        self.assertEqual(a["policy"], "default")
        self.assertEqual(b["policy"],
                         "default[queue_order=fifo,backfill=false,strict_order=true]")
        self.assertEqual([f["cluster"] for f in a["fleets"]], [f["cluster"] for f in b["fleets"]])
        for x, y in zip(a["fleets"], b["fleets"]):
            # strict first-in first-out waits longer than the default on the same fleet
            self.assertGreater(y["avg_wait_s"], x["avg_wait_s"], (x, y))
        # The same settings as `simulate --set`: the same replay, the same average wait.
        sim = run_cli([BIN, "simulate", "--trace", "traces/sample_300.csv", "--cluster",
                       "h200:8x2,l40s:4x2", "--policy", "default", "--set", "queue_order=fifo",
                       "--set", "backfill=false", "--set", "strict_order=true",
                       "--default-walltime", "2d", "--json", "--no-check"], timeout=120)
        self.assertEqual(sim.returncode, 0, sim.stderr)
        self.assertEqual(json.loads(sim.stdout)["results"][0]["avg_wait_s"],
                         b["fleets"][0]["avg_wait_s"])
        for bad, message in ((["--set", "reservation=4"], 'unknown policy setting "reservation"'),
                             (["--set", "reservations"], "--set: expected KEY=VALUE"),
                             (["--default-walltime", "0"], "--default-walltime")):
            p = run_cli(base + bad, timeout=120)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertIn(message, p.stderr)

    def test_offline_reports_of_forecast_and_plan(self):
        """The offline CLI writes the manager's pages: forecast (weeks of a trace) and plan."""
        out = tempfile.mkdtemp(prefix="gpuaas-fc-")
        try:
            trace = os.path.join(out, "hist.csv")
            with open(trace, "w") as f:
                f.write("id,submit_s,duration_s,gpus,entity,gpu_types,walltime_s,kind,priority,"
                        "speeds\n")
                for w in range(10):  # 10 weeks, +100 GPU-h a week from 500, on one H200 job
                    f.write(f"w{w},{w * WEEK_S},{(500 + 100 * w) * 3600},1,acme,h200,0,batch,0,\n")
            p = run_cli([BIN, "forecast", "--trace", trace, "--cluster", "h200:8x1",
                         "--lead-time", "4w", "--report", os.path.join(out, "fc")])
            self.assertEqual(p.returncode, 0, p.stderr)
            # 0.8 x 8 x 168 = 1075.2 GPU-h a week: week 6 = 1100 (first above it) is in the
            # history; the projection (week 10 on) is above at once: 2026-03-12, order 2026-02-12.
            self.assertIn("2026-03-12", p.stdout)
            with open(os.path.join(out, "fc", "index.html")) as f:
                html = f.read()
            self.assertIn("in the week of <b>2026-03-12</b>", html)
            self.assertIn("h200 GPUs by <b>2026-02-12</b>", html)
            p = run_cli([BIN, "plan", "--trace", "traces/sample_300.csv", "--cluster",
                         "h200:8x2,l40s:4x2", "--try", "h200:8x3,l40s:4x2", "--node-cost",
                         "h200=30000,l40s=9000", "--report", os.path.join(out, "plan")],
                        timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "plan", "index.html")) as f:
                html = f.read()
            for needle in ('<tr data-fleet="h200:8x2,l40s:4x2">',
                           '<tr data-fleet="h200:8x3,l40s:4x2">', "78000 EUR", "108000 EUR",
                           '<g data-wait="h200:8x3,l40s:4x2">', "Fleet cost a month"):
                self.assertIn(needle, html)
        finally:
            shutil.rmtree(out, ignore_errors=True)
