"""Notebooks (kind=notebook): Debian's jupyter-notebook started on the allocated GPUs, reachable
only through the server's authenticated proxy at /notebooks/ID/ (Bearer token or the portal's
session cookie; another entity's member gets 404, no token 401), and reclaimed after a short
idle setting (state cancelled, reason "idle: no activity for ...", GPUs released).
docs/notebooks.md."""

import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request

from harness import ServerTestCase, assert_error_shape, kill_marked, pgrep, poll
from ws_client import HandshakeError, WebSocket, jupyter_execute

IDLE_S = 15


def jupyter_env(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        pairs = [kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv]
    return {k.decode(): v.decode() for k, v in pairs}


class NotebookTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which("jupyter-notebook") is None:
            raise AssertionError("jupyter-notebook is not installed (Debian package "
                                 "jupyter-notebook; run scripts/install-deps.sh)")
        # A port range of our own, so that parallel servers never hand out the same port.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cls.nb_port = s.getsockname()[1]
        # [notebooks] in the server's config file (docs/operations.md). The demo GPUs report
        # about 90 % utilisation for every device a workload holds (they cannot tell a kernel
        # at work from an idle Jupyter), so the GPU part of the idle rule is switched off here
        # with idle_util_pct = 100; src/state/platform_notebooks_test.cc tests it.
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        cls.config.write(f"""[notebooks]
idle_timeout = "{IDLE_S}s"
idle_check = "1s"
warning_lead = "{IDLE_S // 4}s"
idle_util_pct = 100
ports = "{cls.nb_port}-{cls.nb_port}"
""")
        cls.config.close()
        cls.SERVER_ARGS = ("--config", cls.config.name)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        kill_marked(f"--port={cls.nb_port} ")
        super().tearDownClass()
        os.unlink(cls.config.name)

    def test_proxy_access_gpus_and_idle_reclaim(self):
        _, member = self.admin.tenant("nb")
        _, stranger = self.admin.tenant("nbx")
        job = member.submit(kind="notebook", gpus=2, gpu_types=["h200"])
        self.assertEqual(job["url"], f"/notebooks/{job['id']}/", job)
        running = member.wait_state(job["id"], "running", timeout=30)
        base = job["url"]

        # Through the proxy with the member's token (Jupyter takes a few seconds to listen).
        status = poll(lambda: (lambda r: r if r.status == 200 else None)(
            member.get(base + "api/status")), 30, "the notebook to answer through the proxy")
        self.assertIn("started", status.json, status)

        # Another entity's member: 404, the API's shape; no token: 401.
        r = stranger.get(base + "api/status")
        self.assertError(r, 404)
        r = member.get(base + "api/status", token="")
        self.assertEqual(r.status, 401, r)
        assert_error_shape(self, r, 401)

        # The portal's session cookie works too (and never reaches Jupyter as a token).
        r = member.post("/api/v1/session", {"token": member.token}, token="")
        self.assertEqual(r.status, 200, r)
        cookie = r.headers["Set-Cookie"].split(";")[0]
        r = member.get(base + "api/status", token="", headers={"Cookie": cookie})
        self.assertEqual(r.status, 200, r)

        # The notebook server runs on the job's GPUs.
        pids = pgrep(f"--port={self.nb_port} ")
        self.assertTrue(pids, "no jupyter-notebook process for this port")
        env = jupyter_env(pids[0])
        self.assertEqual(env.get("CUDA_VISIBLE_DEVICES"),
                         ",".join(str(i) for i in running["gpu_ids"]), env)
        # Its token is in the env, not on the command line; without it Jupyter refuses.
        token = env.get("JUPYTER_TOKEN", "")
        self.assertGreaterEqual(len(token), 32, env)
        with open(f"/proc/{pids[0]}/cmdline", "rb") as f:
            self.assertNotIn(token.encode(), f.read())
        direct = f"http://127.0.0.1:{self.nb_port}{base}api/status"
        with self.assertRaises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(direct, timeout=10)
        self.assertEqual(denied.exception.code, 403)

        # The Jupyter REST API through the proxy: start a kernel (POST), list it.
        r = member.post(base + "api/kernels", {"name": "python3"})
        self.assertEqual(r.status, 201, r)
        kernel = r.json["id"]
        r = member.get(base + "api/kernels")
        self.assertEqual(r.status, 200, r)
        self.assertIn(kernel, [k["id"] for k in r.json])

        # The kernel's WebSocket through the proxy (HttpServer tunnel): run a cell; it sees the
        # job's GPUs. With the token, then with the session cookie from this origin.
        port = self.server.port
        channels = f"{base}api/kernels/{kernel}/channels?session_id=it"
        ws = WebSocket("127.0.0.1", port, channels,
                       {"Authorization": f"Bearer {member.token}"})
        try:
            out = jupyter_execute(
                ws, 'import os; print(os.environ.get("CUDA_VISIBLE_DEVICES"))')
        finally:
            ws.close()
        self.assertEqual(out.strip(), ",".join(str(i) for i in running["gpu_ids"]), out)
        ws = WebSocket("127.0.0.1", port, channels,
                       {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"})
        try:
            self.assertEqual(jupyter_execute(ws, "print(6 * 7)").strip(), "42")
        finally:
            ws.close()
        # The same authorisation as HTTP: another entity 404, no token 401, and the cookie from
        # another origin 403 (cross-site WebSocket hijacking).
        for headers, status in (({"Authorization": f"Bearer {stranger.token}"}, 404), ({}, 401),
                                ({"Cookie": cookie, "Origin": "http://evil.example"}, 403)):
            with self.assertRaises(HandshakeError) as refused:
                WebSocket("127.0.0.1", port, channels, headers)
            self.assertEqual(refused.exception.status, status, refused.exception.head)

        # A server restart: Jupyter keeps running (adopted by the agent), and the proxy still
        # knows its port and token (persisted), over HTTP and WebSocket.
        self.server.stop()
        self.server.start()
        r = poll(lambda: (lambda r: r if r.status == 200 else None)(
            member.get(base + "api/status")), 30, "the notebook through the proxy after restart")
        self.assertEqual(pgrep(f"--port={self.nb_port} "), pids, "Jupyter was restarted")
        ws = WebSocket("127.0.0.1", port, channels,
                       {"Authorization": f"Bearer {member.token}"})
        try:
            self.assertEqual(jupyter_execute(ws, "print(6 * 7)").strip(), "42")
        finally:
            ws.close()

        # An open socket ends with the right to it (the server asks every 5 s): one opened with
        # a second token of the member is closed once that token is revoked, while the one of
        # the first token goes on; then a disabled user's socket is closed too.
        me = member.get("/api/v1/whoami").json["user"]["name"]
        made = member.post(f"/api/v1/users/{me}/tokens").json
        # (Jupyter replaces a socket of the same session id: one each.)
        kept = WebSocket("127.0.0.1", port, channels.replace("=it", "=kept"),
                         {"Authorization": f"Bearer {member.token}"})
        doomed = WebSocket("127.0.0.1", port, channels.replace("=it", "=doomed"),
                           {"Authorization": f"Bearer {made['token']}"})
        try:
            self.assertEqual(jupyter_execute(doomed, "print(6 * 7)").strip(), "42")
            r = member.call("DELETE", f"/api/v1/users/{me}/tokens/{made['token_id']}")
            self.assertEqual(r.status, 204, r)
            self.assertTrue(doomed.wait_closed(30), "the revoked token's socket stayed open")
            self.assertEqual(jupyter_execute(kept, "print(7 * 6)").strip(), "42")
            r = self.admin.call("PATCH", f"/api/v1/users/{me}", {"disabled": True})
            self.assertEqual(r.status, 200, r)
            self.assertTrue(kept.wait_closed(30), "a disabled user's socket stayed open")
            r = self.admin.call("PATCH", f"/api/v1/users/{me}", {"disabled": False})
            self.assertEqual(r.status, 200, r)
        finally:
            doomed.close()
            kept.close()

        # Idle: first a warning in the job's reason, then stopped like a cancel; GPUs freed.
        warned = poll(lambda: (lambda j: j if "stops at" in j["reason"] or
                               j["state"] != "running" else None)(member.job(job["id"])),
                      IDLE_S + 10, "the idle warning")
        self.assertEqual(warned["state"], "running", warned)
        self.assertTrue(warned["reason"].startswith("idle: no activity since"), warned)
        final = poll(lambda: (lambda j: j if j["state"] != "running" and not j["releasing"]
                              else None)(member.job(job["id"])), IDLE_S + 20,
                     "the idle notebook to be reclaimed")
        self.assertEqual(final["state"], "cancelled", final)
        self.assertEqual(final["reason"], f"idle: no activity for {IDLE_S}s", final)
        poll(lambda: not pgrep(f"--port={self.nb_port} "), 20, "jupyter-notebook to exit")
        r = member.get(base + "api/status")
        self.assertEqual(r.status, 409, r)


if __name__ == "__main__":
    import unittest
    unittest.main()
