"""The platform on PostgreSQL through a real server (docs/operations.md "PostgreSQL"): a
PostgreSQL server of the test's own (initdb + pg_ctl, on a Unix socket in a temporary
directory); `gpuaas server --database ...` migrates an empty database, serves the contract's
flow (entity, member, a 2-GPU job, usage), and after a restart finds everything again; the rows
are in PostgreSQL (read back with psql, and by `gpuaas trace export --database`); an unreachable database stops the server with a clear
error before it prints an admin token."""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, Server, require_binary, run_cli, unique


def pg_bindir():
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
    return out.stdout.strip()


class PostgresServer:
    """initdb + pg_ctl in a fresh directory; as root, run as the postgres user."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gpuaas-pg-it-")
        self.bindir = pg_bindir()
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")
        data = os.path.join(self.dir, "data")
        subprocess.run(self.prefix + [os.path.join(self.bindir, "initdb"), "-D", data, "-A",
                                      "trust", "-U", "gpuaas", "-E", "UTF8", "--no-locale",
                                      "--no-sync"], check=True, capture_output=True)
        subprocess.run(self.prefix + [os.path.join(self.bindir, "pg_ctl"), "-D", data, "-l",
                                      os.path.join(self.dir, "server.log"), "-w", "-o",
                                      f"-k {self.dir} -c listen_addresses=", "start"],
                       check=True, capture_output=True)
        self.psql(["-d", "postgres", "-c", "CREATE DATABASE platform"])

    def conninfo(self, db="platform"):
        return f"host={self.dir} user=gpuaas dbname={db}"

    def psql(self, args):
        return subprocess.run([os.path.join(self.bindir, "psql"), "-h", self.dir, "-U", "gpuaas",
                               "-At"] + args, check=True, capture_output=True, text=True).stdout

    def stop(self):
        subprocess.run(self.prefix + [os.path.join(self.bindir, "pg_ctl"), "-D",
                                      os.path.join(self.dir, "data"), "-m", "fast", "-w",
                                      "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.pg = PostgresServer()
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()
        self.pg.stop()

    def test_the_contract_flow_on_postgres_survives_a_restart(self):
        self.server = Server(demo_gpus="h200:4",
                             extra_args=["--database", self.pg.conninfo()]).start()
        self.assertIn("database PostgreSQL", self.server.log_text())
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "gpuaas.db")))
        admin = self.server.admin
        ent, member = admin.tenant("pg")
        job = member.submit(gpus=2, gpu_types=["h200"], command=["sh", "-c", "sleep 1"])
        final = member.wait_final(job["id"], timeout=60)
        self.assertEqual(final["state"], "succeeded", final)
        usage = member.get(f"/api/v1/usage?entity={ent}").json["entities"]
        self.assertGreater(usage[0]["gpu_seconds"].get("h200", 0), 0, usage)

        # The rows are in PostgreSQL, at the latest schema.
        self.assertEqual(self.pg.psql(["-d", "platform", "-c",
                                       f"SELECT state FROM jobs WHERE id = {job['id']}"]).strip(),
                         "succeeded")
        self.assertIn(ent, self.pg.psql(["-d", "platform", "-c", "SELECT name FROM entities"]))
        versions = self.pg.psql(["-d", "platform", "-c",
                                 "SELECT COUNT(*), MAX(version) FROM schema_migrations"]).strip()
        self.assertEqual(versions.split("|")[0], versions.split("|")[1])

        # The platform's history as a trace, read from PostgreSQL.
        p = run_cli([BIN, "trace", "export", "--database", self.pg.conninfo(), "--quiet"])
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [line.split(",") for line in p.stdout.splitlines()[1:]]
        self.assertEqual([(r[3], r[4]) for r in rows], [("2", ent)], p.stdout)
        p = run_cli([BIN, "trace", "export", "--database", self.pg.conninfo(), "--db", "x.db"])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("give one of --data-dir, --db or --database", p.stderr)

        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        self.assertEqual(member.job(job["id"])["state"], "succeeded")
        again = member.submit(gpus=1, command=["true"])
        self.assertGreater(again["id"], job["id"])
        self.assertEqual(member.wait_final(again["id"], timeout=60)["state"], "succeeded")

    def test_an_unreachable_database_stops_the_server(self):
        data = tempfile.mkdtemp(prefix="gpuaas-pg-bad-")
        try:
            p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir", data,
                         "--database", self.pg.conninfo(unique("nodb"))], timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("postgresql: cannot connect", p.stderr)
            self.assertNotIn("admin token", p.stdout + p.stderr)
            config = os.path.join(data, "gpuaas.toml")
            with open(config, "w") as f:
                f.write("[database]\nurl = 7\n")
            p = run_cli([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir", data,
                         "--config", config], timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("database.url must be a PostgreSQL connection string", p.stderr)
        finally:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
