// Portal end-to-end tests: starts a real `gpuaas server` (temp data dir, 127.0.0.1, port 0,
// simulated GPUs running real processes), drives Debian's Chromium with playwright-core, and
// checks what a person sees: sign in, submit a job from the form, watch it run and finish with
// its cost, entity isolation (another entity's job page says "not found"), operators' fleet
// map, French. Screenshots go to $E2E_SCREENSHOTS (default build/e2e-screenshots; run with
// E2E_SCREENSHOTS=docs/screenshots to refresh the README's pictures).
//
// Preconditions: build/gpuaas and web/dist built; /usr/bin/chromium installed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, stopProcess } from "./support.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BINARY = process.env.GPUAAS_BIN || path.join(ROOT, "build/gpuaas");
const WEB_DIR = process.env.GPUAAS_WEB_DIR || path.join(ROOT, "web/dist");
const SHOTS = path.resolve(ROOT, process.env.E2E_SCREENSHOTS || "build/e2e-screenshots");
const WAIT_MS = 60_000; // upper bound of a wait, never a timing goal
const NOTEBOOK_IDLE_S = 20;
const NOTEBOOK_PORT = 19_000 + (process.pid % 900); // one port of our own for Jupyter

let server, dataDir, base, adminToken, browser;
const tokens = {};

function startServer() {
  return new Promise((resolve, reject) => {
    dataDir = mkdtempSync(path.join(tmpdir(), "gpuaas-e2e-"));
    // A short idle setting for the notebook test. The demo GPUs report ~90 % utilisation for
    // every device a workload holds, so the GPU part of the idle rule is off (idle_util_pct).
    const config = path.join(dataDir, "server.toml");
    writeFileSync(config, `[notebooks]\nidle_timeout = "${NOTEBOOK_IDLE_S}s"\nidle_check = "1s"\n` +
      `idle_util_pct = 100\nports = "${NOTEBOOK_PORT}-${NOTEBOOK_PORT}"\n`);
    server = spawn(BINARY, ["server", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
      "--web-dir", WEB_DIR, "--demo-gpus", "h200:8,l40s:4", "--config", config],
      { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), WAIT_MS);
    const onData = (chunk) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      const tok = /admin token: (\S+)/.exec(out);
      if (url && tok) {
        clearTimeout(timer);
        base = url[1];
        adminToken = tok[1];
        resolve();
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
}

async function call(method, p, token, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

async function waitReady() {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const r = await fetch(`${base}/readyz`).catch(() => null);
    if (r && r.status === 200) {
      const nodes = await call("GET", "/api/v1/nodes", adminToken);
      if (nodes.json?.nodes?.length === 2) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("server not ready with its two demo nodes");
}

async function newPage(viewport = { width: 1280, height: 860 }) {
  const context = await browser.newContext({ viewport, locale: "en-GB", timezoneId: "UTC" });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  return page;
}

async function signIn(page, token) {
  await page.goto(`${base}/`);
  await page.fill("#token", token);
  await page.click("form button[type=submit]");
  await page.waitForSelector('nav a[href="/work"][aria-current="page"]');
}

async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

before(async () => {
  await startServer();
  await waitReady();
  for (const e of ["physics", "biology"]) {
    const r = await call("POST", "/api/v1/entities", adminToken, { name: e, quota: { h200: 8, l40s: 4 } });
    assert.equal(r.status, 201, r.text);
  }
  for (const [user, entity] of [["alice", "physics"], ["bob", "biology"]]) {
    const r = await call("POST", "/api/v1/users", adminToken, { name: user, entity, role: "member" });
    assert.equal(r.status, 201, r.text);
    tokens[user] = r.json.token;
  }
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopProcess(server);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("the server serves the portal without shadowing the API", async () => {
  const index = await fetch(`${base}/jobs/12`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get("content-type"), /^text\/html/);
  assert.equal(index.headers.get("cache-control"), "no-cache");
  const html = await index.text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, html);
  const js = await fetch(base + asset);
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type"), /^text\/javascript/);
  assert.match(js.headers.get("cache-control"), /immutable/);
  const api404 = await call("GET", "/api/v1/nope", adminToken);
  assert.equal(api404.status, 404);
  assert.equal(api404.json.error.code, "not_found");
  assert.equal((await fetch(`${base}/healthz`)).headers.get("content-type"), "application/json");
  assert.equal((await fetch(`${base}/assets/missing.js`)).status, 404);
});

test("sign in with a token sets an HttpOnly SameSite=Strict session cookie; a bad token is refused", async () => {
  const page = await newPage();
  await page.goto(`${base}/`);
  await page.waitForSelector("#token");
  await shot(page, "signin");
  await page.fill("#token", "gpa_" + "0".repeat(64));
  await page.click("form button[type=submit]");
  await page.waitForSelector("text=This token was not accepted.");
  await signIn(page, tokens.alice);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "gpuaas_session");
  assert.ok(session, JSON.stringify(cookies));
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(await page.evaluate(() => document.cookie.includes("gpuaas_session")), false);
  assert.match(await page.textContent("header.top"), /alice · physics/);
  assert.match(await page.textContent("header.top"), /simulated/);
  await page.click("text=Sign out");
  await page.waitForSelector("#token");
  const after = (await page.context().cookies()).find((c) => c.name === "gpuaas_session");
  assert.ok(!after || after.value === "");
  await page.context().close();
});

let jobId;

// WCAG 2.1 checks run in the page: every form control has a label, and every visible text has a
// contrast ratio of at least 4.5:1 (3:1 for large text) against its effective background.
function auditPage() {
  const unlabelled = [...document.querySelectorAll("input, select, textarea")]
    .filter((el) => el.type !== "hidden" && !(el.labels && el.labels.length) &&
      !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
    .map((el) => el.id || el.name || el.outerHTML.slice(0, 60));
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join("");
    if (!text || el.closest("svg, [hidden], .gpu")) continue;
    const st = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (st.visibility === "hidden" || st.display === "none" || box.width === 0 || box.height === 0) continue;
    const fg = rgb(st.color);
    const bg = background(el);
    const [a, b] = [lum(fg.slice(0, 3)), lum(bg.slice(0, 3))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(st.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) low.push(`${text.slice(0, 30)} (${ratio.toFixed(2)}:1)`);
  }
  return { unlabelled, low };
}

test("first view under 1 s; keyboard only; every field labelled; text contrast at WCAG AA", async () => {
  const page = await newPage();
  // First view: from navigation to the sign-in form, painted and usable (a figure, not a timing
  // goal: the bound below is the issue's target with slack for a loaded 2-core CI machine).
  const t0 = Date.now();
  await page.goto(`${base}/`);
  await page.waitForSelector("#token");
  const firstView = Date.now() - t0;
  console.log(`first view (navigation to a usable sign-in form): ${firstView} ms`);
  assert.ok(firstView < 5_000, `first view took ${firstView} ms`);
  // Keyboard only: Tab to the token field, type, Enter; then Tab to "Request GPUs", Enter.
  const tabTo = async (test) => {
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      if (await page.evaluate(test)) return;
    }
    assert.fail("not reachable with the keyboard");
  };
  await tabTo(() => document.activeElement?.id === "token");
  await page.keyboard.type(tokens.alice);
  await page.keyboard.press("Enter");
  await page.waitForSelector('nav a[href="/work"][aria-current="page"]');
  await tabTo(() => document.activeElement?.getAttribute("href") === "/request");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#gpu-class");
  for (const where of ["/request", "/work", "/entity"]) {
    if (where !== "/request") {
      await page.click(`nav a[href="${where}"]`);
      await page.waitForSelector(`nav a[href="${where}"][aria-current="page"]`);
      await page.waitForLoadState("networkidle");
    }
    const { unlabelled, low } = await page.evaluate(auditPage);
    assert.deepEqual(unlabelled, [], `${where}: controls without a label`);
    assert.deepEqual(low, [], `${where}: text below the WCAG AA contrast ratio`);
  }
  await page.context().close();
});

test("alice submits a job from the form, sees it run and finish with its cost and logs", async () => {
  const page = await newPage();
  await signIn(page, tokens.alice);
  await page.click('nav a[href="/request"]');
  await page.waitForSelector("#gpu-class");
  await page.selectOption("#gpu-class", "h200");
  await page.fill("#gpus", "2");
  await page.fill("#walltime", "10");
  await page.selectOption("#walltime-unit", "m");
  // The ready-made environments are offered; this job runs on the server itself (the demo has
  // no registry to pull the PyTorch image from; containers are tested in test_containers.py).
  const envs = await page.locator("#environment option").allTextContents();
  assert.ok(envs.some((e) => e.startsWith("pytorch — PyTorch")), envs.join(" | "));
  await page.selectOption("#environment", "");
  await page.fill("#command", "echo hello from the portal; echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES; sleep 3");
  // The price, the maximum cost and the fallback option are shown before submitting.
  const summary = page.locator(".summary");
  await summary.locator("text=per hour").first().waitFor();
  const text = await summary.textContent();
  assert.match(text, /2 × €3\.50\/h = €7\.00 per hour/, text);
  assert.match(text, /At most €1\.17/, text); // 2 × 3.50 × 10/60
  assert.match(text, /Fallback: l40s .*2\.5× slower.*€1\.10\/h per GPU/, text);
  await shot(page, "request");
  await page.click("form.request button[type=submit]");
  await page.waitForURL(/\/jobs\/\d+$/);
  jobId = Number(/\/jobs\/(\d+)$/.exec(page.url())[1]);
  await page.waitForSelector(".badge.state-running, .badge.state-succeeded");
  await page.waitForSelector("#logs:has-text('hello from the portal')");
  await shot(page, "job-running");
  await page.waitForSelector(".badge.state-succeeded");
  await page.waitForSelector("#logs:has-text('CUDA_VISIBLE_DEVICES=')");
  const cost = await page.textContent("#job-cost");
  const api = await call("GET", `/api/v1/jobs/${jobId}`, tokens.alice);
  assert.equal(api.json.state, "succeeded");
  assert.ok(api.json.cost.micros > 0, JSON.stringify(api.json.cost));
  assert.match(cost, /^€0\.\d+$/);
  assert.match(await page.textContent("dl.facts"), /h200/);
  assert.match(await page.textContent("dl.facts"), /demo-h200-0 \(simulated\)/);
  await shot(page, "job");

  // My work lists it with its state and cost.
  await page.click('nav a[href="/work"]');
  const row = page.locator(`tr[data-job="${jobId}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /succeeded/);
  assert.match(await row.locator("td.cost").textContent(), /€/);
  await page.context().close();
});

test("alice sizes a fine-tuning run; the form takes the option she picks", async () => {
  const page = await newPage();
  await signIn(page, tokens.alice);
  await page.click('nav a[href="/request"]');
  await page.waitForSelector("#gpu-class");
  await page.click("#sizing > summary");
  await page.selectOption("#size-method", "lora");
  await page.fill("#size-params", "8B");
  await page.fill("#size-tokens", "200M");
  await page.fill("#size-epochs", "3");
  await page.click("#sizing button[type=submit]");
  await page.waitForSelector("#size-result table.sizing tbody tr");
  // The table is the API's answer: one row per option, the fastest and cheapest marked.
  const api = (await call("POST", "/api/v1/sizing", tokens.alice,
    { method: "lora", params: "8B", tokens: "200M", epochs: 3 })).json;
  const rows = page.locator("#size-result tbody tr");
  assert.equal(await rows.count(), api.options.length);
  const fastest = api.options[api.fastest];
  const cheapest = api.options[api.cheapest];
  const row = (o) => page.locator(`#size-result tr[data-gpu-type="${o.gpu_type}"][data-gpus="${o.gpus}"]`);
  assert.match(await row(fastest).textContent(), /fastest/);
  assert.match(await row(cheapest).textContent(), /cheapest/);
  assert.match(await page.textContent("#size-result details"), /How this is computed/);
  await shot(page, "sizing");
  // "Use" fills the request form: its class only, its GPUs and walltime.
  await row(fastest).locator("button.use").click();
  assert.equal(await page.inputValue("#gpu-class"), fastest.gpu_type);
  assert.equal(await page.inputValue("#gpus"), String(fastest.gpus));
  const wall = Number(await page.inputValue("#walltime")) *
    { m: 60, h: 3600, d: 86400 }[await page.inputValue("#walltime-unit")];
  assert.equal(wall, fastest.walltime_s);
  assert.equal(await page.isChecked("#fallback"), false);
  assert.match(await page.textContent("form.request"), /Form filled in/);
  // An inference service: its own fields; "Use" makes the request a service.
  await page.selectOption("#size-method", "inference");
  assert.equal(await page.isVisible("#size-tokens"), false);
  await page.selectOption("#size-precision", "fp8");
  await page.fill("#size-concurrency", "8");
  await page.fill("#size-hours", "24");
  await page.click("#sizing button[type=submit]");
  await page.waitForSelector("#size-result tbody tr td:has-text('holds')");
  const served = (await call("POST", "/api/v1/sizing", tokens.alice,
    { method: "inference", params: "8B", precision: "fp8", concurrency: 8, hours: 24 })).json;
  assert.equal(await rows.count(), served.options.length);
  const first = served.options[0];
  assert.match(await row(first).textContent(), new RegExp(`holds ${first.max_concurrency} requests`));
  await row(first).locator("button.use").click();
  assert.equal(await page.inputValue("#kind"), "service");
  assert.equal(await page.inputValue("#gpus"), String(first.gpus));
  assert.equal(await page.inputValue("#walltime"), "24");
  assert.equal(await page.inputValue("#walltime-unit"), "h");
  await page.selectOption("#size-method", "lora");
  // A bad size says why, in the page.
  await page.fill("#size-params", "8X");
  await page.click("#sizing button[type=submit]");
  await page.waitForSelector("#size-result .error");
  assert.match(await page.textContent("#size-result .error"), /params: expected a positive number/);
  await page.context().close();
});

test("a member of another entity cannot see the job page or its logs", async () => {
  assert.ok(jobId, "needs the submitted job");
  const page = await newPage();
  await signIn(page, tokens.bob);
  await page.goto(`${base}/jobs/${jobId}`);
  await page.waitForSelector("#not-found");
  assert.match(await page.textContent("#not-found"), new RegExp(`Job ${jobId} not found`));
  assert.equal(await page.locator("#logs:has-text('hello')").count(), 0);
  await page.click('nav a[href="/work"]');
  await page.waitForSelector("text=No jobs yet.");
  for (const p of [`/api/v1/jobs/${jobId}`, `/api/v1/jobs/${jobId}/logs`]) {
    assert.equal((await call("GET", p, tokens.bob)).status, 404, p);
  }
  await page.context().close();
});

test("alice opens a notebook through the proxy, runs a cell on her GPUs, and it is reclaimed when idle", async () => {
  const sub = await call("POST", "/api/v1/jobs", tokens.alice,
    { kind: "notebook", gpus: 1, gpu_types: ["h200"], entity: "physics" });
  assert.equal(sub.status, 201, sub.text);
  const id = sub.json.id;
  const page = await newPage();
  await signIn(page, tokens.alice);
  await page.goto(`${base}/jobs/${id}`);
  await page.waitForSelector(".badge.state-running");
  const job = (await call("GET", `/api/v1/jobs/${id}`, tokens.alice)).json;
  // Jupyter takes a few seconds to listen behind the proxy.
  const deadline = Date.now() + WAIT_MS;
  while ((await call("GET", `/notebooks/${id}/api/status`, tokens.alice)).status !== 200) {
    assert.ok(Date.now() < deadline, "the notebook never answered through the proxy");
    await new Promise((r) => setTimeout(r, 300));
  }
  const created = await call("POST", `/notebooks/${id}/api/contents`, tokens.alice, { type: "notebook" });
  assert.equal(created.status, 201, created.text);
  // The job page links to the notebook; it opens in a new tab with the session cookie only.
  const [nb] = await Promise.all([
    page.context().waitForEvent("page"),
    page.click(`a[href="/notebooks/${id}/"]`),
  ]);
  await nb.waitForLoadState();
  assert.match(nb.url(), new RegExp(`/notebooks/${id}/tree`));
  // The real Jupyter UI: open the notebook, type a cell, run it (its kernel WebSocket goes
  // through the server's tunnel), read the output.
  await nb.goto(`${base}/notebooks/${id}/notebooks/${encodeURIComponent(created.json.path)}`);
  await nb.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected?.(), null,
    { timeout: WAIT_MS });
  await nb.click(".cell .CodeMirror");
  await nb.keyboard.type('import os; print(os.environ.get("CUDA_VISIBLE_DEVICES"))');
  await nb.keyboard.press("Shift+Enter");
  const out = nb.locator(".output_subarea.output_stream pre").first();
  await out.waitFor();
  assert.equal((await out.textContent()).trim(), job.gpu_ids.join(","));
  await shot(nb, "notebook");
  await nb.close();
  // The job page gives its GPU use from the (simulated) devices' samples, every 5 s.
  await page.waitForSelector("#job-gpuuse", { timeout: 30_000 });
  assert.match(await page.textContent("#job-gpuuse"),
    /^[\d.]+% mean utilisation · peak memory [\d.,]+ GiB · [\d.,]+ Wh · idle \d+ (s|min)$/);
  assert.equal(await page.locator("#job-network").count(), 0); // a process job: no own network
  // bob (another entity) gets 404 at the proxy.
  assert.equal((await call("GET", `/notebooks/${id}/api/status`, tokens.bob)).status, 404);
  // Idle: the job page shows the warning, then the reclaim; the GPUs are released.
  await page.reload();
  await page.waitForSelector(`text=/idle: no activity since/`, { timeout: (NOTEBOOK_IDLE_S + 30) * 1000 });
  await page.waitForSelector(".badge.state-cancelled", { timeout: (NOTEBOOK_IDLE_S + 30) * 1000 });
  const final = (await call("GET", `/api/v1/jobs/${id}`, tokens.alice)).json;
  assert.equal(final.state, "cancelled");
  assert.equal(final.reason, `idle: no activity for ${NOTEBOOK_IDLE_S}s`);
  await page.context().close();
});

test("my entity shows this month's usage and cost", async () => {
  const page = await newPage();
  await signIn(page, tokens.alice);
  await page.click('nav a[href="/entity"]');
  await page.waitForSelector("#total-physics");
  const usage = await call("GET", "/api/v1/usage?entity=physics", tokens.alice);
  const total = usage.json.entities[0].cost;
  assert.ok(total.micros > 0);
  assert.match(await page.textContent("#total-physics"), /€/);
  // Energy and network of its jobs (running ones so far), as the usage API gives them.
  const measured = usage.json.entities[0];
  assert.equal(typeof measured.energy_kwh, "number");
  assert.equal(typeof measured.network.rx_bytes, "number");
  assert.match(await page.textContent("#measured-physics"),
    /^Measured on its jobs \(running ones so far\): energy [\d.,]+ kWh; network [\d.,]+ k?[MGT]?B received, [\d.,]+ k?[MGT]?B sent/);
  // Its place in the queue, from GET /api/v1/fairshare: first, delayed, or not delayed. (The
  // server refreshes the ledger's usage once a minute: should the figures change between the
  // page's request and the test's, the page is loaded again.)
  const expected = (fs) =>
    fs.late ? /go first/
    : fs.delay_s > 0 ? /placed as if submitted .+ later/
    : fs.usage_gpu_hours > 0 ? /of the shares; your jobs are not delayed/ : /no recent use/;
  for (let tries = 0; ; ++tries) {
    const fs = (await call("GET", "/api/v1/fairshare", tokens.alice)).json.entities[0];
    assert.equal(fs.entity, "physics");
    const said = await page.textContent("#fairshare-physics");
    if (expected(fs).test(said) || tries === 2) {
      assert.match(said, expected(fs));
      break;
    }
    await page.reload();
    await page.waitForSelector("#fairshare-physics");
  }
  await shot(page, "entity");
  await page.context().close();
});

test("an entity admin reads this month's invoice, downloads its CSV, sees the budget; members have no such page", async () => {
  const erin = await call("POST", "/api/v1/users", adminToken, { name: "erin", entity: "physics", role: "entity-admin" });
  assert.equal(erin.status, 201, erin.text);
  const budget = await call("PUT", "/api/v1/entities/physics/budget", adminToken, { monthly: "500.00", policy: "best-effort-only" });
  assert.equal(budget.status, 200, budget.text);
  const month = new Date().toISOString().slice(0, 7);
  const page = await newPage();
  await signIn(page, erin.json.token);
  await page.click('nav a[href="/invoices"]');
  await page.waitForSelector("#inv-status");
  const inv = (await call("GET", `/api/v1/invoices?entity=physics&month=${month}`, erin.json.token)).json;
  assert.ok(inv.lines.length > 0, "physics ran jobs in the tests before");
  // Her own entity only; the month's lines and totals as the API gives them.
  assert.equal(await page.inputValue("#inv-entity"), "physics");
  assert.ok(await page.isDisabled("#inv-entity"));
  assert.equal(await page.inputValue("#inv-month"), month);
  assert.match(await page.textContent("#inv-status"), /^Open: computed live/);
  assert.equal(await page.locator("table.invoice tbody tr").count(), inv.lines.length);
  assert.ok((await page.textContent("#inv-total")).includes(inv.total.amount), inv.total.amount);
  assert.match(await page.textContent("#inv-network"), /^[\d.,]+ k?[MGT]?B \/ [\d.,]+ k?[MGT]?B$/);
  assert.match(await page.textContent("#inv-budget"), /^Budget: €500\.00 a month, .+ spent \(.+ %\); beyond it new jobs run as best-effort only\.$/);
  // The CSV link answers the contract's CSV with her session cookie: a header, one row per line.
  const href = await page.getAttribute("#inv-csv", "href");
  const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href);
  const rows = csv.trim().split("\r\n");
  assert.match(rows[0], /^job,user,project,gpu_type,.*,net_rx_gb,net_tx_gb$/);
  assert.equal(rows.length, inv.lines.length + 1);
  assert.match(await page.getAttribute("#inv-html", "href"), /format=html/);
  const { unlabelled, low } = await page.evaluate(auditPage);
  assert.deepEqual(unlabelled, [], "/invoices: controls without a label");
  assert.deepEqual(low, [], "/invoices: text below the WCAG AA contrast ratio");
  // An earlier month: nothing billed, no budget line (it is about this month).
  await page.fill("#inv-month", "2020-01");
  await page.click("form.filters button[type=submit]");
  await page.waitForSelector("text=Nothing billed this month.");
  assert.equal(await page.locator("#inv-budget").count(), 0);
  await page.context().close();
  assert.equal((await call("PUT", "/api/v1/entities/physics/budget", adminToken, { monthly: "0" })).status, 200);

  // A platform admin chooses the entity.
  const admin = await newPage();
  await signIn(admin, adminToken);
  await admin.click('nav a[href="/invoices"]');
  await admin.waitForSelector("#inv-entity:not([disabled]) option[value=biology]", { state: "attached" });
  await admin.selectOption("#inv-entity", "physics");
  await admin.click("form.filters button[type=submit]");
  await admin.waitForSelector("table.invoice");
  await shot(admin, "invoices");
  await admin.context().close();

  // Alice, a member: no link.
  const member = await newPage();
  await signIn(member, tokens.alice);
  assert.equal(await member.locator('nav a[href="/invoices"]').count(), 0);
  await member.context().close();
});

test("operators see the fleet allocation map (simulated) and the queue; French works", async () => {
  // A long job holding 6 H200 and one that must wait behind it.
  const hold = await call("POST", "/api/v1/jobs", tokens.alice,
    { name: "train-llm", gpus: 6, gpu_types: ["h200"], walltime_s: 600, command: ["sleep", "120"] });
  assert.equal(hold.status, 201, hold.text);
  const wait = await call("POST", "/api/v1/jobs", tokens.bob,
    { name: "fold-proteins", gpus: 4, gpu_types: ["h200"], walltime_s: 600, command: ["sleep", "60"] });
  assert.equal(wait.status, 201, wait.text);
  const page = await newPage();
  await signIn(page, adminToken);
  await page.click('nav a[href="/operators"]');
  await page.waitForSelector(`a.gpu.busy[href="/jobs/${hold.json.id}"]`);
  await page.waitForSelector(`tr[data-job="${wait.json.id}"]`);
  assert.equal(await page.locator(".simulated-badge").count(), 2);
  assert.equal(await page.locator(`a.gpu.busy[href="/jobs/${hold.json.id}"]`).count(), 6);
  await shot(page, "operators");

  // With telemetry (served here by a stand-in route, so the test does not depend on the
  // telemetry module's samples), the map becomes a utilisation heat map and a running job's
  // page shows its GPU charts. No screenshot: the figures are made up.
  await page.route("**/api/v1/nodes/*/telemetry*", async (route) => {
    const node = decodeURIComponent(/nodes\/([^/]+)\/telemetry/.exec(route.request().url())[1]);
    const count = node.includes("h200") ? 8 : 4;
    const gpus = Array.from({ length: count }, (_, index) => ({
      index, job: null,
      samples: [0, 1, 2].map((k) => ({ t: new Date(Date.now() - (2 - k) * 1000).toISOString(),
        util: index < 6 && node.includes("h200") ? 60 + 10 * k : 0, mem_used_mb: 40960, power_w: 500, temp_c: 60 })),
    }));
    await route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ node, gpus }) });
  });
  await page.waitForSelector("h2:has-text('Utilisation heat map')");
  await page.waitForSelector(`a.gpu.busy.heat[href="/jobs/${hold.json.id}"]:has-text("80%")`);
  await page.goto(`${base}/jobs/${hold.json.id}`);
  await page.waitForSelector("figure.chart >> nth=2");
  assert.match(await page.textContent("section:has(figure.chart)"), /Utilisation \(mean\): 80 %/);
  await page.unroute("**/api/v1/nodes/*/telemetry*");
  await page.click('nav a[href="/operators"]');
  await page.waitForSelector(`a.gpu.busy[href="/jobs/${hold.json.id}"]`);
  // A real node's network rates (simulated nodes have none; stand-in figures on the first node).
  await page.route("**/api/v1/nodes", async (route) => {
    const r = await route.fetch();
    const body = await r.json();
    body.nodes[0].network = { at: new Date().toISOString(), rx_bytes: 5e9, tx_bytes: 1e9,
      rx_bytes_per_s: 1.25e9, tx_bytes_per_s: 2.5e8 };
    await route.fulfill({ response: r, json: body });
  });
  await page.waitForSelector(".node-network:has-text('network 1.3 GB/s in · 250 MB/s out')");
  await page.unroute("**/api/v1/nodes");

  await page.selectOption("#lang", "fr");
  // The fleet's heading is the allocation map, or the heat map once the GPUs report
  // utilisation (the demo GPUs do while jobs hold them): either way in French.
  await page.waitForSelector("h1:has-text('Exploitation')");
  await page.waitForSelector("#fleet-h:text-matches('Carte des allocations|Carte de chaleur')");
  assert.equal(await page.getAttribute("html", "lang"), "fr");
  await page.click('nav a[href="/work"]');
  await page.waitForSelector("h1:has-text('Mes travaux')");
  await page.selectOption("#lang", "en");
  await page.context().close();

  // Bob's work (his job waits) on a phone-sized screen.
  const phone = await newPage({ width: 390, height: 844 });
  await signIn(phone, tokens.bob);
  await phone.waitForSelector(`tr[data-job="${wait.json.id}"] .badge.state-queued`);
  await shot(phone, "work-mobile");
  await phone.context().close();

  for (const j of [hold.json.id, wait.json.id]) {
    const r = await call("POST", `/api/v1/jobs/${j}/cancel`, adminToken);
    assert.equal(r.status, 200, r.text);
  }
});

test("admins read the capacity forecast: demand per class against capacity, and when to order", async () => {
  // History to forecast from, whatever ran before: one short job that ends.
  const done = await call("POST", "/api/v1/jobs", tokens.alice,
    { name: "history", gpus: 1, gpu_types: ["h200"], walltime_s: 60, command: ["true"] });
  assert.equal(done.status, 201, done.text);
  for (let i = 0; (await call("GET", `/api/v1/jobs/${done.json.id}`, tokens.alice)).json.state !== "succeeded"; i++) {
    assert.ok(i < 300, "the history job never ended");
    await new Promise((r) => setTimeout(r, 100));
  }
  const page = await newPage();
  await signIn(page, adminToken);
  await page.click('nav a[href="/capacity"]');
  const h200 = page.locator("section.forecast-class[aria-labelledby=forecast-h200]");
  await h200.waitFor();
  // The platform's own history (the jobs of the tests before): far below 8 H200s' capacity.
  const api = await call("GET", "/api/v1/forecast?weeks=26&lead_time=12w&growth=1", adminToken);
  assert.equal(api.status, 200, api.text);
  const c = api.json.classes.find((x) => x.class === "h200");
  const text = await h200.textContent();
  assert.match(text, new RegExp(`${c.gpus} GPUs · capacity ${Math.round(c.capacity_gpu_hours_per_week).toLocaleString("en-GB")} GPU-hours a week \\(at 80% use\\)`), text);
  assert.match(text, /Demand stays within capacity over the next 26 weeks\./, text);
  assert.equal(await h200.locator(".order-now").count(), 0);
  assert.match(await h200.locator("svg[role=img]").getAttribute("aria-label"),
    /^h200: GPU-hours a week, \d+ weeks of history and 26 weeks of forecast, against a capacity of /);
  await shot(page, "capacity");
  // A busier platform (stand-in answer): demand crosses capacity; the lead time asked is sent.
  let asked = "";
  await page.route("**/api/v1/forecast*", async (route) => {
    asked = route.request().url();
    const busy = { ...c, history_gpu_hours: [700, 800, 900, 1000], forecast_gpu_hours: [1100, 1200],
      trend_gpu_hours_per_week: 100, exceed_week: 5, exceed_date: "2027-01-04T00:00:00Z",
      order_by: null, order_now: true };
    await route.fulfill({ json: { ...api.json, classes: [busy] } });
  });
  await page.fill("#cap-lead", "20");
  await page.click(".forecast-form button[type=submit]");
  await page.waitForSelector("#order-h200.order-now");
  assert.match(asked, /lead_time=20w/);
  assert.match(await page.textContent("#exceed-h200"), /exceed capacity in the week of 4 Jan 2027/);
  assert.match(await page.textContent("#order-h200"), /Order now: with a lead time of 20 weeks/);
  // The chart marks the week demand exceeds capacity (index 5 of 6 weeks: the right edge); the
  // order date has passed, so no order mark.
  const exceedMark = h200.locator("line.mark-exceed");
  assert.equal(await exceedMark.getAttribute("x1"), "638.0");
  assert.match(await exceedMark.locator("title").textContent(), /4 Jan 2027/);
  assert.equal(await h200.locator("line.mark-order").count(), 0);
  // An order date ahead (3 weeks before the exceeding week): a second mark at week 2.
  await page.unroute("**/api/v1/forecast*");
  await page.route("**/api/v1/forecast*", async (route) => {
    const ahead = { ...c, history_gpu_hours: [700, 800, 900, 1000], forecast_gpu_hours: [1100, 1200],
      trend_gpu_hours_per_week: 100, exceed_week: 5, exceed_date: "2027-01-04T00:00:00Z",
      order_by: "2026-12-14T00:00:00Z", order_now: false };
    await route.fulfill({ json: { ...api.json, classes: [ahead] } });
  });
  await page.fill("#cap-lead", "3");
  await page.click(".forecast-form button[type=submit]");
  await page.waitForSelector("#order-h200:not(.order-now)");
  assert.match(await page.textContent("#order-h200"), /14 Dec 2026/);
  assert.equal(await h200.locator("line.mark-order").getAttribute("x1"), "256.4");
  assert.match(await h200.locator("line.mark-order title").textContent(), /Order by 14 Dec 2026/);
  await page.unroute("**/api/v1/forecast*");
  // Members have no such page (the API answers them 403 too).
  assert.equal((await call("GET", "/api/v1/forecast", tokens.alice)).status, 403);
  await page.context().close();
  const member = await newPage();
  await signIn(member, tokens.alice);
  assert.equal(await member.locator('nav a[href="/capacity"]').count(), 0);
  await member.context().close();
});

test("admins read the audit trail, filtered and paged; an entity admin sees its entity's lines; members have no such page", async () => {
  const carol = await call("POST", "/api/v1/users", adminToken, { name: "carol", entity: "physics", role: "entity-admin" });
  assert.equal(carol.status, 201, carol.text);
  const refused = await call("POST", "/api/v1/entities", tokens.bob, { name: "chemistry" });
  assert.equal(refused.status, 403, refused.text);

  const page = await newPage();
  await signIn(page, adminToken);
  await page.click('nav a[href="/audit"]');
  await page.waitForSelector("table.audit tbody tr[data-seq]");
  const api50 = (await call("GET", "/api/v1/audit?limit=50", adminToken)).json;
  assert.equal(await page.locator("table.audit tbody tr").count(), api50.entries.length);
  assert.equal(await page.isVisible("#audit-older"), api50.next_before !== null);
  const newest = api50.entries[0];
  assert.match(await page.textContent(`tr[data-seq="${newest.seq}"]`), new RegExp(`${newest.method} ${newest.path}`));
  const { unlabelled, low } = await page.evaluate(auditPage);
  assert.deepEqual(unlabelled, [], "/audit: controls without a label");
  assert.deepEqual(low, [], "/audit: text below the WCAG AA contrast ratio");
  await shot(page, "audit");

  // Bob's lines: his refused attempt is marked.
  await page.fill("#audit-actor", "bob");
  await page.click("form.filters button[type=submit]");
  await page.waitForSelector("tr.refused:has-text('POST /api/v1/entities')");
  // The filtered answer, not the whole trail still on the page (which has bob's line too).
  await page.waitForFunction(() => [...document.querySelectorAll("table.audit tbody tr td:nth-child(3)")]
    .every((td) => td.textContent === "bob"));
  const actors = await page.locator("table.audit tbody tr td:nth-child(3)").allTextContents();
  assert.ok(actors.length > 0 && actors.every((a) => a === "bob"), actors.join(","));
  // Paging: one entity's lines, then the older ones appended, none twice.
  for (let i = 0; i < 60; i++) { // more than a page of physics' lines (a cancel that finds nothing)
    assert.equal((await call("POST", "/api/v1/jobs/999999/cancel", tokens.alice)).status, 404);
  }
  const all = [];
  for (let before = null; ;) {
    const r = (await call("GET", `/api/v1/audit?limit=50&entity=physics${before ? `&before=${before}` : ""}`, adminToken)).json;
    all.push(...r.entries.map((e) => String(e.seq)));
    if (r.next_before === null) break;
    before = r.next_before;
  }
  assert.ok(all.length > 50, `${all.length} lines of physics`);
  await page.fill("#audit-actor", "");
  await page.fill("#audit-entity", "physics");
  await page.click("form.filters button[type=submit]");
  // The new answer, not bob's rows still on the page (reads are not audited: the lines stay).
  await page.waitForFunction((first) =>
    document.querySelector("table.audit tbody tr[data-seq]")?.dataset.seq === first, all[0]);
  let pages = 1;
  for (; await page.isVisible("#audit-older"); ++pages) {
    const n = await page.locator("table.audit tbody tr").count();
    await page.click("#audit-older");
    await page.waitForFunction((k) => document.querySelectorAll("table.audit tbody tr").length > k ||
      document.getElementById("audit-older").hidden, n);
  }
  const seqs = await page.locator("table.audit tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.seq));
  assert.deepEqual(seqs, all);
  assert.ok(pages >= 2, `${pages} pages`);
  await page.selectOption("#lang", "fr");
  await page.waitForSelector("h1:has-text('Journal d’audit')");
  await page.selectOption("#lang", "en");
  await page.context().close();

  // Carol, physics' admin: physics' lines only, no entity filter.
  const boss = await newPage();
  await signIn(boss, carol.json.token);
  await boss.click('nav a[href="/audit"]');
  await boss.waitForSelector("table.audit tbody tr[data-seq]");
  assert.equal(await boss.locator("#audit-entity").count(), 0);
  const entities = await boss.locator("table.audit tbody tr td:nth-child(4)").allTextContents();
  assert.ok(entities.every((e) => e === "physics"), entities.join(","));
  await boss.context().close();

  // Alice, a member: no link, and the address leads back to her work.
  const member = await newPage();
  await signIn(member, tokens.alice);
  assert.equal(await member.locator('nav a[href="/audit"]').count(), 0);
  await member.goto(`${base}/audit`);
  await member.waitForSelector('nav a[href="/work"][aria-current="page"]');
  assert.equal(await member.locator("table.audit").count(), 0);
  await member.context().close();
});

test("alice makes a token that expires, uses it, and revokes it from My tokens", async () => {
  const page = await newPage();
  await signIn(page, tokens.alice);
  await page.click('nav a[href="/account"]');
  await page.waitForSelector("table.tokens tbody tr[data-token]");
  const before = await page.locator("table.tokens tbody tr").count();
  await page.selectOption("#token-life", { label: "1 day" });
  await page.click("#new-token-button");
  const secret = await (await page.waitForSelector("#new-token")).inputValue();
  assert.match(secret, /^gpa_[0-9a-f]{64}$/);
  await page.waitForFunction((n) => document.querySelectorAll("table.tokens tbody tr").length === n + 1, before);
  const listed = (await call("GET", "/api/v1/users/alice/tokens", tokens.alice)).json.tokens;
  const made = listed[listed.length - 1];
  const left = Date.parse(made.expires_at) - Date.now();
  assert.ok(left > 86_000_000 && left <= 86_400_000, `${left} ms left`);
  assert.equal((await call("GET", "/api/v1/whoami", secret)).json.user.name, "alice");
  const { unlabelled, low } = await page.evaluate(auditPage);
  assert.deepEqual(unlabelled, [], "/account: controls without a label");
  assert.deepEqual(low, [], "/account: text below the WCAG AA contrast ratio");

  // Revoke it in two steps: refused at once; the session (another token) goes on.
  await page.click(`#revoke-${made.id}`);
  await page.click(`#confirm-revoke-${made.id}`);
  await page.waitForSelector(`text=Token ${made.id} revoked`);
  assert.equal(await page.locator(`tr[data-token="${made.id}"]`).count(), 0);
  assert.equal((await call("GET", "/api/v1/whoami", secret)).status, 401);
  assert.equal((await call("GET", "/api/v1/whoami", tokens.alice)).status, 200);
  await shot(page, "tokens"); // after the revocation: no secret on the picture
  await page.selectOption("#lang", "fr");
  await page.waitForSelector("h1:has-text('Mes jetons')");
  await page.selectOption("#lang", "en");
  await page.context().close();
});

test("an entity admin gives a directory group access from People, then removes it; members have no such page", async () => {
  const made = await call("POST", "/api/v1/users", adminToken, { name: "dora", entity: "physics", role: "entity-admin" });
  assert.equal(made.status, 201, made.text);
  const page = await newPage();
  await signIn(page, made.json.token);
  await page.click('nav a[href="/people"]');
  await page.waitForSelector("#no-groups");
  await page.waitForSelector('table.people tr[data-user="alice"]');
  assert.equal(await page.locator('table.people tr[data-user="bob"]').count(), 0, "another entity's account");
  assert.equal(await page.inputValue("#group-entity"), "physics");
  await page.fill("#group-name", "/bank/physics-ml");
  await page.selectOption("#group-role", "entity-admin");
  await page.click("#map-group");
  await page.waitForSelector("text=Members of /bank/physics-ml now get an account in physics as entity administrator");
  const listed = (await call("GET", "/api/v1/group-mappings", made.json.token)).json.group_mappings;
  assert.deepEqual(listed.map((m) => [m.group, m.entity, m.role, m.created_by]),
    [["/bank/physics-ml", "physics", "entity-admin", "dora"]]);
  await page.waitForSelector(`tr[data-mapping="${listed[0].id}"]`);
  // The same group again: the server's refusal is shown, nothing is added.
  await page.fill("#group-name", "/bank/physics-ml");
  await page.click("#map-group");
  await page.waitForSelector("[role=alert] >> text=already mapped");
  assert.equal(await page.locator("table.groups tbody tr").count(), 1);
  const { unlabelled, low } = await page.evaluate(auditPage);
  assert.deepEqual(unlabelled, [], "/people: controls without a label");
  assert.deepEqual(low, [], "/people: text below the WCAG AA contrast ratio");
  await shot(page, "people");
  await page.click(`#unmap-${listed[0].id}`);
  await page.click(`#confirm-unmap-${listed[0].id}`);
  await page.waitForSelector("#no-groups");
  assert.deepEqual((await call("GET", "/api/v1/group-mappings", adminToken)).json.group_mappings, []);
  // Carol leaves: disabled in two steps (her token refused), then enabled again. Not oneself.
  const spare = (await call("POST", "/api/v1/users/carol/tokens", adminToken)).json.token;
  assert.equal(await page.locator("#disable-dora").count(), 0);
  // Her running job is cancelled in the same step (the confirmation's checkbox).
  const hers = await call("POST", "/api/v1/jobs", spare, { gpus: 1, command: ["sleep", "600"] });
  assert.equal(hers.status, 201, hers.text);
  await page.click("#disable-carol");
  await page.check("#cancel-jobs-carol");
  await page.click("#confirm-disable-carol");
  await page.waitForSelector('tr[data-user="carol"] >> text=disabled since');
  await page.waitForSelector(`text=Jobs cancelled (1): ${hers.json.id}`);
  const cancelled = await call("GET", `/api/v1/jobs/${hers.json.id}`, adminToken);
  assert.equal(cancelled.json.state, "cancelled", cancelled.text);
  assert.equal(cancelled.json.reason, "cancelled by dora: user carol disabled");
  const refused = await call("GET", "/api/v1/whoami", spare);
  assert.equal(refused.status, 401);
  assert.match(refused.json.error.message, /user 'carol' is disabled/);
  await page.click("#enable-carol");
  await page.waitForSelector("text=carol is enabled again");
  assert.equal((await call("GET", "/api/v1/whoami", spare)).status, 200);
  await page.selectOption("#lang", "fr");
  await page.waitForSelector("h1:has-text('Personnes et groupes de l’annuaire')");
  await page.selectOption("#lang", "en");
  await page.context().close();
  // A member has neither the link nor the page.
  const member = await newPage();
  await signIn(member, tokens.alice);
  assert.equal(await member.locator('nav a[href="/people"]').count(), 0);
  await member.context().close();
});

test("bob signs his terminal in: gpuaas login shows a code, he approves it on /device, the saved token works and logout ends it", async () => {
  const home = mkdtempSync(path.join(tmpdir(), "gpuaas-e2e-home-"));
  const { GPUAAS_TOKEN, GPUAAS_URL, XDG_CONFIG_HOME, ...rest } = process.env; // eslint-disable-line no-unused-vars
  const env = { ...rest, HOME: home };
  const cli = spawn(BINARY, ["--url", base, "login"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  cli.stdout.on("data", (c) => { out += c; });
  cli.stderr.on("data", (c) => { err += c; });
  const exited = new Promise((r) => cli.on("exit", r));
  try {
    let link = null;
    const deadline = Date.now() + WAIT_MS;
    while (!(link = /(http:\/\/\S+\/device\?code=([A-Z]{4}-[A-Z]{4}))/.exec(err)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(link, `gpuaas login showed no link:\n${err}`);

    // The link first asks bob to sign in, then shows what asks, with the code of his terminal.
    const page = await newPage();
    await page.goto(link[1]);
    await page.fill("#token", tokens.bob);
    await page.click("form button[type=submit]");
    await page.waitForSelector("#device-grant");
    assert.equal((await page.textContent("#device-shown")).trim(), link[2]);
    assert.match(await page.textContent("#device-grant"), /gpuaas CLI.*from 127\.0\.0\.1/);
    const { unlabelled, low } = await page.evaluate(auditPage);
    assert.deepEqual(unlabelled, [], "/device: controls without a label");
    assert.deepEqual(low, [], "/device: text below the WCAG AA contrast ratio");
    await page.click("#device-approve");
    await page.waitForSelector("#device-done:has-text('signed in as bob')");
    assert.equal(await exited, 0, err);
    assert.match(out, /Logged in to http:\/\/127\.0\.0\.1:\d+ as bob until /);

    // Saved for this server only, readable by its owner only; the CLI uses it with no flag.
    const file = path.join(home, ".config/gpuaas/login.json");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(saved.user, "bob");
    const whoami = spawnSync(BINARY, ["--json", "whoami"], { env, encoding: "utf8" });
    assert.equal(whoami.status, 0, whoami.stderr);
    assert.equal(JSON.parse(whoami.stdout).user.name, "bob");
    const listed = (await call("GET", "/api/v1/users/bob/tokens", tokens.bob)).json.tokens;
    assert.equal(listed.filter((tok) => tok.session).length, 1);

    // A code answered once is gone; the page says so in the user's language.
    await page.selectOption("#lang", "fr");
    await page.waitForSelector("h1:has-text('Connecter une ligne de commande')");
    await page.click("#device-check");
    await page.waitForSelector("#device-result .error");
    await page.context().close();

    const logout = spawnSync(BINARY, ["logout"], { env, encoding: "utf8" });
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal((await call("GET", "/api/v1/whoami", saved.token)).status, 401);
    assert.throws(() => statSync(file));
  } finally {
    await stopProcess(cli);
    rmSync(home, { recursive: true, force: true });
  }
});
