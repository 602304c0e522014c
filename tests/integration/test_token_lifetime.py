"""Token lifetimes through a real server: `gpuaas token create --expires-in` makes a token that
works until its time and is refused after it (listed as expired); `[auth] token_max_lifetime`
gives every new token at most that lifetime (the first admin token excepted) and refuses a
longer one (422); a bad value stops the server with a clear error."""

import os
import shutil
import tempfile
import time
import unittest

from harness import BIN, Server, poll, require_binary, run_cli, seconds_left


class TokenLifetimeTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.dir = tempfile.mkdtemp(prefix="gpuaas-tokens-")
        self.config = os.path.join(self.dir, "gpuaas.toml")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, text):
        with open(self.config, "w") as f:
            f.write(text)
        self.server = Server(demo_gpus="h200:1", extra_args=["--config", self.config]).start()
        return self.server.admin

    def test_a_token_expires_at_its_time(self):
        admin = self.start("")
        ent, member = admin.tenant("tl")
        name = member.get("/api/v1/whoami").json["user"]["name"]
        p = self.server.cli("token", "create", name, "--expires-in", "3s", json_out=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("expires 20", p.stderr)
        short = admin.with_token(p.stdout.strip())
        self.assertEqual(short.get("/api/v1/whoami").status, 200)
        listed = {t["id"]: t for t in member.get(f"/api/v1/users/{name}/tokens").json["tokens"]}
        self.assertEqual(len(listed), 2)
        first, second = sorted(listed)
        self.assertIsNone(listed[first]["expires_at"])  # no maximum here: never
        left = seconds_left(listed[second]["expires_at"])
        self.assertTrue(0 < left <= 3.5, left)
        r = poll(lambda: (lambda r: r if r.status == 401 else None)(short.get("/api/v1/whoami")),
                 15, "the token to expire")
        self.assertIn("expired", r.json["error"]["message"])
        self.assertEqual(member.get("/api/v1/whoami").status, 200)
        tokens = member.get(f"/api/v1/users/{name}/tokens").json["tokens"]
        self.assertEqual([t["expired"] for t in tokens], [False, True])
        table = self.server.cli("token", "list", name, json_out=False)
        self.assertRegex(table.stdout, r"never\s+valid")
        self.assertIn("expired", table.stdout)
        for bad in ("soon", "-1h"):  # refused by the CLI
            p = self.server.cli("token", "create", name, "--expires-in", bad, json_out=False)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertIn("--expires-in", p.stderr)
        p = self.server.cli("token", "create", name, "--expires-in", "0s", json_out=False)
        self.assertEqual(p.returncode, 1, p.stderr)  # by the server
        self.assertIn("expires_in_s must be between 1 and", p.stderr)
        self.assertEqual(len(member.get(f"/api/v1/users/{name}/tokens").json["tokens"]), 2)
        r = member.post(f"/api/v1/users/{name}/tokens", {"expires_in_s": "soon"})
        self.assertEqual(r.status, 400, r)

    def test_the_platform_maximum_bounds_every_new_token(self):
        admin = self.start('[auth]\ntoken_max_lifetime = "1d"\n')
        self.assertIsNone(admin.get("/api/v1/users/admin/tokens").json["tokens"][0]["expires_at"])
        ent = "tlm"
        admin.create_entity(ent)
        user = admin.create_user("tlm-alice", ent)
        day = seconds_left(user["expires_at"])
        self.assertTrue(86400 - 60 < day <= 86400, day)
        member = admin.with_token(user["token"])
        r = member.post("/api/v1/users/tlm-alice/tokens", {"expires_in_s": 2 * 86400})
        self.assertEqual(r.status, 422, r)
        self.assertIn("token_max_lifetime", r.json["error"]["message"])
        self.assertEqual(len(member.get("/api/v1/users/tlm-alice/tokens").json["tokens"]), 1)
        r = member.post("/api/v1/users/tlm-alice/tokens", {"expires_in_s": 3600})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(3500 < seconds_left(r.json["expires_at"]) <= 3600)
        self.assertEqual(self.server.stop(), 0)

        for value, message in (('"forever"', "token_max_lifetime"), ("-5", "token_max_lifetime"),
                               ('"1d"\nmax = 3', "auth.max")):
            with open(self.config, "w") as f:
                f.write(f"[auth]\ntoken_max_lifetime = {value}\n")
            p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir",
                         os.path.join(self.dir, "data"), "--config", self.config], timeout=30)
            self.assertNotEqual(p.returncode, 0, value)
            self.assertIn(message, p.stderr, value)


if __name__ == "__main__":
    unittest.main()
