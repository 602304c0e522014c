"""The `gpuaas` command-line client against a real server: help, errors, wait, jobs, nodes,
durations, and the environment variables."""

from harness import BIN, FINAL_STATES, ServerTestCase, poll, run_cli, unique


class CliTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ent, cls.member = cls.admin.tenant("cli")
        cls.token = cls.member.token

    def cli(self, *args, **kw):
        kw.setdefault("token", self.token)
        return self.server.cli(*args, **kw)

    def test_help(self):
        main = run_cli([BIN, "--help"], timeout=10)
        self.assertEqual(main.returncode, 0, main.stderr)
        text = main.stdout + main.stderr
        for word in ("--url", "--token", "--json", "submit", "jobs", "server"):
            self.assertIn(word, text, f"`gpuaas --help` does not mention {word}")
        sub = run_cli([BIN, "submit", "--help"], timeout=10)
        self.assertEqual(sub.returncode, 0, sub.stderr)
        text = sub.stdout + sub.stderr
        for word in ("--gpus", "--gpu-type", "--walltime", "--name", "--kind"):
            self.assertIn(word, text, f"`gpuaas submit --help` does not mention {word}")

    def test_bad_token_is_a_readable_error(self):
        p = self.server.cli("jobs", token="gpa_" + "1" * 64)
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(p.stderr.strip(), "nothing on stderr")
        self.assertRegex(p.stderr.lower(), r"401|unauthenticated|token|unauthori[sz]ed")
        self.assertNotIn("terminate called", p.stderr)
        self.assertEqual(p.stdout.strip(), "", "an error must not print a document on stdout")

    def test_unreachable_server_is_a_readable_error(self):
        p = run_cli([BIN, "--url", "http://127.0.0.1:1", "--token", self.token, "--json", "jobs"],
                    timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(p.stderr.strip())
        self.assertNotIn("terminate called", p.stderr)

    def test_usage_error_exits_non_zero(self):
        p = self.cli("submit", "--gpus", "lots", "--", "true")
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(p.stderr.strip())
        p = self.cli("no-such-verb")
        self.assertNotEqual(p.returncode, 0)
        # Every command: a usage error is exit status 2 (help is 0), as the contract says.
        for argv in (["submit", "--gpus", "lots", "--", "true"], ["server", "--listen"],
                     ["simulate", "--trace"], ["trace", "export", "--out"], ["plan"],
                     ["forecast", "--weeks", "x"], ["db", "copy", "--from", "a.db"],
                     ["agent", "--no-such-flag"]):
            p = run_cli([BIN, *argv], timeout=30)
            self.assertEqual(p.returncode, 2, f"{argv}: {p.stderr}")
            self.assertTrue(p.stderr.strip(), argv)
        for argv in (["db", "--help"], ["db", "copy", "--help"], ["simulate", "--help"]):
            p = run_cli([BIN, *argv], timeout=30)
            self.assertEqual(p.returncode, 0, f"{argv}: {p.stderr}")

    def test_someone_leaves_and_comes_back(self):
        """user disable|enable|role: the leaver's token is refused with a readable error, the
        list says so, and the same token works again once enabled."""
        name = self.server.admin.get("/api/v1/whoami", token=self.token).json["user"]["name"]
        off = self.server.cli("user", "disable", name, json_out=False)
        self.assertEqual(off.returncode, 0, off.stderr)
        self.assertIn(f"user {name}: member of {self.ent}, disabled", off.stdout)
        refused = self.cli("jobs", json_out=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn(f"user '{name}' is disabled since", refused.stderr)
        listed = self.server.cli("user", "list", json_out=False).stdout
        self.assertRegex(listed, rf"{name}\s+{self.ent}\s+member\s+admin\s+disabled")
        self.assertEqual(self.server.cli("token", "create", name).returncode, 1)
        self.assertEqual(self.server.cli("user", "enable", name).json["disabled_at"], None)
        self.assertEqual(self.cli("jobs").returncode, 0)
        p = self.server.cli("user", "role", name, "entity-admin")
        self.assertEqual((p.returncode, p.json["role"]), (0, "entity-admin"), p.stderr)
        self.assertEqual(self.server.cli("user", "role", name, "member").json["role"], "member")
        # Usage errors (2) and the server's refusals (1): oneself, an unknown role.
        self.assertEqual(self.server.cli("user", "role", name, "boss").returncode, 2)
        me = self.server.cli("user", "disable", "admin", json_out=False)
        self.assertEqual(me.returncode, 1)
        self.assertIn("cannot disable your own account", me.stderr)

    def test_a_leavers_jobs_go_on_or_are_cancelled_with_the_account(self):
        """user disable says what goes on; --cancel-jobs cancels it in the same step."""
        admin = self.server.admin
        name = unique("leaver")
        leaver = admin.with_token(admin.create_user(name, self.ent)["token"])
        jobs = [leaver.submit(gpus=1, command=["sleep", "600"])["id"] for _ in range(2)]
        off = self.server.cli("user", "disable", name, json_out=False)
        self.assertEqual(off.returncode, 0, off.stderr)
        self.assertIn(f"2 unfinished job(s) of {name} go on", off.stdout)
        self.assertIn(f"gpuaas user disable {name} --cancel-jobs", off.stdout)
        self.assertTrue(all(admin.job(j)["state"] not in FINAL_STATES for j in jobs))
        # "cancel_jobs" goes with "disabled": true only (422, nothing changed); not on enable.
        r = admin.call("PATCH", f"/api/v1/users/{name}", {"cancel_jobs": True})
        self.assertError(r, 422)
        self.assertIn("cancel_jobs", r.json["error"]["message"])
        r = admin.call("PATCH", f"/api/v1/users/{name}", {"disabled": True, "cancel_jobs": "yes"})
        self.assertError(r, 400)
        self.assertEqual(self.server.cli("user", "enable", name, "--cancel-jobs").returncode, 2)
        self.assertTrue(all(admin.job(j)["state"] not in FINAL_STATES for j in jobs))
        cut = self.server.cli("user", "disable", name, "--cancel-jobs", json_out=False)
        self.assertEqual(cut.returncode, 0, cut.stderr)
        self.assertIn(f"cancelled 2 job(s): {jobs[0]} {jobs[1]}", cut.stdout)
        for j in jobs:
            job = admin.job(j)
            self.assertEqual(job["state"], "cancelled", job)
            self.assertEqual(job["reason"], f"cancelled by admin: user {name} disabled", job)
        again = self.server.cli("user", "disable", name, "--cancel-jobs")
        self.assertEqual((again.json["cancelled_jobs"], again.json["unfinished_jobs"]), ([], 0))

    def test_env_vars(self):
        p = run_cli([BIN, "--json", "jobs"], env={"GPUAAS_URL": self.server.url,
                                                  "GPUAAS_TOKEN": self.token}, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("jobs", p.json)

    def test_wait_timeout_then_cancel(self):
        sub = self.cli("submit", "--gpus", "1", "--", "sleep", "60")
        self.assertEqual(sub.returncode, 0, sub.stderr)
        jid = sub.json["id"]
        try:
            # The job sleeps 60 s: a `wait` that ignored --timeout would hit the 30 s bound.
            w = self.cli("wait", jid, "--timeout", "1", timeout=30)
            self.assertNotEqual(w.returncode, 0, "wait must fail when the job is not final")
            self.assertTrue(w.stderr.strip())
        finally:
            c = self.cli("cancel", jid)
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertEqual(c.json["state"], "cancelled")
        w = self.cli("wait", jid, "--timeout", "30", timeout=60)
        self.assertEqual(w.returncode, 0, w.stderr)
        self.assertEqual(w.json["state"], "cancelled")

    def test_jobs_state_filter_and_job(self):
        ok = self.cli("submit", "--name", "quick", "--gpus", "1", "--", "true")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        w = self.cli("wait", ok.json["id"], "--timeout", "60", timeout=90)
        self.assertEqual(w.json["state"], "succeeded", w.stdout + w.stderr)
        self.assertEqual(w.json["name"], "quick")
        long = self.cli("submit", "--gpus", "1", "--", "sleep", "60")
        try:
            lid = long.json["id"]
            self.member.wait_state(lid, "running", timeout=30)
            succ = self.cli("jobs", "--state", "succeeded")
            self.assertEqual(succ.returncode, 0, succ.stderr)
            self.assertIn(ok.json["id"], [j["id"] for j in succ.json["jobs"]])
            self.assertTrue(all(j["state"] == "succeeded" for j in succ.json["jobs"]))
            run = self.cli("jobs", "--state", "running")
            self.assertIn(lid, [j["id"] for j in run.json["jobs"]])
            self.assertNotIn(ok.json["id"], [j["id"] for j in run.json["jobs"]])
            one = self.cli("job", lid)
            self.assertEqual(one.returncode, 0, one.stderr)
            for key in ("id", "name", "kind", "state", "entity", "user", "gpus", "gpu_types",
                        "gpu_type", "node", "gpu_ids", "submitted_at", "started_at",
                        "finished_at", "exit_code", "cost"):
                self.assertIn(key, one.json)
            self.assertEqual(one.json["entity"], self.ent)
        finally:
            self.cli("cancel", long.json["id"])

    def test_queued_job_explains_itself(self):
        blocker = self.cli("submit", "--gpus", "8", "--gpu-type", "h200", "--", "sleep", "60")
        queued = self.cli("submit", "--gpus", "8", "--gpu-type", "h200", "--", "true")
        try:
            self.member.wait_state(blocker.json["id"], "running", timeout=30)
            j = self.cli("job", queued.json["id"]).json
            self.assertEqual(j["state"], "queued", j)
            self.assertIsInstance(j.get("queue_position"), int, j)
            self.assertIn("estimated_start", j)
            self.assertTrue(j.get("reason"), j)
        finally:
            self.cli("cancel", queued.json["id"])
            self.cli("cancel", blocker.json["id"])

    def test_nodes(self):
        p = self.cli("nodes")
        self.assertEqual(p.returncode, 0, p.stderr)
        gpus = [g for n in p.json["nodes"] for g in n["gpus"]]
        self.assertEqual(len(gpus), 12)
        for n in p.json["nodes"]:
            self.assertTrue(n["name"])
            self.assertIn("state", n)
            for g in n["gpus"]:
                for key in ("index", "uuid", "model", "memory_mb", "state"):
                    self.assertIn(key, g)
        models = " ".join(g["model"] for g in gpus)
        self.assertIn("H200", models)
        self.assertIn("L40S", models)

    def test_durations(self):
        for text, seconds in (("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400),
                              ("45", 45)):
            with self.subTest(text):
                p = self.cli("submit", "--walltime", text, "--gpus", "1", "--", "true")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.json["walltime_s"], seconds, p.json)
        bad = self.cli("submit", "--walltime", "2 fortnights", "--", "true")
        self.assertNotEqual(bad.returncode, 0)

    def test_logs_plain_text(self):
        p = self.cli("submit", "--gpus", "1", "--", "sh", "-c", "echo hello-out; echo hello-err >&2")
        jid = p.json["id"]
        self.assertIn(self.member.wait_final(jid, timeout=60)["state"], FINAL_STATES)
        out = poll(lambda: (lambda r: r.stdout if "hello-err" in r.stdout else None)(
            self.cli("logs", jid, json_out=False)), 15, "both streams in the log")
        self.assertIn("hello-out", out)
