"""Entity secrets sealed at rest, end to end through a real server (docs/adr/0011).

Shows: with `[secrets] key_file` on another directory than the data dir, the server makes the
key there (0600) on its first start, secrets.json holds only sealed values, and a job that asks
for a secret still gets it; a key rotation (the old key moved aside and named by
`[secrets] previous_key_file`) makes a new key and seals the store again with it, the secret
still reaching jobs; a server whose key file is gone, or holds another key, refuses to start and
says which key the store needs, leaving the store as it was.
"""

import json
import os
import shutil
import stat
import tempfile
import unittest

from harness import Server, poll, require_binary, unique

SECRET = "s3cr3t-" + "4b1d9e0f7a"


class SecretsAtRestTest(unittest.TestCase):

    def setUp(self):
        require_binary()
        self.dir = tempfile.mkdtemp(prefix="gpuaas-keys-")
        self.key = os.path.join(self.dir, "vault", "gpuaas-secrets.key")
        os.makedirs(os.path.dirname(self.key), mode=0o700)
        self.old_key = self.key + ".old"
        self.config = os.path.join(self.dir, "gpuaas.toml")
        self.write_config(rotating=False)
        self.server = Server(demo_gpus="h200:2", extra_args=["--config", self.config])

    def tearDown(self):
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, rotating):
        with open(self.config, "w") as f:
            f.write(f'[secrets]\nkey_file = "{self.key}"\n')
            if rotating:
                f.write(f'previous_key_file = "{self.old_key}"\n')

    def store(self):
        with open(os.path.join(self.server.data_dir, "secrets.json")) as f:
            return f.read()

    def job_sees_secret(self, member):
        half = len(SECRET) // 2  # the script does not hold the value in one piece
        job = member.submit(gpus=1, secrets=["API_KEY"], command=[
            "sh", "-c", f"[ \"$API_KEY\" = \"{SECRET[:half]}\"\"{SECRET[half:]}\" ] && echo ok-secret"])
        final = member.wait_final(job["id"], timeout=60)
        self.assertEqual(final["state"], "succeeded", final)
        log = poll(lambda: (lambda t: t if "ok-secret" in t else None)(
            member.get(f"/api/v1/jobs/{job['id']}/logs").text), 20, "the job's log")
        self.assertIn("ok-secret", log)

    def test_sealed_store_rotation_and_a_missing_key(self):
        self.server.start()
        admin = self.server.admin
        ent = unique("sec")
        admin.create_entity(ent)
        boss = admin.with_token(admin.create_user(unique("seca"), ent, role="entity-admin")["token"])
        member = admin.with_token(admin.create_user(unique("secm"), ent)["token"])
        r = boss.post(f"/api/v1/entities/{ent}/secrets", {"name": "API_KEY", "value": SECRET})
        self.assertIn(r.status, (200, 201), r)

        # The key is where the config says, private; none beside the data; no value in clear.
        self.assertEqual(stat.S_IMODE(os.stat(self.key).st_mode), 0o600)
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "secrets.key")))
        doc = json.loads(self.store())
        self.assertEqual(doc["cipher"], "AES-256-GCM")
        first_id = doc["key_id"]
        self.assertNotIn(SECRET, self.store())
        self.job_sees_secret(member)

        # Rotation: the old key aside, named as the previous one; a new key is made.
        self.assertEqual(self.server.stop(), 0)
        os.rename(self.key, self.old_key)
        self.write_config(rotating=True)
        self.server.start()
        self.assertTrue(os.path.exists(self.key))
        second_id = json.loads(self.store())["key_id"]
        self.assertNotEqual(second_id, first_id)
        self.assertIn("sealed again (key rotation)", self.server.log_text())
        self.job_sees_secret(member)

        # Without its key the server does not start, and says which key the store needs.
        self.assertEqual(self.server.stop(), 0)
        before = self.store()
        os.rename(self.key, os.path.join(self.dir, "lost.key"))
        self.write_config(rotating=False)
        with self.assertRaises(AssertionError) as failed:
            self.server.start()
        self.assertIn(f"is sealed with key {second_id}", str(failed.exception))
        self.assertIn(self.key, str(failed.exception))
        self.assertEqual(self.store(), before)
        self.assertFalse(os.path.exists(self.key))  # no new key made over the store's

        # Nor with another key in its place; with the right key back, it starts.
        with open(self.key, "w") as f:
            f.write("ab" * 32 + "\n")
        os.chmod(self.key, 0o600)
        with self.assertRaises(AssertionError) as failed:
            self.server.start()
        self.assertIn(f"is sealed with key {second_id}", str(failed.exception))
        os.replace(os.path.join(self.dir, "lost.key"), self.key)
        self.server.start()
        self.job_sees_secret(member)


if __name__ == "__main__":
    unittest.main()
