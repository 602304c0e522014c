"""Test harness for the GPUaaS integration suite: start and stop real `gpuaas` processes and
talk to them over HTTP (the REST API) and through the CLI.

Standard library only. Not thread-safe unless stated: one test drives one Server at a time.
Every wait is a bounded poll; nothing sleeps longer than the poll interval.

Environment:
  GPUAAS_BIN   path of the gpuaas binary (default: <repo>/build/gpuaas)
  GPUAAS_KEEP  if set, data dirs of the servers are kept (their paths are printed)
"""

import datetime
import glob
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("GPUAAS_BIN", os.path.join(REPO, "build", "gpuaas"))

DEMO_GPUS = "h200:8,l40s:4"
FINAL_STATES = {"succeeded", "failed", "cancelled", "preempted", "timed_out", "lost"}
ERROR_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "unprocessable",
    429: "rate_limited", 500: "internal", 503: "unavailable",
}


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(fn, timeout, what, interval=0.1):
    """Calls fn() until it returns a truthy value (returned) or `timeout` seconds pass
    (AssertionError naming `what` and the last value seen). Exceptions from fn propagate."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def parse_time(s):
    """RFC 3339 UTC string -> aware datetime (None stays None)."""
    if s is None:
        return None
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def seconds_left(rfc3339):
    """Seconds from now until an RFC 3339 time (negative once past)."""
    return parse_time(rfc3339).timestamp() - time.time()


def unique(prefix):
    """A name valid for entities/users ([a-z0-9][a-z0-9._-]*) and unique in this run."""
    return f"{prefix}-{os.getpid() % 10000}-{int(time.monotonic_ns() % 10**9)}"


def require_binary():
    """A missing binary is an error, never a skip: a suite that tests nothing must not pass."""
    if not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)):
        raise AssertionError(f"{BIN} does not exist (build it first: make build)")


class Response:
    """An HTTP answer: status, headers, raw body text and (if it parses) JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.text = body.decode("utf-8", errors="replace")
        try:
            self.json = json.loads(self.text) if self.text else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.text[:300]!r}>"


class Api:
    """A tiny REST client bound to one base URL and (optionally) one token."""

    def __init__(self, url, token=None, cafile=None):
        self.url = url.rstrip("/")
        self.token = token
        self.cafile = cafile  # https: the CA (or self-signed certificate) to trust
        self.context = ssl.create_default_context(cafile=cafile) if cafile else None

    def with_token(self, token):
        return Api(self.url, token, self.cafile)

    def call(self, method, path, body=None, raw=None, headers=None, token=None, timeout=30):
        data = raw
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        tok = token if token is not None else self.token
        if tok:
            hdrs["Authorization"] = f"Bearer {tok}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.context) as r:
                return Response(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, dict(e.headers), e.read())

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body=body, **kw)

    # --- conveniences that assert success -------------------------------------------------
    def ok(self, method, path, body=None, expect=(200, 201)):
        r = self.call(method, path, body=body)
        if r.status not in expect:
            raise AssertionError(f"{method} {path} -> {r.status} {r.text[:500]}")
        return r.json

    def job(self, job_id):
        return self.ok("GET", f"/api/v1/jobs/{job_id}")

    def submit(self, **body):
        return self.ok("POST", "/api/v1/jobs", body, expect=(201,))

    def jobs(self, query=""):
        """All jobs visible to this token (follows next_after)."""
        out, after = [], None
        while True:
            q = f"?limit=1000{'&' + query if query else ''}{f'&after={after}' if after else ''}"
            page = self.ok("GET", "/api/v1/jobs" + q)
            out.extend(page["jobs"])
            after = page.get("next_after")
            if not after:
                return out

    def wait_state(self, job_id, states, timeout=60):
        states = {states} if isinstance(states, str) else set(states)
        return poll(lambda: (lambda j: j if j["state"] in states else None)(self.job(job_id)),
                    timeout, f"job {job_id} to reach {sorted(states)}")

    def wait_final(self, job_id, timeout=60):
        return self.wait_state(job_id, FINAL_STATES, timeout)

    def create_entity(self, name, quota=None):
        body = {"name": name}
        if quota is not None:
            body["quota"] = quota
        return self.ok("POST", "/api/v1/entities", body, expect=(201,))

    def create_user(self, name, entity, role="member"):
        return self.ok("POST", "/api/v1/users", {"name": name, "entity": entity, "role": role},
                       expect=(201,))

    def tenant(self, prefix="t"):
        """Creates a fresh entity and a member of it; returns (entity name, member Api)."""
        ent = unique(prefix)
        self.create_entity(ent)
        user = self.create_user(unique(prefix + "u"), ent)
        return ent, self.with_token(user["token"])


def remove_containers_under(data_dir):
    """Removes the podman containers of the workloads under data_dir (after a failed test they
    outlive the server and its agents, and would hold their names and published ports)."""
    if shutil.which("podman") is None:
        return
    for pidfile in glob.glob(os.path.join(data_dir, "**", "workloads", "*", "container.pid"),
                             recursive=True):
        alloc = os.path.basename(os.path.dirname(pidfile))
        subprocess.run(["podman", "rm", "-f", "-t", "0", f"gpuaas-alloc-{alloc}"],
                       capture_output=True, timeout=60)


class Server:
    """A `gpuaas server` child process on a free port with its own data dir.

    start() waits (poll, 10 s max) for /healthz, then reads DATA/admin.token.
    stop() sends SIGTERM, then SIGKILL after `grace` seconds; kill9() simulates a crash.
    tls=(CERT, KEY): HTTPS with these PEM files (`--tls-cert/--tls-key`), the certificate
    trusted by the harness's clients (a self-signed one for 127.0.0.1).
    """

    def __init__(self, demo_gpus=DEMO_GPUS, extra_args=(), data_dir=None, port=None, tls=None):
        self.demo_gpus = demo_gpus
        self.extra_args = list(extra_args)
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="gpuaas-it-")
        self.port = port or free_port()
        self.tls = tls
        self.cafile = tls[0] if tls else None
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.proc = None
        self.log_path = None
        self.starts = 0
        self.admin_token = None
        self.pgids = []  # process groups of every start (crashed ones may leave orphans)

    @property
    def admin(self):
        return Api(self.url, self.admin_token, self.cafile)

    def start(self, timeout=10):
        require_binary()
        self.starts += 1
        self.log_path = os.path.join(self.data_dir, f"server-{self.starts}.log")
        args = [BIN, "server", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                self.data_dir]
        if self.demo_gpus:
            args += ["--demo-gpus", self.demo_gpus]
        if self.tls:
            args += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        args += self.extra_args
        context = ssl.create_default_context(cafile=self.cafile) if self.cafile else None
        log = open(self.log_path, "wb")
        # A process group of its own: kill9() also takes the children of the embedded agent.
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.pgids.append(self.proc.pid)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode} at start:\n"
                                     + self.log_tail())
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1,
                                            context=context) as r:
                    if r.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() >= deadline:
                self.stop()
                raise AssertionError(f"server not healthy after {timeout}s:\n" + self.log_tail())
            time.sleep(0.05)
        token_file = os.path.join(self.data_dir, "admin.token")
        with open(token_file) as f:
            self.admin_token = f.read().strip()
        return self

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except (OSError, TypeError):
            return ""

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, grace=10):
        """SIGTERM, wait up to `grace` s, then SIGKILL. Returns the exit code (None if killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill9(self):
        """SIGKILL of the server process alone (its job processes may survive: a crash)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def cleanup(self):
        code = self.stop()
        # Whatever is left in the server's process group (orphaned job processes): kill it.
        for pgid in self.pgids:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        # Job wrappers (forks of the server, in sessions of their own) and the jobs they started
        # (process groups of their own, working in the data dir) outlive the server when a test
        # failed before its jobs ended: kill them too, so that they hold no port or GPU slot of
        # the next test.
        if self.own_dir:
            kill_under(self.data_dir)
            remove_containers_under(self.data_dir)
        if self.own_dir:
            if os.environ.get("GPUAAS_KEEP"):
                print(f"kept data dir {self.data_dir}")
            else:
                shutil.rmtree(self.data_dir, ignore_errors=True)
        return code

    def cli(self, *args, token=None, json_out=True, timeout=60, env=None):
        """Runs `gpuaas --url URL --token T [--json] ARGS...`; returns CompletedProcess (with
        .json parsed from stdout when it is JSON)."""
        tok = self.admin_token if token is None else token
        argv = [BIN, "--url", self.url]
        if self.cafile:
            argv += ["--ca-file", self.cafile]
        if tok:
            argv += ["--token", tok]
        if json_out:
            argv.append("--json")
        argv += [str(a) for a in args]
        return run_cli(argv, timeout=timeout, env=env)


def run_cli(argv, timeout=60, env=None):
    full_env = dict(os.environ)
    full_env.pop("GPUAAS_URL", None)
    full_env.pop("GPUAAS_TOKEN", None)
    full_env.pop("GPUAAS_CA_FILE", None)
    full_env.update(env or {})
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env,
                       stdin=subprocess.DEVNULL)
    try:
        p.json = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        p.json = None
    return p


def pgrep(marker):
    """PIDs of processes whose command line contains `marker` (never this process)."""
    p = subprocess.run(["pgrep", "-f", "--", marker], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split() if int(x) != os.getpid()]


def processes_under(path):
    """PIDs of the processes whose command line names `path` or whose working directory is
    inside it (never this process)."""
    root = os.path.realpath(path)
    found = []
    for pid_text in os.listdir("/proc"):
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid_text}/cmdline", "rb") as f:
                cmdline = f.read()
            cwd = os.readlink(f"/proc/{pid_text}/cwd")
        except OSError:
            continue
        named = root.encode() in cmdline or path.encode() in cmdline
        if named or cwd == root or cwd.startswith(root + os.sep):
            found.append(int(pid_text))
    return found


def kill_pids(pids):
    """SIGKILL to each of `pids` (those already gone are skipped)."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_under(path):
    """SIGKILL to every process of processes_under(path)."""
    kill_pids(processes_under(path))


def kill_marked(marker):
    kill_pids(pgrep(marker))


def send_raw(port, head, body, chunk=1 << 16, timeout=15):
    """Sends an HTTP request by hand (head: bytes up to and including the blank line; body:
    bytes) while reading the answer concurrently, so that a server that answers early (413)
    and closes is still heard. Returns (status or None, response bytes)."""
    got = bytearray()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def reader():
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                got.extend(data)
                if b"\r\n\r\n" in got:
                    hdr, _, rest = bytes(got).partition(b"\r\n\r\n")
                    m = re.search(rb"(?i)content-length:\s*(\d+)", hdr)
                    if m and len(rest) >= int(m.group(1)):
                        return
        except OSError:
            return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        sock.sendall(head)
        for i in range(0, len(body), chunk):
            if not t.is_alive() and got:
                break
            sock.sendall(body[i:i + chunk])
    except OSError:
        pass
    t.join(timeout)
    sock.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", bytes(got))
    return (int(m.group(1)) if m else None), bytes(got)


class ServerTestCase(unittest.TestCase):
    """A test class with one shared server (started in setUpClass, stopped in tearDownClass).
    Subclasses set DEMO_GPUS / SERVER_ARGS. Each test should create its own tenants."""

    DEMO_GPUS = DEMO_GPUS
    SERVER_ARGS = ()
    server = None

    @classmethod
    def setUpClass(cls):
        require_binary()
        cls.server = Server(cls.DEMO_GPUS, cls.SERVER_ARGS).start()
        cls.admin = cls.server.admin

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.cleanup()

    def assertError(self, r, status, msg=""):
        """r has HTTP status `status` and the contract's error body."""
        self.assertEqual(r.status, status, f"{msg} {r!r}")
        assert_error_shape(self, r, status)


def assert_error_shape(tc, r, status=None):
    tc.assertIsInstance(r.json, dict, f"error body is not JSON: {r!r}")
    err = r.json.get("error")
    tc.assertIsInstance(err, dict, f"no error object: {r!r}")
    tc.assertIsInstance(err.get("code"), str, f"no error code: {r!r}")
    tc.assertIsInstance(err.get("message"), str, f"no error message: {r!r}")
    tc.assertTrue(err["message"], f"empty error message: {r!r}")
    if status in ERROR_CODES:
        tc.assertEqual(err["code"], ERROR_CODES[status], f"code for HTTP {status}: {r!r}")
