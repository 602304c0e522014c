"""Containers, environments, workspaces and secrets end to end, through a real server whose
embedded agents run podman.

The image of the `busybox` test environment is made here with `podman import` of a root file
system holding busybox-static (no registry is reachable). There is no GPU on the test machine:
stand-in GPU device nodes (character devices 195:N, as the NVIDIA driver makes them, and
nvidiactl 195:255) are made with mknod in a test directory, and the agents' podman runtime is
configured in devices mode on that directory ([runtime] device_dir). The class is skipped, with
the reason printed, only when podman cannot run on the machine.
"""

import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
import unittest

from harness import BIN, Server, poll, require_binary, unique, assert_error_shape

IMAGE = "localhost/gpuaas-it-busybox:latest"
SECRET = "it-s3cr3t-7c1d2e9f"  # the value that must appear nowhere but in the job


def podman_problem():
    """None when podman runs containers here, else why not."""
    if shutil.which("podman") is None:
        return "podman is not installed"
    p = subprocess.run(["podman", "info"], capture_output=True, text=True, timeout=60)
    return None if p.returncode == 0 else "podman info failed: " + p.stderr[-300:]


def make_image(workdir):
    rootfs = os.path.join(workdir, "rootfs")
    for d in ("bin", "dev", "proc", "sys", "tmp", "workspace"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    busybox = "/bin/busybox" if os.path.exists("/bin/busybox") else shutil.which("busybox")
    shutil.copy(busybox, os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "ls", "cat", "echo", "env", "sleep", "grep", "sort", "tr", "wc", "nc",
                   "dd"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    tar = os.path.join(workdir, "rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
    subprocess.run(["podman", "import", tar, IMAGE], check=True, capture_output=True, timeout=120)


def make_devices(workdir, count):
    dev = os.path.join(workdir, "dev")
    os.makedirs(dev)
    for i in range(count):
        os.mknod(os.path.join(dev, f"nvidia{i}"), 0o666 | stat.S_IFCHR, os.makedev(195, i))
    os.mknod(os.path.join(dev, "nvidiactl"), 0o666 | stat.S_IFCHR, os.makedev(195, 255))
    return dev


class ContainerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_binary()
        why = podman_problem()
        if why:
            print(f"SKIPPED: {why}")
            raise unittest.SkipTest(why)
        cls.work = tempfile.mkdtemp(prefix="gpuaas-it-podman-")
        make_image(cls.work)
        dev = make_devices(cls.work, 8)
        config = os.path.join(cls.work, "server.toml")
        with open(config, "w") as f:
            f.write(f"""
[environments.busybox]
image = "{IMAGE}"
description = "test environment: busybox-static, imported locally"

[runtime]
gpu_mode = "devices"
device_dir = "{dev}"
""")
        cls.server = Server("h200:8", ["--config", config]).start()
        cls.admin = cls.server.admin

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "server", None) is not None:
            cls.server.cleanup()
        if getattr(cls, "work", None):
            shutil.rmtree(cls.work, ignore_errors=True)
            # The imported image goes too (each run imports it again; without this every run
            # left an untagged 2 MB image). No --force: an image still in use stays.
            subprocess.run(["podman", "rmi", IMAGE], capture_output=True, timeout=120)

    def tenant_with_admin(self, prefix):
        ent = unique(prefix)
        self.admin.create_entity(ent)
        boss = self.admin.create_user(unique(prefix + "a"), ent, role="entity-admin")
        member = self.admin.create_user(unique(prefix + "m"), ent)
        return ent, self.admin.with_token(boss["token"]), self.admin.with_token(member["token"])

    def wait_final(self, api, job_id, timeout=90):
        return poll(lambda: (lambda j: j if j["state"] in
                             {"succeeded", "failed", "cancelled", "timed_out", "lost"}
                             and not j.get("releasing") else None)(api.job(job_id)),
                    timeout, f"job {job_id} to finish")

    def logs(self, api, job_id):
        r = api.get(f"/api/v1/jobs/{job_id}/logs")
        self.assertEqual(r.status, 200, r)
        return r.text

    def test_environments_are_listed_and_unknown_ones_refused(self):
        ent, boss, member = self.tenant_with_admin("envs")
        envs = {e["name"]: e for e in member.ok("GET", "/api/v1/environments")["environments"]}
        self.assertEqual(envs["busybox"]["image"], IMAGE)
        self.assertIn("pytorch", envs)  # the shipped catalogue stays
        self.assertIn("tensorflow", envs)
        out = self.server.cli("environments", json_out=False, token=member.token)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("busybox", out.stdout)
        r = member.post("/api/v1/jobs", {"gpus": 1, "environment": "nosuchenv",
                                         "command": ["true"]})
        self.assertEqual(r.status, 422, r)
        assert_error_shape(self, r, 422)
        self.assertIn("unknown environment 'nosuchenv'", r.json["error"]["message"])
        r = member.post("/api/v1/jobs", {"gpus": 1, "workspace": "rwx", "command": ["true"]})
        self.assertEqual(r.status, 422, r)

    def test_container_sees_only_its_gpus_workspace_and_secret_which_leaks_nowhere(self):
        ent, boss, member = self.tenant_with_admin("ctr")
        # Secrets: an entity-admin sets it; a member may not; listings show names only.
        r = member.post(f"/api/v1/entities/{ent}/secrets", {"name": "REG_TOKEN", "value": SECRET})
        self.assertEqual(r.status, 403, r)
        r = boss.post(f"/api/v1/entities/{ent}/secrets", {"name": "REG_TOKEN", "value": SECRET})
        self.assertEqual(r.status, 201, r)
        self.assertNotIn(SECRET, r.text)
        r = boss.post(f"/api/v1/entities/{ent}/secrets", {"name": "PATH", "value": "x"})
        self.assertEqual(r.status, 422, r)
        listing = boss.get(f"/api/v1/entities/{ent}/secrets")
        self.assertEqual([s["name"] for s in listing.json["secrets"]], ["REG_TOKEN"])
        self.assertNotIn(SECRET, listing.text)
        r = member.post("/api/v1/jobs", {"gpus": 1, "secrets": ["NOPE"], "command": ["true"]})
        self.assertEqual(r.status, 422, r)

        half = len(SECRET) // 2
        script = ("ls /dev | grep nvidia | sort | tr '\\n' ' '; echo; "
                  "echo NVIDIA_VISIBLE_DEVICES=$NVIDIA_VISIBLE_DEVICES; "
                  "echo WS=$GPUAAS_WORKSPACE; echo from-container > /workspace/hello.txt; "
                  f"[ \"$REG_TOKEN\" = \"{SECRET[:half]}\"\"{SECRET[half:]}\" ] && echo secret-ok")
        # Two jobs of 4: the second gets the other half of the node's 8 stand-in GPUs.
        job = member.submit(gpus=4, environment="busybox", secrets=["REG_TOKEN"],
                            command=["sh", "-c", "sleep 2; " + script])
        other = member.submit(gpus=4, environment="busybox", command=["sh", "-c", script])
        final = self.wait_final(member, job["id"])
        self.wait_final(member, other["id"])
        log = self.logs(member, job["id"])
        self.assertEqual(final["state"], "succeeded", (final, log))
        gpus = sorted(final["gpu_ids"])
        self.assertEqual(len(gpus), 4)
        nodes = " ".join(f"nvidia{g}" for g in gpus) + " nvidiactl "
        self.assertIn(nodes + "\n", log)  # only its own device nodes (ls sorts them)
        for g in set(range(8)) - set(gpus):
            self.assertNotIn(f"nvidia{g} ", log)
        self.assertIn("NVIDIA_VISIBLE_DEVICES=" + ",".join(map(str, gpus)) + "\n", log)
        self.assertIn("WS=/workspace\n", log)
        self.assertIn("secret-ok", log)
        self.assertNotIn("secret-ok", self.logs(member, other["id"]))  # it did not ask for it
        ws = os.path.join(self.server.data_dir, "workspaces", ent)
        with open(os.path.join(ws, "hello.txt")) as f:
            self.assertEqual(f.read(), "from-container\n")
        # The job shows the secret's name, never its value.
        self.assertEqual(final["secrets"], ["REG_TOKEN"])
        self.assertNotIn(SECRET, member.get(f"/api/v1/jobs/{job['id']}").text)
        self.assertNotIn(SECRET, boss.get("/api/v1/jobs").text)
        # Nowhere on disk in the clear: not the secret store (0600, sealed with the key in
        # secrets.key, 0600), the server log, database, job logs, the agent's workload
        # directories.
        store = os.path.join(self.server.data_dir, "secrets.json")
        self.assertEqual(stat.S_IMODE(os.stat(store).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(store[:-len("json")] + "key").st_mode), 0o600)
        with open(store) as f:
            self.assertIn("AES-256-GCM", f.read())
        leaks = []
        for root, _, files in os.walk(self.server.data_dir):
            for name in files:
                path = os.path.join(root, name)
                if not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    if SECRET.encode() in f.read():
                        leaks.append(path)
        self.assertEqual(leaks, [])
        self.assertNotIn(SECRET, self.server.log_text())
        self.assertIn("audit:", self.server.log_text())
        # Deleted: gone from the listing, and a new job asking for it is refused.
        self.assertEqual(boss.call("DELETE", f"/api/v1/entities/{ent}/secrets/REG_TOKEN").status,
                         204)
        r = member.post("/api/v1/jobs", {"gpus": 1, "secrets": ["REG_TOKEN"], "command": ["true"]})
        self.assertEqual(r.status, 422, r)

    def test_cancel_stops_the_container_through_podman(self):
        ent, boss, member = self.tenant_with_admin("ctrstop")
        job = member.submit(gpus=1, environment="busybox", command=[
            "sh", "-c", "trap 'echo got TERM; exit 5' TERM; echo ready; sleep 300 & wait"])
        poll(lambda: "ready" in self.logs(member, job["id"]), 60, "the container to start")
        self.assertEqual(member.post(f"/api/v1/jobs/{job['id']}/cancel").status, 200)
        final = self.wait_final(member, job["id"], timeout=60)
        self.assertEqual(final["state"], "cancelled", final)
        poll(lambda: "got TERM" in self.logs(member, job["id"]), 20, "the container's TERM trap")
        # Gone, not left running under conmon (--rm removes it once it stopped).
        poll(lambda: subprocess.run(
            ["podman", "ps", "-a", "-q", "--filter", f"label=gpuaas.job={job['id']}"],
            capture_output=True, text=True).stdout.strip() == "", 30, "the container to go")

    def test_a_container_jobs_own_traffic_is_on_the_job_and_the_entitys_counter(self):
        ent, boss, member = self.tenant_with_admin("ctrnet")
        gateway = subprocess.run(
            ["podman", "network", "inspect", "podman", "--format",
             "{{range .Subnets}}{{.Gateway}}{{end}}"],
            capture_output=True, text=True, timeout=60).stdout.strip()
        self.assertTrue(gateway, "podman's bridge network has no gateway")
        sent = 4 << 20
        received = []
        with socket.socket() as sink:  # the host, as the container sees it through the bridge
            sink.bind(("0.0.0.0", 0))
            sink.listen(1)
            sink.settimeout(90)

            def drain():
                conn, _ = sink.accept()
                with conn:
                    conn.settimeout(60)
                    n = 0
                    while n < sent:
                        b = conn.recv(65536)
                        if not b:
                            break
                        n += len(b)
                    received.append(n)
            t = threading.Thread(target=drain)
            t.start()
            job = member.submit(gpus=1, environment="busybox", command=[
                "sh", "-c", f"dd if=/dev/zero bs=65536 count={sent // 65536} 2>/dev/null | "
                f"nc {gateway} {sink.getsockname()[1]}; echo sent; sleep 300"])
            t.join(120)
        self.assertEqual(received, [sent], self.logs(member, job["id"]))
        # The agent reads the container's counters each heartbeat: the job shows its traffic.
        running = poll(lambda: (lambda j: j if j["network"] and j["network"]["tx_bytes"] >= sent
                                else None)(member.job(job["id"])), 60, "the job's traffic")
        self.assertEqual(running["state"], "running")
        net = running["network"]
        self.assertLess(net["tx_bytes"], sent + (1 << 20), net)  # its own, not the host's
        self.assertGreater(net["rx_bytes"], 0, net)
        metrics = self.admin.get("/metrics").text
        line = f'gpuaas_entity_network_transmit_bytes_total{{entity="{ent}"}} '
        self.assertIn(line, metrics)
        self.assertGreaterEqual(int(metrics.split(line)[1].split("\n")[0]), sent)
        self.assertEqual(member.post(f"/api/v1/jobs/{job['id']}/cancel").status, 200)
        final = self.wait_final(member, job["id"], timeout=60)
        self.assertGreaterEqual(final["network"]["tx_bytes"], sent, final)  # kept after the end
        # The usage ledger keeps the totals: the entity's counter stays.
        metrics = self.admin.get("/metrics").text
        self.assertGreaterEqual(int(metrics.split(line)[1].split("\n")[0]), sent)
        # And so do the entity's usage and the month's invoice, line by line.
        usage = member.get(f"/api/v1/usage?entity={ent}").json["entities"]
        self.assertEqual(len(usage), 1, usage)
        self.assertEqual(usage[0]["network"]["tx_bytes"], final["network"]["tx_bytes"], usage)
        self.assertEqual(usage[0]["network"]["rx_bytes"], final["network"]["rx_bytes"], usage)
        month = final["started_at"][:7]
        inv = boss.get(f"/api/v1/invoices?entity={ent}&month={month}").json
        self.assertEqual(inv["network"], {"rx_bytes": final["network"]["rx_bytes"],
                                          "tx_bytes": final["network"]["tx_bytes"]}, inv)
        self.assertEqual(sum(l["network"]["tx_bytes"] for l in inv["lines"]),
                         final["network"]["tx_bytes"], inv)
        csv = boss.get(f"/api/v1/invoices?entity={ent}&month={month}&format=csv").text
        self.assertTrue(csv.split("\r\n")[0].endswith(",net_rx_gb,net_tx_gb"), csv)

    def test_a_notebook_in_an_environment_runs_jupyter_in_its_container_behind_the_proxy(self):
        # Jupyter itself comes from the host, lent read-only to the busybox image through the
        # operator's own podman arguments ([runtime] podman_args): the real Jupyter 6.4 of this
        # machine, in the container's own network, reached through the published port.
        conf = os.path.join(self.work, "notebook.toml")
        with open(conf, "w") as f:
            f.write(f"""
[environments.busybox]
image = "{IMAGE}"

[runtime]
gpu_mode = "devices"
device_dir = "{os.path.join(self.work, 'dev')}"
podman_args = ["--volume", "/usr:/usr:ro", "--volume", "/usr/lib:/lib:ro",
               "--volume", "/usr/lib64:/lib64:ro", "--volume", "/etc:/etc:ro",
               "--env", "HOME=/workspace"]

[notebooks]
ports = "18950-18959"
""")
        server = Server("h200:2", ["--config", conf]).start()
        try:
            admin = server.admin
            ent, member = admin.tenant("ctrnb")
            job = member.submit(kind="notebook", gpus=1, environment="busybox")
            member.wait_state(job["id"], "running", timeout=60)
            base = job["url"]
            status = poll(lambda: (lambda r: r if r.status == 200 else None)(
                member.get(base + "api/status")), 90, "the container's Jupyter through the proxy")
            self.assertIn("started", status.json, status)
            # It runs in the job's container (podman knows it by its allocation's name) ...
            ps = subprocess.run(["podman", "ps", "--filter", f"label=gpuaas.job={job['id']}",
                                 "--format", "{{.Ports}}"], capture_output=True, text=True)
            self.assertRegex(ps.stdout, r"127\.0\.0\.1:189[5]\d->189[5]\d/tcp", ps.stdout)
            # ... its port is published on the loopback only, and its token still guards it.
            port = int(re.search(r":(\d+)->", ps.stdout).group(1))
            with self.assertRaises(urllib.error.HTTPError) as denied:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{base}api/status", timeout=10)
            self.assertEqual(denied.exception.code, 403)
            # A kernel starts in the container; a notebook saved lands in the entity workspace.
            r = member.post(base + "api/kernels", {"name": "python3"})
            self.assertEqual(r.status, 201, r)
            r = member.post(base + "api/contents", {"type": "notebook"})
            self.assertEqual(r.status, 201, r)
            saved = os.path.join(server.data_dir, "workspaces", ent, r.json["path"])
            self.assertTrue(os.path.exists(saved), saved)
            self.assertEqual(member.post(f"/api/v1/jobs/{job['id']}/cancel").status, 200)
            self.wait_final(member, job["id"], timeout=60)
            poll(lambda: subprocess.run(
                ["podman", "ps", "-a", "-q", "--filter", f"label=gpuaas.job={job['id']}"],
                capture_output=True, text=True).stdout.strip() == "", 30, "the container to go")
        finally:
            server.cleanup()
        # Options that would break the isolation of entities' jobs stop the server, saying which.
        with open(conf, "w") as f:
            f.write('[runtime]\npodman_args = ["--network=host"]\n')
        p = subprocess.run([BIN, "server", "--listen", "127.0.0.1:0", "--data-dir",
                            os.path.join(self.work, "bad-data"), "--config", conf],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("runtime.podman_args: podman argument '--network host' is refused", p.stderr)

    def test_process_job_gets_workspace_and_secret_and_quota_refuses_writers(self):
        ent, boss, member = self.tenant_with_admin("proc")
        self.assertEqual(boss.post(f"/api/v1/entities/{ent}/secrets",
                                   {"name": "API_KEY", "value": SECRET}).status, 201)
        half = len(SECRET) // 2
        job = member.submit(gpus=1, secrets=["API_KEY"], command=[
            "sh", "-c", "echo WS=$GPUAAS_WORKSPACE; echo data > $GPUAAS_WORKSPACE/f.txt && "
            f"[ \"$API_KEY\" = \"{SECRET[:half]}\"\"{SECRET[half:]}\" ] && echo secret-ok"])
        final = self.wait_final(member, job["id"])
        log = self.logs(member, job["id"])
        self.assertEqual(final["state"], "succeeded", (final, log))
        ws = os.path.join(self.server.data_dir, "workspaces", ent)
        self.assertIn(f"WS={os.path.realpath(ws)}", log.replace(self.server.data_dir,
                                                                os.path.realpath(
                                                                    self.server.data_dir)))
        self.assertIn("secret-ok", log)
        with open(os.path.join(ws, "f.txt")) as f:
            self.assertEqual(f.read(), "data\n")
        # "none": no workspace in the job.
        job = member.submit(gpus=1, workspace="none", command=["sh", "-c", "echo WS=[$GPUAAS_WORKSPACE]"])
        self.wait_final(member, job["id"])
        self.assertIn("WS=[]", self.logs(member, job["id"]))
        # Over quota: writers are refused, read-only and no-workspace jobs are not.
        self.admin.ok("PUT", f"/api/v1/entities/{ent}/storage", {"quota_bytes": 1})
        storage = self.admin.ok("GET", f"/api/v1/entities/{ent}/storage")  # measures now
        r = member.post("/api/v1/jobs", {"gpus": 1, "command": ["true"]})
        self.assertEqual(r.status, 422, (r, storage))
        assert_error_shape(self, r, 422)
        self.assertIn("over its quota", r.json["error"]["message"])
        for mode in ("ro", "none"):
            r = member.post("/api/v1/jobs", {"gpus": 1, "workspace": mode, "command": ["true"]})
            self.assertEqual(r.status, 201, (mode, r))


if __name__ == "__main__":
    unittest.main()
