"""The Python client (clients/python/gpuaas_client) against a real server: every method it wraps,
called on the live API, and its error paths (401, 400/422 validation, 403, 404, 409, no answer,
a socket timeout, a redirect, a non-JSON error, an oversized answer). The last test checks that
every public method of the client was exercised by the others."""

import datetime
import decimal
import http.server
import inspect
import os
import re
import socket
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

from harness import REPO, ServerTestCase, poll, unique

sys.path.insert(0, os.path.join(REPO, "clients", "python"))

import gpuaas_client  # noqa: E402
from gpuaas_client import (  # noqa: E402
    FINAL_STATES, Client, GpuaasConnectionError, GpuaasError, JobWaitTimeout)

# Every public method of Client, recorded when called through a RecordingClient.
CALLED = set()
PUBLIC_METHODS = {name for name, fn in inspect.getmembers(Client, inspect.isfunction)
                  if not name.startswith("_")}


class RecordingClient(Client):
    """A Client that notes which of its public methods the tests called."""

    def __getattribute__(self, name):
        if name in PUBLIC_METHODS:
            CALLED.add(name)
        return super().__getattribute__(name)


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


class PythonClientTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        # Notebooks get a port range of their own (parallel servers never share a port).
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cls.nb_port = s.getsockname()[1]
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        cls.config.write(f'[notebooks]\nports = "{cls.nb_port}-{cls.nb_port}"\n')
        cls.config.close()
        cls.SERVER_ARGS = ("--config", cls.config.name)
        super().setUpClass()
        cls.ran = set()
        cls.c = RecordingClient(cls.server.url, cls.server.admin_token, timeout=30)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(cls.config.name)

    def setUp(self):
        type(self).ran.add(self._testMethodName)

    def tenant(self, prefix="py"):
        """A fresh entity and a RecordingClient of a member of it."""
        ent = unique(prefix)
        self.c.create_entity(ent)
        user = self.c.create_user(unique(prefix + "u"), entity=ent)
        return ent, self.c.with_token(user["token"])

    def track(self, client, job):
        """Cancels the job at the end of the test if it is still not final (a failed test must
        not leave workloads running)."""
        def cancel():
            try:
                if client.get_job(job)["state"] not in FINAL_STATES:
                    client.cancel_job(job)
            except GpuaasError:
                pass
        self.addCleanup(cancel)
        return job

    def assertApiError(self, ctx, status, code, pattern=None):
        e = ctx.exception
        self.assertIsInstance(e, GpuaasError)
        self.assertEqual(e.status, status, repr(e))
        self.assertEqual(e.code, code, repr(e))
        self.assertEqual(e.error.get("code"), code, e.error)
        self.assertTrue(e.message, repr(e))
        self.assertEqual(e.error.get("message"), e.message)
        self.assertIn(str(status), str(e))
        self.assertIn(code, str(e))
        if pattern:
            self.assertRegex(e.message, pattern)

    # --- health, identity, configuration ------------------------------------------------------

    def test_health_ready_metrics_whoami(self):
        anon = RecordingClient(self.server.url, token="")
        self.assertEqual(anon.health(), {"status": "ok"})
        self.assertIs(anon.ready(), True)
        self.assertRegex(anon.metrics(), r"(?m)^# (TYPE|HELP) gpuaas_\w+")
        who = self.c.whoami()
        self.assertEqual(who["user"]["role"], "platform-admin")
        ent, member = self.tenant()
        who = member.whoami()
        self.assertEqual((who["user"]["role"], who["entity"]["name"]), ("member", ent))
        self.assertIn("token=set", repr(member))
        self.assertNotIn(member.token, repr(member))

    def test_env_vars_and_arguments(self):
        _, member = self.tenant()
        with mock.patch.dict(os.environ, {"GPUAAS_URL": self.server.url + "/",
                                          "GPUAAS_TOKEN": member.token + "\n"}):
            c = RecordingClient()
            self.assertEqual(c.base_url, self.server.url)
            self.assertEqual(c.token, member.token)
            self.assertEqual(c.whoami()["user"]["role"], "member")
            # Explicit arguments win over the environment.
            admin = RecordingClient(self.server.url, self.server.admin_token)
            self.assertEqual(admin.whoami()["user"]["role"], "platform-admin")
            with self.assertRaises(GpuaasConnectionError):
                RecordingClient("http://127.0.0.1:1", timeout=5).whoami()
        with mock.patch.dict(os.environ, {}, clear=True):
            c = RecordingClient()
            self.assertEqual(c.base_url, gpuaas_client.DEFAULT_URL)
            self.assertIsNone(c.token)
        # The CLI's saved login (`gpuaas login`): its server and token, for that server only;
        # not used when others may read it.
        with tempfile.TemporaryDirectory() as home:
            os.makedirs(os.path.join(home, ".config", "gpuaas"), mode=0o700)
            saved = os.path.join(home, ".config", "gpuaas", "login.json")
            with open(saved, "w") as f:
                f.write(f'{{"url": "{self.server.url}/", "token": "{member.token}", '
                        '"user": "x", "ca_file": "", "expires_at": ""}')
            os.chmod(saved, 0o600)
            with mock.patch.dict(os.environ, {"HOME": home}, clear=True):
                c = RecordingClient()
                self.assertEqual(c.base_url, self.server.url)
                self.assertEqual(c.whoami()["user"]["role"], "member")
                self.assertIsNone(Client("http://127.0.0.1:1").token)
                os.chmod(saved, 0o644)
                with self.assertWarnsRegex(UserWarning, "may be read by others"):
                    c = Client()
                self.assertIsNone(c.token)
                self.assertEqual(c.base_url, gpuaas_client.DEFAULT_URL)
        for bad in ("127.0.0.1:8080", "ftp://x", "http://"):
            with self.assertRaises(ValueError):
                Client(bad)
        for bad in (0, -1, float("inf")):
            with self.assertRaises(ValueError):
                Client(self.server.url, timeout=bad)

    def test_nodes_classes_environments_telemetry(self):
        nodes = self.c.list_nodes()
        by_class = {}
        for n in nodes:
            for g in n["gpus"]:
                by_class[g["gpu_class"]] = by_class.get(g["gpu_class"], 0) + 1
        self.assertEqual(by_class, {"h200": 8, "l40s": 4})
        self.assertEqual({c["name"] for c in self.c.gpu_classes()}, {"h200", "l40s"})
        envs = self.c.environments()
        self.assertIsInstance(envs, list)
        for e in envs:
            self.assertTrue({"name", "image", "description"} <= set(e), e)
        node = nodes[0]["name"]
        tel = self.c.node_telemetry(node, limit=5)
        self.assertEqual(tel["node"], node)
        self.assertEqual(len(tel["gpus"]), len(nodes[0]["gpus"]))
        self.assertTrue(all(len(g["samples"]) <= 5 for g in tel["gpus"]), tel)
        with self.assertRaises(GpuaasError) as ctx:
            self.c.node_telemetry(node, limit=0)
        self.assertApiError(ctx, 400, "bad_request")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.node_telemetry("no-such-node")
        self.assertApiError(ctx, 404, "not_found", "no-such-node")

    def test_node_cordon_drain_resume(self):
        node = [n for n in self.c.list_nodes() if n["gpus"][0]["gpu_class"] == "l40s"][0]["name"]
        _, member = self.tenant()
        with self.assertRaises(GpuaasError) as ctx:
            member.cordon_node(node)
        self.assertApiError(ctx, 403, "forbidden")
        try:
            self.assertEqual(self.c.cordon_node(node)["name"], node)
            cordoned = [n for n in self.c.list_nodes() if n["name"] == node][0]
            self.assertNotEqual(cordoned["state"], "ready", cordoned)
            self.assertEqual(self.c.drain_node(node)["name"], node)
        finally:
            resumed = self.c.resume_node(node)
        self.assertEqual(resumed["state"], "ready", resumed)

    # --- entities, users, tokens, secrets, storage ---------------------------------------------

    def test_entities_users_tokens(self):
        ent = unique("pyent")
        e = self.c.create_entity(ent, quota={"h200": 2, "l40s": 1}, shares=3)
        self.assertEqual((e["name"], e["quota"], e["shares"]), (ent, {"h200": 2, "l40s": 1}, 3))
        self.assertEqual(self.c.get_entity(ent)["id"], e["id"])
        self.assertIn(ent, [x["name"] for x in self.c.list_entities()])
        upd = self.c.update_entity(ent, quota={"h200": 4}, guarantee={"h200": 1})
        self.assertEqual((upd["quota"]["h200"], upd["guarantee"]), (4, {"h200": 1}))
        with self.assertRaises(GpuaasError) as ctx:
            self.c.update_entity(ent)  # nothing to change
        self.assertApiError(ctx, 400, "bad_request")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.create_entity(ent)
        self.assertApiError(ctx, 409, "conflict")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.create_entity(unique("pyent"), quota={"a100": 1})
        self.assertApiError(ctx, 422, "unprocessable")

        boss_user = self.c.create_user(unique("boss"), entity=ent, role="entity-admin")
        self.assertRegex(boss_user["token"], r"^gpa_[0-9a-f]{64}$")
        boss = self.c.with_token(boss_user["token"])
        self.assertIsInstance(boss, RecordingClient)
        self.assertEqual(boss.whoami()["user"]["role"], "entity-admin")
        alice = boss.create_user(unique("alice"), entity=ent)
        self.assertEqual((alice["role"], alice["entity"]), ("member", ent))
        self.assertEqual({u["name"] for u in boss.list_users()},
                         {boss_user["name"], alice["name"]})
        fresh = boss.create_token(alice["name"])
        self.assertEqual(fresh["user"], alice["name"])
        self.assertNotEqual(fresh["token"], alice["token"])
        for tok in (fresh["token"], alice["token"]):  # old tokens stay valid
            self.assertEqual(self.c.with_token(tok).whoami()["user"]["name"], alice["name"])
        self.assertEqual([t["id"] for t in boss.list_tokens(alice["name"])],
                         [alice["token_id"], fresh["token_id"]])
        boss.revoke_token(alice["name"], fresh["token_id"])
        with self.assertRaises(GpuaasError) as ctx:
            self.c.with_token(fresh["token"]).whoami()
        self.assertApiError(ctx, 401, "unauthenticated")
        with self.assertRaises(GpuaasError) as ctx:
            boss.revoke_token(alice["name"], fresh["token_id"])
        self.assertApiError(ctx, 404, "not_found")
        spare = boss.create_token(alice["name"], expires_in_s=3600)
        self.assertIsNotNone(spare["expires_at"])
        self.assertIsNone(fresh["expires_at"])
        self.assertEqual(boss.revoke_tokens(alice["name"]), 2)
        self.assertEqual(boss.list_tokens(alice["name"]), [])
        alice["token"] = boss.create_token(alice["name"])["token"]  # she is given a new one
        member = self.c.with_token(alice["token"])
        with self.assertRaises(GpuaasError) as ctx:
            member.create_user(unique("eve"), entity=ent)
        self.assertApiError(ctx, 403, "forbidden")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.create_user(unique("bob"), entity=unique("nowhere"))
        self.assertApiError(ctx, 404, "not_found")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.get_entity(unique("nowhere"))
        self.assertApiError(ctx, 404, "not_found")
        # Directory group mappings (single sign-on): the entity's admin keeps its own.
        group = "/bank/" + unique("team")
        m = boss.map_group(group, entity=ent, role="entity-admin")
        self.assertEqual((m["group"], m["entity"], m["role"], m["created_by"]),
                         (group, ent, "entity-admin", boss_user["name"]))
        self.assertEqual([x["id"] for x in boss.list_group_mappings()], [m["id"]])
        with self.assertRaises(GpuaasError) as ctx:
            boss.map_group(group, entity=ent)
        self.assertApiError(ctx, 409, "conflict")
        with self.assertRaises(GpuaasError) as ctx:
            member.list_group_mappings()
        self.assertApiError(ctx, 403, "forbidden")
        boss.unmap_group(m["id"])
        self.assertEqual(boss.list_group_mappings(), [])
        self.assertFalse(alice["from_directory"])
        # Alice leaves: disabled, her token refused; back: the same token works again.
        job = member.submit_job(["sleep", "600"], gpus=1)
        off = boss.update_user(alice["name"], disabled=True)
        self.assertIsNotNone(off["disabled_at"])
        self.assertEqual((off["unfinished_jobs"], off["cancelled_jobs"]), (1, []))
        off = boss.update_user(alice["name"], disabled=True, cancel_jobs=True)
        self.assertEqual((off["unfinished_jobs"], off["cancelled_jobs"]), (0, [job["id"]]))
        self.assertEqual(boss.get_job(job["id"])["state"], "cancelled")
        with self.assertRaises(GpuaasError) as ctx:
            member.whoami()
        self.assertApiError(ctx, 401, "unauthenticated")
        self.assertIn("is disabled", str(ctx.exception))
        self.assertIsNone(boss.update_user(alice["name"], disabled=False)["disabled_at"])
        self.assertEqual(boss.update_user(alice["name"], role="entity-admin")["role"],
                         "entity-admin")
        self.assertEqual(member.whoami()["user"]["role"], "entity-admin")
        with self.assertRaises(GpuaasError) as ctx:
            boss.update_user(alice["name"], role="platform-admin")
        self.assertApiError(ctx, 403, "forbidden")

    def test_secrets_reach_a_job_and_storage(self):
        ent, member = self.tenant()
        s = self.c.put_secret(ent, "API_KEY", "s3cr3t-value")
        self.assertEqual((s["name"], s["size"]), ("API_KEY", len("s3cr3t-value")))
        self.assertNotIn("value", s)
        self.assertEqual([x["name"] for x in self.c.list_secrets(ent)], ["API_KEY"])
        with self.assertRaises(GpuaasError) as ctx:
            member.list_secrets(ent)
        self.assertApiError(ctx, 403, "forbidden")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.put_secret(ent, "PATH", "x")
        self.assertApiError(ctx, 422, "unprocessable")

        job = member.submit_job(["sh", "-c", 'test "$API_KEY" = s3cr3t-value'], gpus=1,
                                secrets=["API_KEY"], workspace="none", walltime_s=120)
        self.assertEqual(job["secrets"], ["API_KEY"])
        done = member.wait_job(job, timeout=60)
        self.assertEqual((done["state"], done["exit_code"]), ("succeeded", 0), done)

        self.assertIsNone(self.c.delete_secret(ent, "API_KEY"))
        self.assertEqual(self.c.list_secrets(ent), [])
        with self.assertRaises(GpuaasError) as ctx:
            self.c.delete_secret(ent, "API_KEY")
        self.assertApiError(ctx, 404, "not_found")

        st = member.get_storage(ent)
        self.assertEqual(st["entity"], ent)
        self.assertIn("quota_bytes", st)
        self.assertEqual(self.c.set_storage_quota(ent, 10**12)["quota_bytes"], 10**12)
        with self.assertRaises(GpuaasError) as ctx:
            member.set_storage_quota(ent, 1)
        self.assertApiError(ctx, 403, "forbidden")

    # --- jobs ------------------------------------------------------------------------------

    def test_two_gpu_job_wait_logs_usage_invoice(self):
        ent, member = self.tenant()
        job = member.submit_job(["sh", "-c", "echo $CUDA_VISIBLE_DEVICES; sleep 1"], gpus=2,
                                gpu_types="h200", walltime_s=datetime.timedelta(minutes=10),
                                name="hello", project="pyclient")
        self.assertEqual((job["kind"], job["gpus"], job["entity"]), ("job", 2, ent))
        self.assertEqual((job["gpu_types"], job["walltime_s"], job["name"]),
                         (["h200"], 600, "hello"))
        self.assertIn(job["state"], {"queued", "starting", "running"})
        done = member.wait_job(job["id"], timeout=60)
        self.assertEqual((done["state"], done["exit_code"], done["gpu_type"]),
                         ("succeeded", 0, "h200"), done)
        self.assertEqual(len(done["gpu_ids"]), 2)
        self.assertEqual(member.get_job(job)["state"], "succeeded")
        self.assertGreater(done["cost"]["micros"], 0, done)

        logs = poll(lambda: member.job_logs(job).strip(), 15, "the job's log")
        self.assertEqual(sorted(int(x) for x in logs.split(",")), sorted(done["gpu_ids"]))
        self.assertEqual(member.job_logs(job, tail_bytes=2, rank=0), logs[-1] + "\n")
        with self.assertRaises(GpuaasError) as ctx:
            member.job_logs(job, rank=5)
        self.assertApiError(ctx, 400, "bad_request", "rank")

        frm, to = today() - datetime.timedelta(days=1), today() + datetime.timedelta(days=1)
        usage = member.usage(entity=ent, from_=frm, to=to)
        rows = [r for r in usage["entities"] if r["entity"] == ent]
        self.assertEqual(len(rows), 1, usage)
        self.assertGreaterEqual(rows[0]["gpu_seconds"]["h200"], 2 * 1.0 - 0.1, usage)
        self.assertEqual(rows[0]["cost"]["micros"], done["cost"]["micros"], usage)
        since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        self.assertEqual(member.usage(from_=since)["entities"][0]["entity"], ent)
        self.assertEqual([e["entity"] for e in member.fairshare()["entities"]], [ent])
        sized = member.size("7B", 1e9, method="lora", gpu_types=["h200"], epochs=2)
        self.assertEqual((sized["entity"], sized["workload"]["epochs"]), (ent, 2))
        self.assertEqual(sized["options"][sized["fastest"]]["gpu_type"], "h200")
        served = member.size("8B", method="inference", precision="fp8", concurrency=8,
                             hours=24, gpu_types=["l40s"])
        self.assertEqual(served["workload"]["precision"], "fp8")
        self.assertGreaterEqual(served["options"][0]["max_concurrency"], 8)
        with self.assertRaises(GpuaasError) as ctx:
            member.size("7B", "1B", method="dora")
        self.assertApiError(ctx, 422, "unprocessable", "unknown method")
        with self.assertRaises(GpuaasError) as ctx:
            member.usage(from_=to, to=frm)
        self.assertApiError(ctx, 400, "bad_request")

        month = done["started_at"][:7]
        inv = member.invoice(ent, month)
        self.assertEqual((inv["entity"], inv["month"], inv["status"]), (ent, month, "open"))
        self.assertEqual([ln["job"] for ln in inv["lines"]], [job["id"]])
        self.assertEqual(inv["lines"][0]["project"], "pyclient")
        self.assertEqual(inv["total"]["micros"], done["cost"]["micros"])
        csv = member.invoice(ent, datetime.date.fromisoformat(month + "-01"), format="csv")
        self.assertTrue(csv.startswith("job,"), csv)
        self.assertEqual(len(csv.strip().splitlines()), 2, csv)
        self.assertIn("<table", member.invoice(ent, month, format="html"))
        with self.assertRaises(ValueError):
            member.invoice(ent, month, format="pdf")
        other, _ = self.tenant("pyother")
        with self.assertRaises(GpuaasError) as ctx:
            member.invoice(other, month)
        self.assertApiError(ctx, 404, "not_found")

    def test_list_and_iterate_pages(self):
        _, member = self.tenant()
        ids = [member.submit_job(["true"], gpus=1, walltime_s=60)["id"] for _ in range(3)]
        for i in ids:
            member.wait_job(i, timeout=60)
        page = member.list_jobs(limit=1)
        self.assertEqual([j["id"] for j in page["jobs"]], ids[:1])
        self.assertEqual(page["next_after"], ids[0])
        page = member.list_jobs(limit=2, after=ids[0])
        self.assertEqual([j["id"] for j in page["jobs"]], ids[1:])
        self.assertEqual([j["id"] for j in member.iter_jobs(page_size=1)], ids)
        self.assertEqual([j["id"] for j in member.iter_jobs(page_size=2, max_jobs=2)], ids[:2])
        self.assertEqual([j["id"] for j in member.iter_jobs(state="succeeded")], ids)
        self.assertEqual(list(member.iter_jobs(state="running")), [])
        with self.assertRaises(GpuaasError) as ctx:
            member.list_jobs(state="bogus")
        self.assertApiError(ctx, 400, "bad_request", "bogus")
        with self.assertRaises(ValueError):
            list(member.iter_jobs(page_size=0))

    def test_cancel_wait_timeout_and_conflict(self):
        _, member = self.tenant()
        job = self.track(member, member.submit_job(["sleep", "60"], gpus=1, walltime_s=300))
        t0 = time.monotonic()
        with self.assertRaises(JobWaitTimeout) as ctx:
            member.wait_job(job, timeout=1, poll_interval=0.2)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIsInstance(ctx.exception, TimeoutError)
        self.assertIsInstance(ctx.exception, GpuaasError)
        self.assertEqual(ctx.exception.job["id"], job["id"])
        self.assertNotIn(ctx.exception.job["state"], FINAL_STATES)
        running = member.wait_job(job, states={"running"}, timeout=30)
        self.assertEqual(running["state"], "running")
        cancelled = member.cancel_job(job)
        self.assertEqual(cancelled["state"], "cancelled")
        self.assertEqual(member.wait_job(job, timeout=30)["state"], "cancelled")
        with self.assertRaises(GpuaasError) as ctx:
            member.cancel_job(job)
        self.assertApiError(ctx, 409, "conflict")
        with self.assertRaises(ValueError):
            member.wait_job(job, states={"finished"})
        with self.assertRaises(ValueError):
            member.wait_job(job, timeout=float("inf"))

    def test_notebook_service_allocation(self):
        _, member = self.tenant()
        nb = self.track(member, member.submit_notebook(gpus=1, gpu_types=["l40s"], walltime_s=600))
        self.assertEqual(nb["kind"], "notebook")
        self.assertEqual(nb["url"], f"/notebooks/{nb['id']}/")
        self.assertEqual(member.notebook_url(nb), f"{self.server.url}/notebooks/{nb['id']}/")
        with self.assertRaises(ValueError):
            member.notebook_url({"id": 1, "url": None})

        svc = self.track(member, member.submit_service(["sleep", "120"], gpus=1,
                                                       gpu_types=["l40s"], name="infer",
                                                       walltime_s=600))
        self.assertEqual((svc["kind"], svc["name"]), ("service", "infer"))
        alloc = self.track(member, member.submit_allocation(
            gpus=1, gpu_types="l40s", walltime_s=datetime.timedelta(minutes=5)))
        self.assertEqual((alloc["kind"], alloc["walltime_s"]), ("allocation", 300))
        for j in (svc, alloc):
            self.assertEqual(member.wait_job(j, states={"running"}, timeout=30)["state"],
                             "running")
        for j in (nb, svc, alloc):
            if member.get_job(j)["state"] not in FINAL_STATES:
                member.cancel_job(j)
            self.assertEqual(member.wait_job(j, timeout=60)["state"], "cancelled")
        with self.assertRaises(GpuaasError) as ctx:
            member.submit_service(None, gpus=1)  # a service needs a command
        self.assertIn(ctx.exception.status, (400, 422), repr(ctx.exception))

    def test_estimate(self):
        _, member = self.tenant()
        est = member.estimate(gpus=2, gpu_types=["h200", "l40s"], walltime_s=3600)
        self.assertEqual(est["gpus"], 2)
        self.assertEqual([o["gpu_type"] for o in est["options"]], ["h200", "l40s"])
        for key in ("gpu_type", "estimated_start", "queue_position", "rate", "price", "cost"):
            self.assertIn(key, est)
        self.assertEqual(est["cost"]["currency"], "EUR")
        with self.assertRaises(GpuaasError) as ctx:
            member.estimate(gpus=1, gpu_types=["a100"])
        self.assertApiError(ctx, 422, "unprocessable")

    def test_validation_and_auth_errors(self):
        ent, member = self.tenant()
        for tok in ("gpa_" + "1" * 64, "nonsense"):
            with self.assertRaises(GpuaasError) as ctx:
                self.c.with_token(tok).list_jobs()
            self.assertApiError(ctx, 401, "unauthenticated")
        with self.assertRaises(GpuaasError) as ctx:
            RecordingClient(self.server.url, token="").whoami()
        self.assertApiError(ctx, 401, "unauthenticated", "token")
        with self.assertRaises(GpuaasError) as ctx:
            member.submit_job(["true"], gpus=0)
        self.assertApiError(ctx, 422, "unprocessable", "gpus")
        with self.assertRaises(GpuaasError) as ctx:
            member.submit_job(["true"], gpus="two")
        self.assertApiError(ctx, 400, "bad_request", "gpus")
        with self.assertRaises(GpuaasError) as ctx:
            member.submit_job(["true"], environment="no-such-env")
        self.assertApiError(ctx, 422, "unprocessable", "unknown environment")
        with self.assertRaises(GpuaasError) as ctx:
            member.submit_job(["true"], gpus=17, gpu_types=["h200"])
        self.assertApiError(ctx, 422, "unprocessable", "never run")
        with self.assertRaises(GpuaasError) as ctx:
            member.get_job(999999)
        self.assertApiError(ctx, 404, "not_found", "999999")
        # Another entity's job is "not found" as well, never "forbidden".
        _, other = self.tenant("pyother")
        theirs = other.submit_job(["true"], gpus=1)
        with self.assertRaises(GpuaasError) as ctx:
            member.get_job(theirs)
        self.assertApiError(ctx, 404, "not_found")
        with self.assertRaises(GpuaasError) as ctx:
            member.cancel_job(theirs)
        self.assertApiError(ctx, 404, "not_found")
        # Checked by the client before sending.
        with self.assertRaises(TypeError):
            member.submit_job("python train.py")
        with self.assertRaises(TypeError):
            member.get_job(None)

    # --- billing, budgets, forecast ---------------------------------------------------------

    def test_prices_budget_events_invoice_close_credit_note(self):
        ent, member = self.tenant()
        prices = member.prices()
        self.assertEqual(prices["currency"], "EUR")
        self.assertIn("h200", prices["current"])
        future = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
        p = self.c.add_price("l40s", decimal.Decimal("9.99"), effective_from=future,
                             priority_class="best-effort")
        self.assertEqual((p["rate"]["amount"], p["effective_from"][:10]), ("9.99", "2099-01-01"))
        self.assertIn(p["id"], [x["id"] for x in self.c.prices()["prices"]])
        with self.assertRaises(GpuaasError) as ctx:
            member.add_price("l40s", "1.00")
        self.assertApiError(ctx, 403, "forbidden")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.add_price("l40s", "1.00", effective_from="2020-01-01")
        self.assertApiError(ctx, 422, "unprocessable")

        job = member.submit_job(["sleep", "0.3"], gpus=1, gpu_types=["l40s"], walltime_s=60)
        member.wait_job(job, timeout=60)
        b = self.c.set_budget(ent, "100.00", policy="refuse")
        self.assertEqual((b["monthly"]["amount"], b["policy"]), ("100.00", "refuse"))
        self.assertEqual(member.get_budget(ent)["monthly"]["amount"], "100.00")
        # A tiny budget: the 80 % and 100 % alerts reach the event list.
        self.c.set_budget(ent, 0.000001, policy="best-effort-only")
        kinds = [e["kind"] for e in member.billing_events(entity=ent)]
        self.assertEqual(kinds, ["budget_80", "budget_100"])
        self.assertIsNone(self.c.set_budget(ent, 0)["monthly"])
        with self.assertRaises(GpuaasError) as ctx:
            member.set_budget(ent, "1.00")
        self.assertApiError(ctx, 403, "forbidden")

        this_month = today().strftime("%Y-%m")
        last_month = (today().replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.close_invoice(ent, this_month)
        self.assertApiError(ctx, 422, "unprocessable")
        closed = self.c.close_invoice(ent, last_month)
        self.assertEqual((closed["month"], closed["status"]), (last_month, "closed"))
        self.assertEqual(self.c.close_invoice(ent, last_month)["closed_at"], closed["closed_at"])
        self.assertIn("invoice_closed", [e["kind"] for e in self.c.billing_events(entity=ent)])
        # Nothing was billed last month: a credit note larger than the total is refused.
        with self.assertRaises(GpuaasError) as ctx:
            self.c.create_credit_note(ent, last_month, "1.00", "goodwill")
        self.assertApiError(ctx, 422, "unprocessable")

    def test_forecast(self):
        _, member = self.tenant()
        member.wait_job(member.submit_job(["true"], gpus=1), timeout=60)
        fc = self.c.forecast(weeks=4, lead_time="2w", gpu_class="any", growth=1.1,
                             max_utilization=0.9)
        self.assertEqual((fc["horizon_weeks"], fc["lead_time_s"]), (4, 14 * 86400))
        self.assertIsInstance(fc["classes"], list)
        with self.assertRaises(GpuaasError) as ctx:
            member.forecast()
        self.assertApiError(ctx, 403, "forbidden")
        with self.assertRaises(GpuaasError) as ctx:
            self.c.forecast(weeks=0)
        self.assertApiError(ctx, 400, "bad_request")

    def test_audit(self):
        ent, member = self.tenant()
        job = member.submit_job(["true"], gpus=1)
        mine = list(self.c.iter_audit(entity=ent, page_size=1))
        self.assertIn(("POST", "/api/v1/jobs", 201),
                      [(e["method"], e["path"], e["status"]) for e in mine])
        self.assertEqual({e["entity"] for e in mine}, {ent})
        seqs = [e["seq"] for e in mine]
        self.assertEqual(seqs, sorted(seqs, reverse=True))
        page = self.c.audit(entity=ent, limit=1)
        self.assertEqual(page["entries"], mine[:1])
        self.assertEqual(len(list(self.c.iter_audit(max_entries=2))), 2)
        with self.assertRaises(GpuaasError) as ctx:
            member.audit()
        self.assertApiError(ctx, 403, "forbidden")
        with self.assertRaises(ValueError):
            next(self.c.iter_audit(page_size=0))
        member.wait_job(job, timeout=60)

    # --- transport limits, against a fake server ---------------------------------------------

    def test_transport_limits_and_odd_answers(self):
        # A socket that accepts connections (the kernel's backlog) but never answers.
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        self.addCleanup(silent.close)
        outcome = []

        def call():
            try:
                RecordingClient(f"http://127.0.0.1:{silent.getsockname()[1]}",
                                timeout=0.5).health()
                outcome.append(None)
            except Exception as e:  # noqa: BLE001 - checked below
                outcome.append(e)

        caller = threading.Thread(target=call, daemon=True)  # a hang must not hang the suite
        caller.start()
        caller.join(10)
        self.assertFalse(caller.is_alive(), "the socket timeout was not applied")
        self.assertIsInstance(outcome[0], GpuaasConnectionError)
        self.assertIsNone(outcome[0].status)
        self.assertIn("timeout", str(outcome[0]).lower())

        class Fake(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/api/v1/whoami"):  # a redirect elsewhere
                    self.send_response(302)
                    self.send_header("Location", "http://127.0.0.1:1/steal")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/api/v1/forecast"):  # busy: retry later
                    body = b'{"error":{"code":"rate_limited","message":"busy"}}'
                    self.send_response(429)
                    self.send_header("Retry-After", "5")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                body = b"<html>bad gateway</html>"
                self.send_response(502)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
        threading.Thread(target=fake.serve_forever, daemon=True).start()
        self.addCleanup(fake.server_close)
        self.addCleanup(fake.shutdown)
        fc = RecordingClient(f"http://127.0.0.1:{fake.server_address[1]}", "gpa_x", timeout=5)
        with self.assertRaises(GpuaasError) as ctx:
            fc.whoami()
        self.assertEqual(ctx.exception.status, 302, "a redirect must not be followed")
        with self.assertRaises(GpuaasError) as ctx:
            fc.list_nodes()
        self.assertEqual((ctx.exception.status, ctx.exception.code), (502, None))
        self.assertIn("bad gateway", ctx.exception.message)
        self.assertIsNone(ctx.exception.retry_after)
        with self.assertRaises(GpuaasError) as ctx:
            fc.forecast()
        self.assertEqual((ctx.exception.status, ctx.exception.code), (429, "rate_limited"))
        self.assertEqual(ctx.exception.retry_after, 5.0)

        # An answer larger than the client accepts is refused, not read whole.
        small = RecordingClient(self.server.url, self.server.admin_token, max_response_bytes=64)
        with self.assertRaises(GpuaasError) as ctx:
            small.list_nodes()
        self.assertIn("max_response_bytes", str(ctx.exception))

    # --- the client wraps only endpoints that exist, and all of them were exercised ------------

    def test_routes_exist_in_the_openapi_description(self):
        with open(os.path.join(REPO, "docs", "openapi.yaml")) as f:
            documented = {re.sub(r"\{[^}]*\}", "{}", p)
                          for p in re.findall(r"(?m)^  (/\S+):\s*$", f.read())}
        src = inspect.getsource(gpuaas_client.client)
        used = {re.sub(r"\{[^}]*\}", "{}", p)
                for p in re.findall(r'f?"(/(?:api/v1|healthz|readyz|metrics)[^"?]*)"', src)}
        self.assertGreater(len(used), 30, used)
        self.assertEqual(used - documented, set(), "the client calls paths the API lacks")

    def test_zz_every_public_method_was_exercised(self):
        others = {n for n in dir(self) if n.startswith("test_") and n != self._testMethodName}
        if not others <= type(self).ran:
            self.skipTest("run the whole PythonClientTest class to check coverage")
        self.assertEqual(PUBLIC_METHODS - CALLED, set(), "methods no test called")


if __name__ == "__main__":
    unittest.main()
