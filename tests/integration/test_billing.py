"""Billing against the real server: prices, invoices in JSON, CSV and HTML, budgets and their
events, storage, credit notes; and `kill -9` during a month close (nothing lost, closed once).

Last month's usage cannot be produced by running jobs under the real clock, so the crash test
writes a ledger for last month straight into the server's SQLite file while the server is
stopped (the rows the server itself appends when allocations close), then closes that month
under fire."""

import datetime
import http.client
import http.server
import json
import os
import random
import sqlite3
import threading
import unittest
import urllib.error

from harness import Api, Server, poll, require_binary

RATE_H200 = 3_500_000  # micro-euros per GPU-hour (the default catalogue)


def last_month(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    prev = (first - datetime.timedelta(days=1)).replace(day=1)
    return prev, first


def cost(gpus, ms, rate):
    """CostOf: gpus x ms at rate per hour, rounded half up to the micro-euro (per line)."""
    num = gpus * ms * rate
    q, r = divmod(num, 3_600_000)
    return q + (1 if 2 * r >= 3_600_000 else 0)


class BillingApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_binary()
        cls.server = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_prices_invoice_formats_budget_events_storage(self):
        admin = self.server.admin
        ent, member = admin.tenant("bill")
        # Prices: a best-effort rate from now; a member may not set prices.
        r = admin.post("/api/v1/prices", {"gpu_class": "l40s", "rate": "0.40",
                                          "priority_class": "best-effort"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["rate"]["micros"], 400_000)
        self.assertEqual(member.post("/api/v1/prices", {"gpu_class": "l40s", "rate": "1"}).status,
                         403)
        self.assertEqual(admin.post("/api/v1/prices", {"gpu_class": "l40s", "rate": "1",
                                                       "effective_from": "2020-01-01"}).status,
                         422)
        prices = admin.get("/api/v1/prices").json
        self.assertEqual(prices["granularity"], "per-second")
        self.assertEqual(prices["current"]["l40s"]["best-effort"]["micros"], 400_000)

        job = member.submit(gpus=1, gpu_types=["l40s"], command=["sleep", "0.3"],
                            project="nlp", walltime_s=3600)
        self.assertEqual(job["estimated_cost"]["micros"], 1_100_000)  # 1 h x 1.10
        done = member.wait_final(job["id"], timeout=60)
        self.assertEqual(done["state"], "succeeded")
        month = done["started_at"][:7]

        inv = member.get(f"/api/v1/invoices?entity={ent}&month={month}")
        self.assertEqual(inv.status, 200, inv)
        inv = inv.json
        self.assertEqual(inv["status"], "open")
        self.assertEqual(len(inv["lines"]), 1)
        line = inv["lines"][0]
        for key in ("job", "user", "gpu_type", "gpus", "start", "end", "billed_seconds", "rate",
                    "amount", "energy_kwh"):
            self.assertIn(key, line)
        self.assertEqual(line["job"], job["id"])
        self.assertEqual(line["project"], "nlp")
        self.assertEqual(line["amount"]["micros"],
                         cost(1, line["billed_seconds"] * 1000, line["rate"]["micros"]))
        self.assertEqual(inv["total"]["micros"], line["amount"]["micros"])
        self.assertEqual(done["cost"]["micros"], line["amount"]["micros"])

        csv = member.get(f"/api/v1/invoices?entity={ent}&month={month}&format=csv")
        self.assertEqual(csv.status, 200)
        rows = csv.text.strip().splitlines()
        self.assertTrue(rows[0].startswith("job,user,project,gpu_type"))
        self.assertEqual(len(rows), 2)
        self.assertIn(",nlp,l40s,", rows[1])
        html = member.get(f"/api/v1/invoices?entity={ent}&month={month}&format=html")
        self.assertEqual(html.status, 200)
        self.assertIn("<table", html.text)
        # The CLI's invoice verb reads the same JSON and CSV.
        p = self.server.cli("invoice", "--entity", ent, "--month", month, "--format", "csv")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(",nlp,l40s,", p.stdout)

        # Another entity's invoice is not visible to this member.
        other, _ = admin.tenant("other")
        self.assertEqual(member.get(f"/api/v1/invoices?entity={other}&month={month}").status,
                         404)
        # The current month cannot be closed yet; credit notes need a closed month.
        self.assertEqual(admin.post("/api/v1/invoices/close",
                                    {"entity": ent, "month": month}).status, 422)
        self.assertEqual(admin.post("/api/v1/credit-notes",
                                    {"entity": ent, "month": month, "amount": "1.00",
                                     "reason": "x"}).status, 422)

        # A tiny budget: alerts at 80% and 100% reach the event list right after it is set.
        r = admin.call("PUT", f"/api/v1/entities/{ent}/budget",
                       {"monthly": "0.000001", "policy": "best-effort-only"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["policy"], "best-effort-only")
        events = member.get(f"/api/v1/events?entity={ent}").json["events"]
        self.assertEqual([e["kind"] for e in events], ["budget_80", "budget_100"])

        st = member.get(f"/api/v1/entities/{ent}/storage")
        self.assertEqual(st.status, 200, st)
        self.assertEqual(st.json["quota_bytes"], 300_000_000_000)
        self.assertIsNone(st.json["artifactory"])
        self.assertEqual(admin.call("PUT", f"/api/v1/entities/{ent}/storage",
                                    {"quota_bytes": 10**12}).json["quota_bytes"], 10**12)



FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "artifactory")
ARTIFACTORY_TOKEN = "jfrog-reader-token-7f3a"


class FakeArtifactory(http.server.ThreadingHTTPServer):
    """Serves the documented Artifactory answers of fixtures/artifactory for one project key,
    and remembers the Authorization headers it was sent."""

    def __init__(self, project_key):
        self.project_key = project_key
        self.auth_seen = []

        def load(name):
            with open(os.path.join(FIXTURES, name)) as f:
                return f.read().replace("PROJECT", project_key).encode()

        answers = {f"/access/api/v1/projects/{project_key}": load("project.json"),
                   "/artifactory/api/storageinfo": load("storageinfo.json")}
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                fake.auth_seen.append(self.headers.get("Authorization"))
                body = answers.get(self.path)
                status = 200 if body is not None else 404
                body = body or b'{"errors":[{"status":404,"message":"Not found"}]}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.shutdown()
        self.server_close()


class ArtifactoryStorageTest(unittest.TestCase):
    """Where `[storage] artifactory_url` is set, an entity's JFrog project quota and usage are
    shown beside its workspace in the storage answer and beside compute in /api/v1/usage,
    fetched off the event loop (the first answer may say "pending")."""

    def test_storage_beside_compute(self):
        require_binary()
        ent = "acme-art"
        fake = FakeArtifactory(ent)
        self.addCleanup(fake.close)
        server = Server()
        self.addCleanup(server.cleanup)
        cfg = os.path.join(server.data_dir, "gpuaas.toml")
        with open(cfg, "w") as f:
            f.write("[storage]\n"
                    f'artifactory_url = "http://127.0.0.1:{fake.server_address[1]}"\n'
                    f'artifactory_token = "{ARTIFACTORY_TOKEN}"\n')
        server.extra_args += ["--config", cfg]
        server.start()
        admin = server.admin
        admin.create_entity(ent)
        member = admin.with_token(admin.create_user("art-user", ent)["token"])

        def fetched():
            st = member.get(f"/api/v1/entities/{ent}/storage")
            self.assertEqual(st.status, 200, st)
            a = st.json["artifactory"]
            self.assertIsNotNone(a)
            return st.json if "used_bytes" in a else None

        st = poll(fetched, 15, "the Artifactory figures")
        a = st["artifactory"]
        self.assertEqual(a["project_key"], ent)
        self.assertEqual(a["quota_bytes"], 300_000_000_000)
        self.assertEqual(a["used_bytes"], 1_200_034_567)  # its two repositories, not "other"
        self.assertEqual(a["repositories"], 2)
        self.assertIsNone(a["error"])
        self.assertIn(f"Bearer {ARTIFACTORY_TOKEN}", fake.auth_seen)

        job = member.submit(gpus=1, gpu_types=["l40s"], command=["sleep", "0.2"],
                            walltime_s=300)
        member.wait_final(job["id"])
        usage = member.get(f"/api/v1/usage?entity={ent}")
        self.assertEqual(usage.status, 200, usage)
        [row] = usage.json["entities"]
        self.assertEqual(row["storage"]["quota_bytes"], 300_000_000_000)
        self.assertEqual(row["storage"]["artifactory"]["used_bytes"], 1_200_034_567)
        # The CLI's usage table shows both beside the compute columns.
        out = server.cli("usage", "--entity", ent, json_out=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("ARTIFACTORY", out.stdout)
        self.assertIn("1.2 / 300.0 GB", out.stdout)
        # ... and the energy and network measured on the jobs that ended (a process job: the
        # node's simulated GPUs' energy, no network of its own).
        self.assertIn("ENERGY KWH", out.stdout)
        self.assertIn(f"{row['energy_kwh']:.3f}", out.stdout)
        self.assertEqual(row["network"], {"rx_bytes": 0, "tx_bytes": 0})
        self.assertIn("0.000 / 0.000", out.stdout)
        # The reader token is the server's: never in an answer.
        self.assertNotIn(ARTIFACTORY_TOKEN, json.dumps(usage.json) + json.dumps(st))

class MonthCloseCrashTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.server = Server()

    def tearDown(self):
        self.server.cleanup()

    def seed_last_month(self, entities, per_entity):
        """Writes `per_entity` closed allocations of last month per entity into the stopped
        server's database; returns {entity name: expected total in micro-euros}."""
        start, end = last_month()
        t0 = int(start.timestamp() * 1000)
        span = int(end.timestamp() * 1000) - t0
        db = sqlite3.connect(f"{self.server.data_dir}/gpuaas.db")
        rng = random.Random(7)
        expected = {}
        alloc = 1_000_000
        for name, (entity_id, user_id) in entities.items():
            total = 0
            for _ in range(per_entity):
                alloc += 1
                gpus = rng.randint(1, 8)
                s = t0 + rng.randint(0, span - 7_200_000)
                dur = rng.randint(1, 7_200_000)
                db.execute("INSERT INTO usage_records (allocation, job, entity, user, gpu_class, "
                           "gpus, start, \"end\", energy_mwh, idle_gpu_millis) VALUES "
                           "(?, ?, ?, ?, 'h200', ?, ?, ?, ?, 0)",
                           (alloc, alloc, entity_id, user_id, gpus, s, s + dur, dur))
                billed_ms = -(-dur // 1000) * 1000  # per second, the last one started
                total += cost(gpus, billed_ms, RATE_H200)
            expected[name] = total
        db.commit()
        db.close()
        return expected

    def test_kill9_during_close_loses_nothing_and_closes_once(self):
        s = self.server.start()
        admin = s.admin
        entities = {}
        for i in range(30):
            name, member = admin.tenant(f"close{i}")
            who = member.get("/api/v1/whoami").json
            entities[name] = (who["entity"]["id"], who["user"]["id"])
        s.stop()
        expected = self.seed_last_month(entities, 400)
        month = last_month()[0].strftime("%Y-%m")

        s.start()
        answers = {}

        def close(name):
            try:
                r = Api(s.url, s.admin_token).post("/api/v1/invoices/close",
                                                   {"entity": name, "month": month}, timeout=10)
                answers[name] = r
            except (OSError, urllib.error.URLError, http.client.HTTPException):
                answers[name] = None  # the server died under the request

        threads = [threading.Thread(target=close, args=(n,)) for n in entities]
        for t in threads:
            t.start()
        # Kill as soon as the first close is answered: the others are in flight (queued,
        # computing, committing, or answered on the wire).
        poll(lambda: answers, 10, "a first close answer", interval=0.001)
        s.kill9()
        for t in threads:
            t.join(timeout=20)
        acked = {n: r.json for n, r in answers.items() if r is not None and r.status == 200}
        print(f"closes acknowledged before the kill: {len(acked)} of {len(entities)}")

        s.start()
        admin = s.admin
        for name, want in expected.items():
            inv = admin.get(f"/api/v1/invoices?entity={name}&month={month}").json
            if name in acked:
                # Acknowledged: closed, exactly as answered.
                self.assertEqual(inv["status"], "closed", name)
                self.assertEqual(inv["closed_at"], acked[name]["closed_at"], name)
            # Either way nothing is lost: the totals are the ledger's, to the micro-euro.
            self.assertEqual(inv["total"]["micros"], want, name)
            self.assertEqual(len(inv["lines"]), 400, name)
            first = admin.post("/api/v1/invoices/close", {"entity": name, "month": month})
            again = admin.post("/api/v1/invoices/close", {"entity": name, "month": month})
            self.assertEqual(first.status, 200, first)
            self.assertEqual(again.json["closed_at"], first.json["closed_at"], name)
            self.assertEqual(first.json["total"]["micros"], want, name)
            events = admin.get(f"/api/v1/events?entity={name}").json["events"]
            closes = [e for e in events if e["kind"] == "invoice_closed"]
            self.assertEqual(len(closes), 1, f"{name} closed {len(closes)} times")
        # A restart after the closes keeps them frozen.
        s.stop()
        s.start()
        name = next(iter(expected))
        inv = s.admin.get(f"/api/v1/invoices?entity={name}&month={month}").json
        self.assertEqual((inv["status"], inv["total"]["micros"]), ("closed", expected[name]))


if __name__ == "__main__":
    unittest.main()
