"""The audit trail through a real server (docs/operations.md "Audit trail", docs/adr/0018).

Shows: every request that may change state, and every refusal (401, 403), becomes one line of
DATA/audit.log with who (user, role, entity), from where, what (method and path) and the status
answered; reads, the agent protocol and the read-only computations (estimate, sizing) do not,
nor a read refused for carrying no token at all.
GET /api/v1/audit gives the lines newest first, page by page (next_before), filtered by actor and
entity; platform admins see every line, an entity admin its entity's lines only, a member
nothing. `gpuaas audit` prints them; `gpuaas audit --verify FILE` checks the hash chain of a copy
and finds an edited line; a restarted server continues the chain; `[audit] file` moves the file
and a relative path stops the server with a clear error.
"""

import json
import os
import shutil
import tempfile
import unittest

from harness import Api, Server, require_binary, run_cli, BIN, unique


def audit_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class AuditTrailTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.dir = tempfile.mkdtemp(prefix="gpuaas-audit-")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def all_pages(self, api, query="", limit=1000):
        out, before = [], None
        for _ in range(10000):
            q = f"?limit={limit}{'&' + query if query else ''}"
            q += f"&before={before}" if before else ""
            r = api.get("/api/v1/audit" + q)
            self.assertEqual(r.status, 200, r)
            out.extend(r.json["entries"])
            before = r.json["next_before"]
            if before is None:
                return out
        self.fail("paging did not end")

    def test_writes_and_refusals_are_audited_and_read_back_by_role(self):
        self.server = Server(demo_gpus="h200:2").start()
        admin = self.server.admin
        ent, other = unique("aud"), unique("audo")
        admin.create_entity(ent)
        admin.create_entity(other)
        boss_name, member_name = unique("audb"), unique("audm")
        boss = admin.with_token(admin.create_user(boss_name, ent, role="entity-admin")["token"])
        member = admin.with_token(admin.create_user(member_name, ent)["token"])
        stranger_name = unique("auds")
        stranger = admin.with_token(admin.create_user(stranger_name, other)["token"])

        job = member.submit(gpus=1, command=["true"])
        self.assertEqual(member.get("/api/v1/jobs").status, 200)         # a read: not audited
        member.post("/api/v1/estimate", {"gpus": 1, "hours": 1})         # a computation: not
        nobody = Api(self.server.url)
        self.assertEqual(nobody.post("/api/v1/jobs", {"gpus": 1}).status, 401)
        self.assertEqual(nobody.get("/api/v1/jobs", token="gpuaas_" + "0" * 40).status, 401)
        self.assertEqual(nobody.get("/api/v1/whoami").status, 401)       # no token, a read: not
        refused = member.post("/api/v1/entities", {"name": unique("audx")})
        self.assertEqual(refused.status, 403, refused)
        self.assertEqual(member.get("/api/v1/audit").status, 403)
        self.assertEqual(stranger.post(f"/api/v1/jobs/{job['id']}/cancel").status, 404)
        self.assertEqual(member.post("/api/v1/x%FF%C3%A9", {}).status, 404)  # not UTF-8

        entries = self.all_pages(admin)
        self.assertEqual([e["seq"] for e in entries],
                         sorted((e["seq"] for e in entries), reverse=True))
        self.assertEqual(len({e["seq"] for e in entries}), len(entries))

        def find(method, path, status, actor):
            return [e for e in entries if e["method"] == method and e["path"] == path
                    and e["status"] == status and e["actor"] == actor]

        submitted = find("POST", "/api/v1/jobs", 201, member_name)
        self.assertEqual(len(submitted), 1, entries)
        self.assertEqual(submitted[0]["role"], "member")
        self.assertEqual(submitted[0]["entity"], ent)
        self.assertRegex(submitted[0]["remote"], r"^127\.0\.0\.1:\d+$")
        self.assertRegex(submitted[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(len(find("POST", "/api/v1/users", 201, "admin")), 3, entries)
        anonymous = [e for e in entries if e["actor"] is None]
        self.assertEqual(sorted((e["method"], e["path"], e["status"]) for e in anonymous),
                         [("GET", "/api/v1/jobs", 401), ("POST", "/api/v1/jobs", 401)], entries)
        self.assertEqual(len(find("POST", "/api/v1/entities", 403, member_name)), 1, entries)
        self.assertEqual(len(find("GET", "/api/v1/audit", 403, member_name)), 1, entries)
        self.assertEqual(len(find("POST", f"/api/v1/jobs/{job['id']}/cancel", 404,
                                  stranger_name)), 1, entries)
        # A byte that is not UTF-8 is kept as its code point; the line still parses.
        self.assertEqual(len(find("POST", "/api/v1/x\u00ff\u00e9", 404, member_name)), 1, entries)
        for e in entries:
            self.assertFalse(e["method"] == "GET" and e["status"] == 200, e)
            self.assertFalse(e["path"].startswith("/api/v1/agent/"), e)
            self.assertNotEqual(e["path"], "/api/v1/estimate", e)
            self.assertNotIn("?", e["path"], e)

        # What the API gives is what the file holds, hash chain included.
        on_disk = {e["seq"]: e for e in audit_lines(os.path.join(self.server.data_dir,
                                                                 "audit.log"))}
        for e in entries:
            self.assertEqual(on_disk[e["seq"]], e)

        # Paging: small pages reach the same lines; filters by actor and by entity.
        self.assertEqual(self.all_pages(admin, limit=2), entries)
        mine = self.all_pages(admin, f"actor={member_name}")
        self.assertEqual({e["actor"] for e in mine}, {member_name})
        self.assertEqual(len(mine), len([e for e in entries if e["actor"] == member_name]))
        # An entity admin: the lines of its entity's users only, even unasked.
        own = self.all_pages(boss)
        self.assertTrue(own)
        self.assertEqual({e["entity"] for e in own}, {ent})
        self.assertEqual(own, self.all_pages(admin, f"entity={ent}"))
        r = boss.get(f"/api/v1/audit?entity={other}")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json["error"]["code"], "forbidden")
        for bad in ("limit=abc", "before=-1", "limit=1.5"):
            r = admin.get("/api/v1/audit?" + bad)
            self.assertEqual(r.status, 400, (bad, r))
            self.assertEqual(r.json["error"]["code"], "bad_request")

        # The CLI: a table, newest first, with where the next page starts.
        p = self.server.cli("audit", "--entity", ent, "--limit", "2", json_out=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("SEQ", p.stdout)
        self.assertIn("older lines: gpuaas audit --before", p.stdout)
        p = self.server.cli("audit", "--actor", member_name)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.json["entries"], mine[:100])
        p = self.server.cli("audit", "--limit", "zero", json_out=False)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("--limit", p.stderr)
        p = self.server.cli("audit", token=member.token, json_out=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("administrators", p.stderr)

    def test_verify_finds_an_edited_line_and_a_restart_continues_the_chain(self):
        self.server = Server(demo_gpus="h200:1").start()
        admin = self.server.admin
        ent, member = admin.tenant("audv")
        member.submit(gpus=1, command=["true"])
        path = os.path.join(self.server.data_dir, "audit.log")
        self.assertEqual(self.server.stop(), 0)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        before = audit_lines(path)
        self.assertGreaterEqual(len(before), 3)

        ok = run_cli([BIN, "audit", "--verify", path])
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn(f"{len(before)} lines, the chain is intact", ok.stdout)
        self.assertIn(before[-1]["hash"], ok.stdout)

        # A copy with one status changed: the line is named, the exit code says so.
        forged = os.path.join(self.dir, "forged.log")
        with open(path) as f:
            text = f.read().splitlines(keepends=True)
        text[1] = text[1].replace('"status":201', '"status":200', 1)
        self.assertIn('"status":200', text[1])
        with open(forged, "w") as f:
            f.writelines(text)
        bad = run_cli([BIN, "--json", "audit", "--verify", forged])
        self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
        self.assertEqual(bad.json["first_bad_line"], 2)
        self.assertFalse(bad.json["intact"])
        # A removed line breaks the chain too.
        with open(forged, "w") as f:
            f.writelines(text[:1] + text[2:])
        self.assertEqual(run_cli([BIN, "audit", "--verify", forged]).returncode, 1)
        missing = run_cli([BIN, "audit", "--verify", os.path.join(self.dir, "nope.log")])
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("nope.log", missing.stderr)

        # A restart continues the chain where it stopped.
        self.server.start()
        member.submit(gpus=1, command=["true"])
        after = audit_lines(path)
        self.assertEqual(after[:len(before)], before)
        self.assertEqual(after[len(before)]["seq"], before[-1]["seq"] + 1)
        self.assertEqual(after[len(before)]["prev"], before[-1]["hash"])
        self.assertEqual(run_cli([BIN, "audit", "--verify", path]).returncode, 0)

    def test_config_file_moves_the_trail_and_a_relative_path_is_refused(self):
        trail = os.path.join(self.dir, "trail", "gpuaas-audit.log")
        os.makedirs(os.path.dirname(trail))
        config = os.path.join(self.dir, "gpuaas.toml")
        with open(config, "w") as f:
            f.write(f'[audit]\nfile = "{trail}"\n')
        self.server = Server(demo_gpus="h200:1", extra_args=["--config", config]).start()
        self.server.admin.create_entity(unique("audc"))
        lines = audit_lines(trail)
        self.assertEqual(lines[-1]["path"], "/api/v1/entities")
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "audit.log")))
        self.assertEqual(self.server.stop(), 0)

        for value, message in (('"relative/audit.log"', "audit.file must be an absolute path"),
                               ("7", "audit.file must be an absolute path"),
                               (f'"{self.dir}/no-such-dir/a.log"', "no-such-dir")):
            with open(config, "w") as f:
                f.write(f"[audit]\nfile = {value}\n")
            p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir",
                         os.path.join(self.dir, "data"), "--config", config], timeout=30)
            self.assertNotEqual(p.returncode, 0, value)
            self.assertIn(message, p.stderr, value)
        with open(config, "w") as f:
            f.write('[audit]\npath = "/tmp/x"\n')
        p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir",
                     os.path.join(self.dir, "data"), "--config", config], timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("audit.path", p.stderr)


if __name__ == "__main__":
    unittest.main()
