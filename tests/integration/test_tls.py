"""HTTPS end to end through a real server (docs/operations.md, "TLS"; docs/adr/0017).

Shows: a server started with `--tls-cert/--tls-key` (a self-signed certificate made here by the
openssl program for 127.0.0.1 and localhost) serves the API over HTTPS only; its embedded agent
reaches it over HTTPS (pinned to the server's own certificate) and runs a 2-GPU job; the CLI
works with `--ca-file` or GPUAAS_CA_FILE (`gpuaas forecast --server` too) and, without them,
says that the TLS handshake failed and why; the Python client works with the same CA; a control
plane without simulated nodes (`--demo-gpus none`) gets its GPUs from a standalone `gpuaas agent
--ca-file` over HTTPS and runs a job there; a plain-HTTP request to the port is told to use
https://; the portal's session cookie is `Secure`; `[tls]` in the config file does the same as the flags; bad
certificate settings stop the server at start with a clear message; plain HTTP on a non-loopback
address is warned about in the log.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

from harness import BIN, REPO, Server, free_port, poll, require_binary, run_cli, unique

sys.path.insert(0, os.path.join(REPO, "clients", "python"))
from gpuaas_client import Client, GpuaasConnectionError  # noqa: E402


def make_cert(directory, name, alt_names):
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650", "-subj",
                    "/CN=" + name, "-addext", "subjectAltName=" + alt_names, "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    return cert, key


def node_of(api, name):
    for n in api.ok("GET", "/api/v1/nodes")["nodes"]:
        if n["name"] == name:
            return n
    return None


class TlsTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.dir = tempfile.mkdtemp(prefix="gpuaas-tls-")
        self.cert, self.key = make_cert(self.dir, "server", "IP:127.0.0.1,DNS:localhost")
        self.servers = []
        self.agent = None

    def tearDown(self):
        if self.agent is not None and self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(15)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        for s in self.servers:
            s.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def server(self, **kw):
        s = Server(**kw)
        self.servers.append(s)
        return s

    def test_api_cli_python_client_agents_and_cookie_over_https(self):
        s = self.server(demo_gpus="h200:2", tls=(self.cert, self.key)).start()
        self.assertTrue(s.url.startswith("https://"))
        admin = s.admin
        # The embedded agent registered over HTTPS and runs a job there.
        poll(lambda: (lambda n: n and n["state"] == "ready")(node_of(admin, "demo-h200-0")), 20,
             "the embedded agent's node over https")
        ent, member = admin.tenant("tls")
        job = member.submit(gpus=2, command=["sh", "-c", "echo over-tls"])
        self.assertEqual(member.wait_final(job["id"], timeout=60)["state"], "succeeded")
        self.assertIn("over-tls", poll(lambda: (lambda t: t if "over-tls" in t else None)(
            member.get(f"/api/v1/jobs/{job['id']}/logs").text), 20, "the job's log"))

        # CLI: --ca-file (the harness passes it), GPUAAS_CA_FILE, and neither.
        p = s.cli("entity", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(ent, [e["name"] for e in p.json["entities"]])
        argv = [BIN, "--url", s.url, "--token", s.admin_token, "--json", "whoami"]
        p = run_cli(argv, env={"GPUAAS_CA_FILE": self.cert})
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run_cli(argv)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("TLS handshake failed: certificate verify failed", p.stderr)
        self.assertIn("--ca-file", p.stderr)
        self.assertEqual(p.stdout, "")
        # The forecast from the server's history goes through the same client.
        p = run_cli([BIN, "forecast", "--server", "--url", s.url, "--token", s.admin_token,
                     "--ca-file", self.cert, "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("classes", p.json)
        p = run_cli([BIN, "forecast", "--server", "--url", s.url, "--token", s.admin_token])
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("certificate verify failed", p.stderr)

        # The Python client, with the CA given and from the environment; without it, a clear
        # connection error.
        c = Client(s.url, token=s.admin_token, cafile=self.cert)
        self.assertEqual(c.whoami()["user"]["role"], "platform-admin")
        old = os.environ.get("GPUAAS_CA_FILE")
        os.environ["GPUAAS_CA_FILE"] = self.cert
        try:
            self.assertEqual(Client(s.url, token=s.admin_token).whoami()["user"]["role"],
                             "platform-admin")
        finally:
            if old is None:
                del os.environ["GPUAAS_CA_FILE"]
            else:
                os.environ["GPUAAS_CA_FILE"] = old
        with self.assertRaises(GpuaasConnectionError):
            Client(s.url, token=s.admin_token).whoami()

        # Plain HTTP on the HTTPS port: told to use https://, and the server goes on.
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{s.port}/healthz", timeout=5)
        self.assertEqual(caught.exception.code, 400)
        self.assertIn("use https://", caught.exception.read().decode())
        p = run_cli([BIN, "--url", f"http://127.0.0.1:{s.port}", "--token", s.admin_token,
                     "whoami"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("this server speaks HTTPS only: use https://", p.stderr)
        self.assertEqual(admin.get("/healthz").status, 200)

        # The portal's session cookie is Secure on an HTTPS server.
        r = admin.post("/api/v1/session", {"token": s.admin_token})
        self.assertEqual(r.status, 200, r.text)
        cookie = r.headers.get("Set-Cookie", "")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("; Secure", cookie)

    def test_a_control_plane_without_simulated_nodes_and_an_agent_over_https(self):
        """The production layout: `--demo-gpus none`, GPUs only from a standalone agent that
        reaches the server by the certificate's DNS name and trusts it through --ca-file."""
        s = self.server(demo_gpus="none", tls=(self.cert, self.key)).start()
        admin = s.admin
        self.assertEqual(admin.ok("GET", "/api/v1/nodes")["nodes"], [])
        self.assertIn("no simulated nodes", s.log_text())
        state_dir = os.path.join(self.dir, "agent-state")
        log_path = os.path.join(self.dir, "agent.log")
        with open(log_path, "wb") as log:
            self.agent = subprocess.Popen(
                [BIN, "agent", "--server", f"https://localhost:{s.port}", "--ca-file", self.cert,
                 "--token", s.admin_token, "--name", "ext-tls", "--demo-gpus", "l40s:2",
                 "--state-dir", state_dir, "--cgroups", "off"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        poll(lambda: (lambda n: n and n["state"] == "ready" and len(n["gpus"]) == 2)(
            node_of(admin, "ext-tls")), 20, "the standalone agent's node over https")
        self.assertEqual([n["name"] for n in admin.ok("GET", "/api/v1/nodes")["nodes"]],
                         ["ext-tls"])
        _, member = admin.tenant("prod")
        job = member.submit(gpus=2, gpu_types=["l40s"], command=["sh", "-c", "echo on-the-agent"])
        final = member.wait_final(job["id"], timeout=60)
        self.assertEqual(final["state"], "succeeded", final)

    def test_an_agent_without_the_ca_does_not_register_and_says_why(self):
        s = self.server(demo_gpus="h200:1", tls=(self.cert, self.key)).start()
        log_path = os.path.join(self.dir, "agent.log")
        with open(log_path, "wb") as log:
            self.agent = subprocess.Popen(
                [BIN, "agent", "--server", s.url, "--token", s.admin_token, "--name", "untrusting",
                 "--demo-gpus", "l40s:2", "--state-dir", os.path.join(self.dir, "st"),
                 "--cgroups", "off"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env={k: v for k, v in os.environ.items()
                                             if k not in ("GPUAAS_CA_FILE", "SSL_CERT_FILE")})

        def logged():
            with open(log_path, "rb") as f:
                text = f.read().decode(errors="replace")
            return text if "TLS handshake failed" in text else None
        self.assertIn("certificate verify failed", poll(logged, 20, "the agent's TLS error"))
        self.assertIsNone(node_of(s.admin, "untrusting"))

    def test_tls_section_of_the_config_file_and_bad_settings(self):
        config = os.path.join(self.dir, "gpuaas.toml")
        with open(config, "w") as f:
            f.write(f'[tls]\ncert_file = "{self.cert}"\nkey_file = "{self.key}"\n')
        s = self.server(demo_gpus="h200:1", extra_args=["--config", config])
        s.url, s.cafile = s.url.replace("http://", "https://"), self.cert
        s.start()
        self.assertEqual(s.admin.get("/api/v1/whoami").status, 200)
        s.stop()

        other_cert, other_key = make_cert(self.dir, "other", "DNS:other.example")
        bad = {
            'cert_file = "relative.crt"\nkey_file = "/k"\n': "tls.cert_file must be an absolute",
            f'cert_file = "{self.cert}"\n': "tls needs both cert_file and key_file",
            f'cert_file = "{self.cert}"\nkey_file = "{other_key}"\n':
                "cannot load the TLS private key",
            f'cert_file = "{self.dir}/missing.crt"\nkey_file = "{self.key}"\n':
                "cannot load the TLS certificate chain",
            f'cert_file = "{self.cert}"\nkey_file = "{self.key}"\nciphers = "x"\n':
                "tls.ciphers",
        }
        for body, expect in bad.items():
            with open(config, "w") as f:
                f.write("[tls]\n" + body)
            p = subprocess.run([BIN, "server", "--listen", f"127.0.0.1:{free_port()}",
                                "--data-dir", os.path.join(self.dir, unique("d")), "--config",
                                config, "--demo-gpus", "h200:1"],
                               capture_output=True, text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            self.assertNotEqual(p.returncode, 0, body)
            self.assertIn(expect, p.stderr, body)
        p = subprocess.run([BIN, "server", "--tls-cert", self.cert, "--data-dir",
                            os.path.join(self.dir, "d2")], capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--tls-cert and --tls-key go together", p.stderr)
        self.assertTrue(os.path.exists(other_cert))

    def test_plain_http_on_a_network_address_is_warned_about(self):
        log_path = os.path.join(self.dir, "server.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([BIN, "server", "--listen", f"0.0.0.0:{free_port()}",
                                     "--data-dir", os.path.join(self.dir, "data"),
                                     "--demo-gpus", "h200:1"],
                                    stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            def warned():
                with open(log_path, "rb") as f:
                    text = f.read().decode(errors="replace")
                return text if "serving plain HTTP on 0.0.0.0" in text else None
            self.assertIn("in the clear", poll(warned, 20, "the plain-HTTP warning"))
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

if __name__ == "__main__":
    unittest.main()
