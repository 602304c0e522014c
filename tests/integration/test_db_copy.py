"""Moving a platform from SQLite to PostgreSQL with `gpuaas db copy` (docs/operations.md
"Moving to PostgreSQL"), through real servers and a PostgreSQL server of the test's own: the
contract's flow on SQLite, the copy refused while the server runs, the copy, the server started
again on PostgreSQL with the same data directory finding every user, token, job and usage row;
one server per data directory and per database (a second one is refused with the reason); a copy
into a database that holds a platform refused; bad locations refused with usage errors."""

import json
import os
import shutil
import tempfile
import unittest

from harness import BIN, Api, Server, require_binary, run_cli
from test_postgres import PostgresServer


class DbCopyTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.pg = PostgresServer()
        self.servers = []
        self.tmp = tempfile.mkdtemp(prefix="gpuaas-dbcopy-")

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        self.pg.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, **kw):
        s = Server(demo_gpus="h200:4", **kw)
        self.servers.append(s)
        return s

    def copy(self, *args):
        return run_cli([BIN, "db", "copy", *args], timeout=120)

    def test_a_sqlite_platform_moves_to_postgresql_and_carries_on(self):
        sqlite = self.server().start()
        data = sqlite.data_dir
        admin = sqlite.admin
        ent, member = admin.tenant("mv")
        job = member.submit(gpus=2, gpu_types=["h200"], command=["sh", "-c", "sleep 1"])
        self.assertEqual(member.wait_final(job["id"], timeout=60)["state"], "succeeded")
        usage = member.get(f"/api/v1/usage?entity={ent}").json["entities"]
        gpu_seconds = usage[0]["gpu_seconds"]["h200"]
        self.assertGreater(gpu_seconds, 0, usage)

        # One server per data directory: a second one stops at once, saying why.
        p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir", data,
                     "--demo-gpus", "h200:4"], timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(f"the data directory {data} is in use by another GPUaaS process (pid "
                      f"{sqlite.proc.pid})", p.stderr)
        # No copy while the server writes.
        p = self.copy("--from", data, "--to", self.pg.conninfo())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f"the database {data}/gpuaas.db is in use by another GPUaaS process",
                      p.stderr)
        self.assertEqual(self.pg.psql(["-d", "platform", "-c",
                                       "SELECT to_regclass('jobs') IS NULL"]).strip(), "t")

        self.assertEqual(sqlite.stop(), 0)
        p = self.copy("--from", data, "--to", self.pg.conninfo(), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        report = json.loads(p.stdout)
        self.assertEqual(report["from"], f"SQLite {data}/gpuaas.db")
        self.assertEqual(report["to"], f"PostgreSQL platform on {self.pg.dir}")
        self.assertEqual(report["tables"]["entities"], 1)
        self.assertEqual(report["tables"]["users"], 2)  # the admin and the member
        self.assertEqual(report["tables"]["jobs"], 1)
        self.assertEqual(report["tables"]["usage_records"], 1)
        self.assertEqual(report["rows"], sum(n for t, n in report["tables"].items()
                                             if t != "invoice_lines"))
        self.assertEqual(self.pg.psql(["-d", "platform", "-c",
                                       f"SELECT state FROM jobs WHERE id = {job['id']}"]).strip(),
                         "succeeded")

        # The same data directory (logs, audit trail, secrets), now on PostgreSQL: the member's
        # token, the job, its log and its usage are all there, and new ids follow the old ones.
        pg = self.server(data_dir=data, extra_args=["--database", self.pg.conninfo()])
        pg.start()
        self.assertIn("database PostgreSQL", pg.log_text())
        member = Api(pg.url, member.token)
        self.assertEqual(member.job(job["id"])["state"], "succeeded")
        again = member.get(f"/api/v1/usage?entity={ent}").json["entities"]
        self.assertEqual(again[0]["gpu_seconds"]["h200"], gpu_seconds)
        second = member.submit(gpus=1, command=["true"])
        self.assertGreater(second["id"], job["id"])
        self.assertEqual(member.wait_final(second["id"], timeout=60)["state"], "succeeded")
        p = run_cli([BIN, "audit", "--verify", os.path.join(data, "audit.log")])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)  # one chain across both

        # One server per database: another data directory on the same database is refused.
        other = tempfile.mkdtemp(prefix="gpuaas-dbcopy-other-", dir=self.tmp)
        p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir", other,
                     "--database", self.pg.conninfo()], timeout=30)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("the PostgreSQL database is in use by another GPUaaS process "
                      "(PostgreSQL backend pid", p.stderr)
        self.assertEqual(pg.stop(), 0)

        # A database that holds a platform is never written over.
        p = self.copy("--from", data, "--to", self.pg.conninfo())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("already holds a platform (1 entities, 2 users", p.stderr)
        self.assertEqual(self.pg.psql(["-d", "platform", "-c", "SELECT COUNT(*) FROM jobs"])
                         .strip(), "2")
        # And back, into a new SQLite file: every row, the second job included.
        back = os.path.join(self.tmp, "back.db")
        p = self.copy("--from", self.pg.conninfo(), "--to", back)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"to SQLite {back}", p.stdout)
        self.assertIn("jobs 2,", p.stdout)

    def test_bad_locations_are_usage_errors(self):
        p = self.copy("--from", os.path.join(self.tmp, "nope.db"), "--to",
                      os.path.join(self.tmp, "x.db"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no database file at", p.stderr)
        p = self.copy("--from", os.path.join(self.tmp, "a.db"), "--to", "host='unterminated")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--to: not a PostgreSQL connection string", p.stderr)
        p = self.copy("--from", os.path.join(self.tmp, "a.db"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--to is required", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.db")))


if __name__ == "__main__":
    unittest.main()
