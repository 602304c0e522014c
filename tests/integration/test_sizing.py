"""POST /api/v1/sizing and `gpuaas size` (docs/sizing.md): the GPUs, memory, hours, walltime,
cost and energy of a training run on each class, by the rules written in docs/sizing.md
(re-computed here from the document, not from the server's code), and when each option could
start on the platform as it is (the scheduler's estimate: later on a busy class). Sizing
changes nothing; bad input gets the contract's errors."""

import datetime
import math
import random
import unittest

from harness import ServerTestCase, kill_marked, parse_time, poll

H200_BYTES = 143771 * 1024 * 1024
L40S_BYTES = 46068 * 1024 * 1024


def by_the_doc(params, tokens, method, gpus, nodes, speed, seq=4096, batch=1, epochs=1,
               mfu=0.35):
    """docs/sizing.md, step by step: (memory per GPU in bytes, expected hours)."""
    hidden = max(128, round((128 * params / 12) ** (1 / 3)))
    layers = max(1, round(params / (12 * hidden * hidden)))
    adapters = 7 * 2 * 16 * hidden * layers
    states = {"full": 16 * params, "lora": 2 * params + 16 * adapters,
              "qlora": 0.516 * params + 16 * adapters}[method] / gpus
    acts = seq * batch * hidden * (2 * layers + 34) + seq * batch * 128256 * 6
    memory = states + acts + 1.5e9 + 0.1 * (states + acts)
    passes = 3 if method == "full" else 2
    flops = passes * (2 * params + 2 * layers * seq * hidden) * tokens * epochs
    eff = 1 if gpus == 1 else (0.95 if nodes == 1 else 0.85)
    hours = flops / (gpus * 989.4e12 * speed * mfu * eff) / 3600
    return memory, hours


def service_by_the_doc(params, gpus, bytes_per_param=2.0, context=4096, concurrency=16):
    """docs/sizing.md, "An inference service": memory per GPU in bytes, and the requests it holds
    at once on a GPU of `gpu_bytes`."""
    hidden = max(128, round((128 * params / 12) ** (1 / 3)))
    layers = max(1, round(params / (12 * hidden * hidden)))
    weights = bytes_per_param * params
    kv = 2 * layers * min(1024, hidden) * 2 * context
    prefill = context * hidden * 34
    states, acts = weights / gpus, (kv * concurrency + prefill) / gpus
    memory = states + acts + 1.5e9 + 0.1 * (states + acts)
    holds = lambda gpu_bytes: math.floor(  # noqa: E731
        ((gpu_bytes - 1.5e9) * gpus / 1.1 - weights - prefill) / kv)
    return memory, holds


class SizingTest(ServerTestCase):
    DEMO_GPUS = "h200:8,l40s:4"

    def setUp(self):
        self.marker = f"{700 + random.randint(1, 99999) / 100000:.5f}"

    def tearDown(self):
        kill_marked(f"sleep {self.marker}")

    def test_options_follow_the_document_and_the_queue(self):
        ent, member = self.admin.tenant("size")
        body = {"method": "lora", "params": "8B", "tokens": "200M", "epochs": 3}
        idle = member.ok("POST", "/api/v1/sizing", body)
        self.assertEqual(idle["entity"], ent)
        self.assertEqual(idle["workload"]["method"], "lora")
        self.assertEqual(idle["workload"]["params"], 8e9)
        self.assertEqual(idle["workload"]["tokens"], 2e8)
        options = idle["options"]
        self.assertEqual([(o["gpu_type"], o["gpus"]) for o in options],
                         [("h200", 1), ("h200", 2), ("h200", 4), ("h200", 8),
                          ("l40s", 1), ("l40s", 2), ("l40s", 4)])
        rates = {"h200": 3.5, "l40s": 1.1}
        for o in options:
            speed = 1.0 if o["gpu_type"] == "h200" else 0.4
            memory, hours = by_the_doc(8e9, 2e8, "lora", o["gpus"], 1, speed, epochs=3)
            self.assertAlmostEqual(o["memory"]["total_gb"], memory / 1e9, delta=0.02, msg=o)
            self.assertAlmostEqual(o["hours"], hours, delta=0.01, msg=o)
            self.assertAlmostEqual(o["gpu_hours"], o["gpus"] * hours, delta=0.02 * o["gpus"])
            # The limit to ask: hours + 20 % + 15 min, up to the quarter-hour.
            self.assertEqual(o["walltime_s"], math.ceil((hours * 3600 * 1.2 + 900) / 900) * 900)
            self.assertAlmostEqual(float(o["cost"]["amount"]),
                                   o["gpus"] * hours * rates[o["gpu_type"]], delta=0.02)
            self.assertAlmostEqual(float(o["cost_at_walltime"]["amount"]),
                                   o["gpus"] * o["walltime_s"] / 3600 * rates[o["gpu_type"]],
                                   delta=0.01)
            watts = 700 if o["gpu_type"] == "h200" else 350
            self.assertAlmostEqual(o["energy_kwh_max"], o["gpus"] * hours * watts / 1000,
                                   delta=0.02)
            # An idle cluster: every option starts now.
            self.assertEqual(o["queue_position"], 0, o)
            self.assertIsNotNone(o["estimated_start"], o)
        # Fastest: the most H200 (the earliest end); cheapest: one L40S (the lowest bill).
        self.assertEqual(options[idle["fastest"]]["gpus"], 8)
        self.assertEqual(options[idle["fastest"]]["gpu_type"], "h200")
        self.assertEqual((options[idle["cheapest"]]["gpu_type"],
                          options[idle["cheapest"]]["gpus"]), ("l40s", 1))
        self.assertTrue(any("LoRA" in a for a in idle["assumptions"]), idle["assumptions"])
        self.assertEqual(idle["not_possible"], [])
        self.assertEqual(member.jobs(), [], "sizing submitted nothing")

        # Every H200 busy for an hour: the H200 options start after it, the L40S ones now.
        blocker = member.submit(gpus=8, gpu_types=["h200"], command=["sleep", self.marker],
                                walltime_s=3600)
        member.wait_state(blocker["id"], "running", timeout=30)
        busy = member.ok("POST", "/api/v1/sizing", body)
        started = parse_time(member.job(blocker["id"])["started_at"])
        hour, minutes = datetime.timedelta(hours=1), datetime.timedelta(minutes=10)
        for o in busy["options"]:
            start = parse_time(o["estimated_start"])
            if o["gpu_type"] == "h200":
                self.assertGreaterEqual(start, started + hour - datetime.timedelta(seconds=1), o)
                self.assertGreaterEqual(o["queue_position"], 1, o)
            else:
                self.assertEqual(o["queue_position"], 0, o)
                self.assertLess(start, started + minutes, o)

    def test_too_big_and_too_long(self):
        _, member = self.admin.tenant("sizebig")
        # A 70B model trained whole needs 16 x 70e9 / 8 = 140 GB per GPU of states alone.
        big = member.ok("POST", "/api/v1/sizing", {"params": 70e9, "tokens": 1e9})
        self.assertIsNone(big["fastest"])
        self.assertIsNone(big["cheapest"])
        reasons = {n["gpu_type"]: n["reason"] for n in big["not_possible"]}
        self.assertIn("even on all 8 GPUs of class h200", reasons["h200"])
        self.assertIn("even on all 4 GPUs of class l40s", reasons["l40s"])
        # QLoRA fits it on H200; on one GPU it would run past the 30-day walltime limit.
        q = member.ok("POST", "/api/v1/sizing", {"params": "70B", "tokens": "3B",
                                                 "method": "qlora", "gpu_types": ["h200"]})
        first = q["options"][0]
        self.assertEqual(first["gpus"], 1)
        self.assertGreater(first["walltime_s"], 30 * 86400)
        self.assertIsNone(first["estimated_start"])
        self.assertIn("over the platform's limit", first["reason"])
        self.assertNotEqual(q["options"][q["fastest"]]["gpus"], 1)
        # Activations alone too large for any GPU.
        long = member.ok("POST", "/api/v1/sizing", {"params": "8B", "tokens": "1B",
                                                    "method": "lora", "seq_len": 131072,
                                                    "micro_batch": 8, "gpu_types": ["l40s"]})
        self.assertIn("lower the micro-batch or the sequence length",
                      long["not_possible"][0]["reason"])

    def test_inference_service(self):
        ent, member = self.admin.tenant("sizeinf")
        body = {"method": "inference", "params": "70B", "precision": "fp8", "concurrency": 32,
                "hours": 720}
        got = member.ok("POST", "/api/v1/sizing", body)
        self.assertEqual(got["workload"]["method"], "inference")
        self.assertEqual((got["workload"]["precision"], got["workload"]["concurrency"],
                          got["workload"]["hours"]), ("fp8", 32, 720))
        self.assertNotIn("flops", got["workload"])
        options = got["options"]
        # The fewest GPUs of a node that hold it, and twice that: 1 and 2 H200; 4 L40S (a node).
        self.assertEqual([(o["gpu_type"], o["gpus"]) for o in options],
                         [("h200", 1), ("h200", 2), ("l40s", 4)])
        rates = {"h200": 3.5, "l40s": 1.1}
        gpu_bytes = {"h200": H200_BYTES, "l40s": L40S_BYTES}
        for o in options:
            memory, holds = service_by_the_doc(70e9, o["gpus"], 1.0, concurrency=32)
            self.assertAlmostEqual(o["memory"]["total_gb"], memory / 1e9, delta=0.02, msg=o)
            self.assertEqual(o["max_concurrency"], holds(gpu_bytes[o["gpu_type"]]), o)
            self.assertGreaterEqual(o["max_concurrency"], 32, o)
            self.assertEqual((o["hours"], o["walltime_s"]), (720, 720 * 3600))
            self.assertAlmostEqual(float(o["cost"]["amount"]),
                                   o["gpus"] * 720 * rates[o["gpu_type"]], delta=0.01)
            self.assertEqual(o["queue_position"], 0, o)
        self.assertEqual(options[got["cheapest"]]["gpus"], 1)
        self.assertTrue(any("KV cache" in a for a in got["assumptions"]), got["assumptions"])
        self.assertEqual(member.jobs(), [], "sizing submitted nothing")
        # Too big for a node; over the 30-day walltime limit; fields of the other kind.
        # 405B in bf16 fits a node of 8 H200 (101 GB each), not one of 4 L40S.
        big = member.ok("POST", "/api/v1/sizing", {"method": "inference", "params": "405B",
                                                   "gpu_types": ["h200", "l40s"]})
        self.assertEqual([(o["gpu_type"], o["gpus"]) for o in big["options"]], [("h200", 8)])
        self.assertEqual(big["not_possible"][0]["gpu_type"], "l40s")
        self.assertIn("a service is tensor-parallel within one node",
                      big["not_possible"][0]["reason"])
        long = member.ok("POST", "/api/v1/sizing", {"method": "inference", "params": "8B",
                                                    "hours": 800, "gpu_types": ["l40s"]})
        self.assertIsNone(long["options"][0]["estimated_start"])
        self.assertIn("over the platform's limit of 30d: ask for fewer hours",
                      long["options"][0]["reason"])
        for bad, words in [({"tokens": "1B"}, "tokens is for training"),
                           ({"precision": "fp4"}, "unknown precision 'fp4'"),
                           ({"concurrency": 0}, "concurrency must be a positive integer"),
                           ({"hours": 0.1}, "hours must be between 0.25 and 100000")]:
            r = member.post("/api/v1/sizing", {"method": "inference", "params": "8B", **bad})
            self.assertError(r, 422, str(bad))
            self.assertIn(words, r.json["error"]["message"], bad)
        r = member.post("/api/v1/sizing", {"params": "8B", "tokens": "1B", "concurrency": 4})
        self.assertError(r, 422)
        self.assertIn("concurrency is for an inference service", r.json["error"]["message"])
        out = self.server.cli("size", "--method", "inference", "--params", "70B", "--precision",
                              "fp8", "--concurrency", "32", "--entity", ent, json_out=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("MAX REQUESTS", out.stdout)
        self.assertIn("submit the soonest: gpuaas submit --kind service --gpus 1 --gpu-type h200"
                      " --walltime 720h", out.stdout)

    def test_bad_input(self):
        other, _ = self.admin.tenant("sizeother")
        _, member = self.admin.tenant("sizebad")
        ok = {"params": "7B", "tokens": "1B"}
        cases = [
            (400, dict(ok, param=1), "unknown field 'param'"),
            (400, {"params": [7], "tokens": 1}, "'params' must be a number or a count"),
            (400, dict(ok, tokens="1Q"), "tokens: expected a positive number"),
            (422, {"tokens": "1B"}, "params is required"),
            (422, dict(ok, method="dora"), "unknown method 'dora' (full, lora, qlora, inference)"),
            (422, dict(ok, mfu=1.5), "mfu must be between 0.01 and 1"),
            (422, dict(ok, params=1e3), "params must be between 1M and 10T"),
            (422, dict(ok, epochs=0), "epochs must be a positive integer"),
            (422, dict(ok, gpu_types=["a100"]), "unknown GPU class 'a100'"),
            (422, dict(ok, gpu_types=["h200", "h200"]), "lists 'h200' twice"),
            (404, dict(ok, entity=other), "does not exist"),
        ]
        for status, body, words in cases:
            r = member.post("/api/v1/sizing", body)
            self.assertError(r, status, str(body))
            self.assertIn(words, r.json["error"]["message"], body)
        self.assertError(member.post("/api/v1/sizing", raw=b"{", headers={}), 400)
        self.assertError(member.with_token("").post("/api/v1/sizing", ok), 401)
        # The admin names the entity.
        self.assertError(self.admin.post("/api/v1/sizing", ok), 400)
        self.assertEqual(self.admin.ok("POST", "/api/v1/sizing", dict(ok, entity=other))["entity"],
                         other)

    def test_cli(self):
        ent, _ = self.admin.tenant("sizecli")
        out = self.server.cli("size", "--params", "8B", "--tokens", "200M", "--method", "lora",
                              "--epochs", "3", "--entity", ent, json_out=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("lora training of a model of 8B parameters on 200M tokens x 3 epoch(s)",
                      out.stdout)
        self.assertIn("CLASS", out.stdout)
        self.assertIn("fastest: 8 x h200", out.stdout)
        self.assertIn("cheapest: 1 x l40s", out.stdout)
        self.assertIn("submit the fastest: gpuaas submit --gpus 8 --gpu-type h200 --walltime 3h",
                      out.stdout)
        as_json = self.server.cli("size", "--params", "8B", "--tokens", "200M", "--method",
                                  "lora", "--epochs", "3", "--entity", ent)
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        self.assertEqual(len(as_json.json["options"]), 7)
        for args, words in [(["--params", "8X", "--tokens", "1B"], "--params: expected"),
                            (["--params", "8B", "--tokens", "1B", "--method", "dora"],
                             "--method must be full, lora, qlora or inference"),
                            (["--params", "8B", "--tokens", "1B", "--mfu", "0"], "--mfu"),
                            (["--params", "8B", "--tokens", "1B", "--epochs", "-1"], "--epochs"),
                            (["--tokens", "1B"], "--params is required"),
                            (["--params", "8B"], "--tokens is required"),
                            (["--params", "8B", "--tokens", "1B", "--hours", "3"],
                             "--hours is for --method inference")]:
            bad = self.server.cli("size", *args, json_out=False)
            self.assertEqual(bad.returncode, 2, (args, bad.stdout, bad.stderr))
            self.assertIn(words, bad.stderr, args)
        helped = self.server.cli("size", "--help", json_out=False)
        self.assertEqual(helped.returncode, 0)
        self.assertIn("--micro-batch", helped.stdout)


if __name__ == "__main__":
    unittest.main()
