"""The device login through a real server (docs/adr/0023, docs/operations.md "CLI login"):
`gpuaas login` approved through the API as the portal does it, the token saved for its server
only and used without flags, `--print-token`; a refusal ends the CLI with the reason; the API's
answers (202 pending, 429 too fast, 404 unknown or collected, 403 refused, 400 bad input, 401
without a session for the portal's steps); `[auth] cli_login_lifetime` and token_max_lifetime
bound the token; quiet polls leave no audit line, the approval and the collection do; logout by
bearer revokes a session token and leaves a pasted token alone; bad settings stop the server."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import BIN, Api, Server, poll, require_binary, run_cli, seconds_left


class DeviceLoginTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.dir = tempfile.mkdtemp(prefix="gpuaas-device-")
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home)
        self.config = os.path.join(self.dir, "gpuaas.toml")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, text=""):
        with open(self.config, "w") as f:
            f.write(text)
        self.server = Server(demo_gpus="h200:1", extra_args=["--config", self.config]).start()
        return self.server.admin

    def anonymous(self):
        return Api(self.server.url)

    def env(self):
        return {"HOME": self.home, "XDG_CONFIG_HOME": ""}

    def login_cli(self, *args):
        """Starts `gpuaas login`; returns (process, user code) once it shows the code."""
        env = dict(os.environ)
        for k in ("GPUAAS_URL", "GPUAAS_TOKEN", "GPUAAS_CA_FILE", "XDG_CONFIG_HOME"):
            env.pop(k, None)
        env["HOME"] = self.home
        proc = subprocess.Popen([BIN, "--url", self.server.url, "login", *args], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL)
        first = proc.stderr.readline() + proc.stderr.readline()
        m = re.search(r"/device\?code=([A-Z]{4}-[A-Z]{4})", first)
        self.assertIsNotNone(m, first)
        return proc, m.group(1)

    def test_the_cli_signs_in_and_uses_its_saved_login(self):
        admin = self.start()
        ent, member = admin.tenant("dl")
        who = member.get("/api/v1/whoami").json["user"]["name"]
        proc, code = self.login_cli()
        # The portal's steps, as the /device page makes them.
        shown = member.get(f"/api/v1/auth/device/{code.lower().replace('-', '')}")
        self.assertEqual(shown.status, 200, shown.text)
        self.assertEqual(shown.json["user_code"], code)
        self.assertIn("gpuaas CLI", shown.json["client"])
        self.assertEqual(shown.json["from"], "127.0.0.1")
        approved = member.post(f"/api/v1/auth/device/{code}/approve")
        self.assertEqual(approved.status, 200, approved.text)
        self.assertEqual(approved.json["user"], who)
        self.assertTrue(29 * 86400 < seconds_left(approved.json["expires_at"]) <= 30 * 86400)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn(f"as {who} until", out)
        saved = os.path.join(self.home, ".config", "gpuaas", "login.json")
        self.assertEqual(os.stat(saved).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(saved)).st_mode & 0o777, 0o700)

        # No --url, no token: the saved login's server and token.
        p = run_cli([BIN, "--json", "whoami"], env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.json["user"]["name"], who)
        # Another server named: the saved token is not sent there.
        p = run_cli([BIN, "--url", "http://127.0.0.1:1", "--json", "whoami"], env=self.env())
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn(who, p.stdout)
        # GPUAAS_TOKEN wins over the saved login.
        p = run_cli([BIN, "--json", "whoami"], env={**self.env(), "GPUAAS_TOKEN": admin.token})
        self.assertEqual(p.json["user"]["name"], "admin")
        # A saved login that others may read is not used.
        os.chmod(saved, 0o644)
        p = run_cli([BIN, "--url", self.server.url, "--json", "whoami"], env=self.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn("may be read by others", p.stderr)

        # It is a session token of the member: listed as such; logout revokes it (even from a
        # file others could read: that token is best revoked).
        tokens = member.get(f"/api/v1/users/{who}/tokens").json["tokens"]
        self.assertEqual([t["session"] for t in tokens], [False, True])
        with open(saved) as f:
            token = json.load(f)["token"]
        p = run_cli([BIN, "logout"], env=self.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(Api(self.server.url, token).get("/api/v1/whoami").status, 401)
        self.assertFalse(os.path.exists(saved))
        p = run_cli([BIN, "logout"], env=self.env())
        self.assertEqual(p.returncode, 0)
        self.assertIn("not logged in", p.stderr)

        # --print-token: nothing saved, the token on stdout.
        proc, code = self.login_cli("--print-token")
        self.assertEqual(member.post(f"/api/v1/auth/device/{code}/approve").status, 200)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(Api(self.server.url, out.strip()).get("/api/v1/whoami")
                         .json["user"]["name"], who)
        self.assertFalse(os.path.exists(saved))

    def test_a_refusal_ends_the_cli_with_the_reason(self):
        admin = self.start()
        _, member = admin.tenant("dr")
        who = member.get("/api/v1/whoami").json["user"]["name"]
        proc, code = self.login_cli()
        r = member.post(f"/api/v1/auth/device/{code}/deny")
        self.assertEqual(r.status, 200, r.text)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"error: forbidden: {who} refused this login in the portal", err)
        self.assertEqual(member.post(f"/api/v1/auth/device/{code}/approve").status, 404)

    def test_the_api_answers_and_the_audit_trail(self):
        admin = self.start('[auth]\ncli_login_lifetime = "2h"\n')
        _, member = admin.tenant("da")
        anon = self.anonymous()
        g = anon.post("/api/v1/auth/device", {"client": "a notebook of the data team"})
        self.assertEqual(g.status, 201, g.text)
        self.assertEqual(g.json["verification_path_complete"], f"/device?code={g.json['user_code']}")
        self.assertEqual((g.json["expires_in_s"], g.json["interval_s"]), (600, 5))
        body = {"device_code": g.json["device_code"]}
        first = anon.post("/api/v1/auth/device/token", body)
        self.assertEqual(first.status, 202, first.text)
        self.assertEqual(first.json["status"], "pending")
        fast = anon.post("/api/v1/auth/device/token", body)
        self.assertEqual(fast.status, 429)
        self.assertIn("slow down", fast.json["error"]["message"])
        code = g.json["user_code"]
        # The portal's steps need a signed-in user; bad codes are told apart from unknown ones.
        self.assertEqual(anon.get(f"/api/v1/auth/device/{code}").status, 401)
        self.assertEqual(anon.post(f"/api/v1/auth/device/{code}/approve").status, 401)
        self.assertEqual(member.get("/api/v1/auth/device/not-a-code").status, 400)
        self.assertEqual(member.get("/api/v1/auth/device/BCDF-GHJK").status, 404)
        self.assertEqual(member.get(f"/api/v1/auth/device/{code}").json["client"],
                         "a notebook of the data team")
        r = member.post(f"/api/v1/auth/device/{code}/approve")
        self.assertEqual(r.status, 200, r.text)
        self.assertTrue(7000 < seconds_left(r.json["expires_at"]) <= 7200)  # cli_login_lifetime
        time.sleep(5)
        got = anon.post("/api/v1/auth/device/token", body)
        self.assertEqual(got.status, 200, got.text)
        self.assertEqual(got.json["status"], "approved")
        self.assertEqual(anon.post("/api/v1/auth/device/token", body).status, 404)  # once
        # Bad input: the contract's error shape.
        for raw, status in ((b"{", 400), (b'{"device_code": 7}', 400), (b"{}", 400)):
            r = anon.call("POST", "/api/v1/auth/device/token", raw=raw,
                          headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, status, raw)
            self.assertIn("message", r.json["error"])
        r = anon.call("POST", "/api/v1/auth/device", raw=b'{"client": ["x"]}',
                      headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)

        # Sign-out by bearer: the session token is revoked, a pasted token is not.
        session = Api(self.server.url, got.json["token"])
        self.assertEqual(session.call("DELETE", "/api/v1/session").status, 204)
        self.assertEqual(session.get("/api/v1/whoami").status, 401)
        self.assertEqual(member.call("DELETE", "/api/v1/session").status, 204)
        self.assertEqual(member.get("/api/v1/whoami").status, 200)

        # The trail: the request, the approval and the collection; never the quiet polls.
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            lines = [json.loads(line) for line in f]
        device = [(e["method"], e["path"], e["status"], e["actor"]) for e in lines
                  if e["path"].startswith("/api/v1/auth/device")]
        user = member.get("/api/v1/whoami").json["user"]["name"]
        self.assertIn(("POST", "/api/v1/auth/device", 201, None), device)
        self.assertIn(("POST", f"/api/v1/auth/device/{code}/approve", 200, user), device)
        self.assertIn(("POST", "/api/v1/auth/device/token", 200, user), device)
        self.assertNotIn(202, [d[2] for d in device])
        self.assertNotIn(429, [d[2] for d in device])
        self.assertIn(("POST", f"/api/v1/auth/device/{code}/approve", 401, None), device)

    def test_the_platform_maximum_bounds_it_and_bad_settings_stop_the_server(self):
        admin = self.start('[auth]\ntoken_max_lifetime = "1h"\n')
        _, member = admin.tenant("dm")
        g = self.anonymous().post("/api/v1/auth/device", {})
        r = member.post(f"/api/v1/auth/device/{g.json['user_code']}/approve")
        self.assertEqual(r.status, 200, r.text)
        self.assertTrue(3500 < seconds_left(r.json["expires_at"]) <= 3600)
        self.assertEqual(self.server.stop(), 0)
        for value, message in (('"400d"', "cli_login_lifetime must be at most 366 days"),
                               ('"0s"', "cli_login_lifetime must be positive"),
                               ('"soon"', "cli_login_lifetime")):
            with open(self.config, "w") as f:
                f.write(f"[auth]\ncli_login_lifetime = {value}\n")
            p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir",
                         os.path.join(self.dir, "data"), "--config", self.config], timeout=30)
            self.assertEqual(p.returncode, 2, value + p.stderr)
            self.assertIn(message, p.stderr, value)


if __name__ == "__main__":
    unittest.main()
