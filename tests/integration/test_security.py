"""Security and input validation at the API edge: tenants are isolated (404, never 403), tokens
are checked, bad input is rejected with the contract's error shape, and a rejected request
changes nothing."""

import json

from harness import ServerTestCase, assert_error_shape, send_raw, unique


class SecurityTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ent_a, cls.alice = cls.admin.tenant("sec-a")
        cls.ent_b, cls.bob = cls.admin.tenant("sec-b")

    def test_other_entity_cannot_see_or_cancel(self):
        job = self.alice.submit(gpus=1, command=["sleep", "30"])
        jid = job["id"]
        try:
            self.assertError(self.bob.get(f"/api/v1/jobs/{jid}"), 404, "GET other's job")
            self.assertError(self.bob.post(f"/api/v1/jobs/{jid}/cancel"), 404, "cancel")
            self.assertError(self.bob.get(f"/api/v1/jobs/{jid}/logs"), 404, "logs")
            self.assertNotIn(jid, [j["id"] for j in self.bob.jobs()])
            # Asking for A's jobs by name: either "no such entity" or a list without them.
            r = self.bob.get(f"/api/v1/jobs?entity={self.ent_a}")
            if r.status == 200:
                self.assertNotIn(jid, [j["id"] for j in r.json["jobs"]])
            else:
                self.assertError(r, 404, "B lists A's jobs by entity")
            # A missing job answers exactly the same way (ids do not leak).
            self.assertError(self.bob.get("/api/v1/jobs/999999999"), 404)
            # Bob's failed cancel changed nothing; Alice and the admin still see the job.
            self.assertNotEqual(self.alice.job(jid)["state"], "cancelled")
            self.assertIn(jid, [j["id"] for j in self.alice.jobs()])
            self.assertIn(jid, [j["id"] for j in self.admin.jobs()])
            # Bob cannot read A's usage either.
            usage = self.bob.get(f"/api/v1/usage?entity={self.ent_a}")
            if usage.status == 200:
                self.assertNotIn(self.ent_a, [e["entity"] for e in usage.json["entities"]])
            else:
                self.assertIn(usage.status, (403, 404), usage)
                assert_error_shape(self, usage, usage.status)
        finally:
            self.alice.post(f"/api/v1/jobs/{jid}/cancel")

    def test_tokens(self):
        self.assertError(self.admin.get("/api/v1/jobs", token=""), 401, "no token")
        self.assertError(self.admin.get("/api/v1/jobs", token="gpa_" + "0" * 64), 401, "bad")
        self.assertError(self.admin.get("/api/v1/jobs", token="nonsense"), 401, "garbage")
        r = self.admin.call("GET", "/api/v1/jobs", token="",
                            headers={"Authorization": "Basic Zm9vOmJhcg=="})
        self.assertError(r, 401, "basic auth")
        self.assertError(self.admin.post("/api/v1/jobs", {"command": ["true"]}, token=""), 401)

    def test_revoked_tokens_are_refused_at_once_sessions_included(self):
        ent = unique("sec-r")
        self.admin.create_entity(ent)
        boss = self.admin.with_token(
            self.admin.create_user(unique("sec-rb"), ent, role="entity-admin")["token"])
        made = self.admin.create_user(unique("sec-rm"), ent)
        name, first = made["name"], self.admin.with_token(made["token"])
        second = self.admin.with_token(self.server.cli("token", "create", name,
                                                       json_out=False).stdout.strip())
        self.assertEqual(second.get("/api/v1/whoami").status, 200)
        # A portal session made with the first token.
        r = self.admin.post("/api/v1/session", {"token": first.token}, token="")
        self.assertEqual(r.status, 200, r)
        cookie = r.headers["Set-Cookie"].split(";")[0]
        self.assertEqual(self.admin.call("GET", "/api/v1/whoami", token="",
                                         headers={"Cookie": cookie}).status, 200)

        listed = self.server.cli("token", "list", name)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        ids = [t["id"] for t in listed.json["tokens"]]
        self.assertEqual(ids, [made["token_id"], ids[1]])
        own = second.get(f"/api/v1/users/{name}/tokens").json["tokens"]
        self.assertEqual([t["id"] for t in own], ids)
        # Another entity's member sees no such user; a member cannot touch its admin's tokens.
        self.assertError(self.bob.get(f"/api/v1/users/{name}/tokens"), 404)
        self.assertError(self.bob.call("DELETE", f"/api/v1/users/{name}/tokens"), 404)
        boss_name = boss.get("/api/v1/whoami").json["user"]["name"]
        self.assertError(first.call("DELETE", f"/api/v1/users/{boss_name}/tokens"), 403)
        self.assertError(first.call("DELETE", f"/api/v1/users/{name}/tokens/999999"), 404)
        self.assertError(first.call("DELETE", f"/api/v1/users/{name}/tokens/abc"), 404)

        # The first token revoked (by the user, with the second): refused at once, the session
        # made with it too; the second still works.
        p = self.server.cli("token", "revoke", name, str(made["token_id"]), token=second.token,
                            json_out=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("revoked", p.stdout)
        self.assertError(first.get("/api/v1/whoami"), 401, "revoked token")
        self.assertError(self.admin.call("GET", "/api/v1/whoami", token="",
                                         headers={"Cookie": cookie}), 401, "revoked session")
        self.assertEqual(second.get("/api/v1/whoami").status, 200)
        # The user leaves: the entity's admin revokes everything left.
        r = boss.call("DELETE", f"/api/v1/users/{name}/tokens")
        self.assertEqual((r.status, r.json), (200, {"revoked": 1}), r)
        self.assertError(second.get("/api/v1/whoami"), 401, "all revoked")
        self.assertEqual(boss.get(f"/api/v1/users/{name}/tokens").json["tokens"], [])
        # The CLI: one of ID or --all.
        p = self.server.cli("token", "revoke", name, json_out=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--all", p.stderr)
        p = self.server.cli("token", "revoke", name, "--all")
        self.assertEqual((p.returncode, p.json), (0, {"revoked": 0}), p.stderr)
        # The platform admins' last token stays.
        me = self.admin.get("/api/v1/whoami").json["user"]["name"]
        admins = [u for u in self.admin.get("/api/v1/users").json["users"]
                  if u["role"] == "platform-admin"]
        self.assertEqual(len(admins), 1, admins)
        self.assertEqual(len(self.admin.get(f"/api/v1/users/{me}/tokens").json["tokens"]), 1)
        self.assertError(self.admin.call("DELETE", f"/api/v1/users/{me}/tokens"), 409)
        self.assertEqual(self.admin.get("/api/v1/whoami").status, 200)

    def test_roles(self):
        self.assertError(self.alice.post("/api/v1/entities", {"name": unique("x")}), 403)
        self.assertError(self.alice.post("/api/v1/users", {"name": unique("x"),
                                                           "entity": self.ent_a}), 403)
        self.assertEqual(self.alice.get(f"/api/v1/entities/{self.ent_b}").status, 404)

    def test_rejected_submissions_change_nothing(self):
        before = sorted(j["id"] for j in self.alice.jobs())
        cases = [  # (what, request, accepted statuses)
            ("malformed JSON", dict(raw=b'{"gpus": 1, "command": ["true"]'), (400,)),
            ("wrong type", dict(body={"gpus": "two", "command": ["true"]}), (400,)),
            ("unknown GPU class", dict(body={"gpus": 1, "gpu_types": ["a100"],
                                             "command": ["true"]}), (422,)),
            ("zero GPUs", dict(body={"gpus": 0, "command": ["true"]}), (422,)),
            ("more GPUs than any node", dict(body={"gpus": 9, "gpu_types": ["h200"],
                                                   "command": ["true"]}), (422,)),
            ("job without command", dict(body={"gpus": 1}), (400, 422)),
        ]
        for what, kw, statuses in cases:
            with self.subTest(what):
                if "raw" in kw:
                    r = self.alice.call("POST", "/api/v1/jobs", raw=kw["raw"],
                                        headers={"Content-Type": "application/json"})
                else:
                    r = self.alice.post("/api/v1/jobs", kw["body"])
                self.assertIn(r.status, statuses, f"{what}: {r!r}")
                assert_error_shape(self, r, r.status)
        self.assertEqual(sorted(j["id"] for j in self.alice.jobs()), before)

    def test_huge_body_is_413(self):
        before = sorted(j["id"] for j in self.alice.jobs())
        body = json.dumps({"gpus": 1, "command": ["echo", "x" * (10 << 20)]}).encode()
        head = (f"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {self.alice.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n").encode()
        status, raw = send_raw(self.server.port, head, body)
        self.assertEqual(status, 413, raw[:500])
        payload = raw.partition(b"\r\n\r\n")[2]
        err = json.loads(payload)["error"]
        self.assertEqual(err["code"], "too_large")
        self.assertTrue(err["message"])
        self.assertEqual(sorted(j["id"] for j in self.alice.jobs()), before)
        # The server is still fine afterwards.
        self.assertEqual(self.alice.get("/api/v1/whoami").status, 200)

    def test_error_shape_everywhere(self):
        for method, path in (("GET", "/api/v1/nope"), ("GET", "/api/v1/jobs/abc"),
                             ("DELETE", "/api/v1/jobs")):
            with self.subTest(f"{method} {path}"):
                r = self.alice.call(method, path)
                self.assertIn(r.status, (400, 404, 405), r)
                assert_error_shape(self, r, r.status)

    def test_duplicate_entity_conflict(self):
        self.assertError(self.admin.post("/api/v1/entities", {"name": self.ent_a}), 409)
        self.assertError(self.admin.post("/api/v1/entities", {"name": unique("q"),
                                                              "quota": {"a100": 1}}), 422)
