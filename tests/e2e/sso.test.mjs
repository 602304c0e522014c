// Single sign-on in a real browser (docs/adr/0021): a real OpenID Connect provider
// (panva/oidc-provider, tests/oidc/idp.mjs) and a `gpuaas server` configured with [auth.oidc],
// both on 127.0.0.1. Carol opens a page of the portal, clicks "Sign in with Bank SSO", signs in
// on the provider's form, consents, and lands back on that page signed in; Mallory, whom the
// provider knows but the platform does not, gets a page that says so and no session.
//
// Preconditions: build/gpuaas and web/dist built; /usr/bin/chromium; tests/oidc/node_modules
// (tests/e2e/run.sh installs them).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, stopProcess } from "./support.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BINARY = process.env.GPUAAS_BIN || path.join(ROOT, "build/gpuaas");
const WEB_DIR = process.env.GPUAAS_WEB_DIR || path.join(ROOT, "web/dist");
const SHOTS = path.resolve(ROOT, process.env.E2E_SCREENSHOTS || "build/e2e-screenshots");
const WAIT_MS = 60_000; // upper bound of a wait, never a timing goal

let dir, idp, server, base, adminToken, browser;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Spawns a process and resolves with the first match of `pattern` in its output.
function startAndWait(cmd, args, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${out}`)), WAIT_MS);
    const onData = (chunk) => {
      out += chunk.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${cmd} exited (${code}):\n${out}`)));
  });
}

async function call(method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "gpuaas-e2e-sso-"));
  const [idpPort, port] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  const callback = `${base}/api/v1/auth/oidc/callback`;
  const started = await startAndWait("node", [path.join(ROOT, "tests/oidc/idp.mjs"), "--port",
    String(idpPort), "--client-id", "gpuaas-portal", "--client-secret", "e2e-secret",
    "--redirect-uri", callback, "--post-logout-uri", `${base}/`], /ready (\S+)/);
  idp = started.child;
  writeFileSync(path.join(dir, "client.secret"), "e2e-secret\n");
  writeFileSync(path.join(dir, "server.toml"), `[auth.oidc]\nissuer = "${started.match[1]}"\n` +
    `client_id = "gpuaas-portal"\nclient_secret_file = "${dir}/client.secret"\n` +
    `redirect_uri = "${callback}"\ndisplay_name = "Bank SSO"\n` +
    `post_logout_redirect_uri = "${base}/"\n`);
  const s = await startAndWait(BINARY, ["server", "--listen", `127.0.0.1:${port}`, "--data-dir",
    path.join(dir, "data"), "--web-dir", WEB_DIR, "--demo-gpus", "h200:8", "--config",
    path.join(dir, "server.toml")], /admin token: (\S+)/);
  server = s.child;
  adminToken = s.match[1];
  assert.equal((await call("POST", "/api/v1/entities", { name: "markets" })).status, 201);
  assert.equal((await call("POST", "/api/v1/users", { name: "carol", entity: "markets" })).status, 201);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopProcess(server);
  await stopProcess(idp);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// From the portal's sign-in page through the provider's login and consent forms.
async function signInAtProvider(page, login) {
  await page.click("#sso");
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', "correct horse");
  await page.click('button[type="submit"]');
  await page.waitForSelector('input[name="prompt"][value="consent"]', { state: "attached" });
  await page.click('button[type="submit"]');
}

test("carol signs in with the company's provider and lands on the page she asked for", async () => {
  const context = await browser.newContext({ locale: "en-GB", timezoneId: "UTC" });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(`${base}/entity`);
  const sso = page.locator("#sso");
  await sso.waitFor();
  assert.equal(await sso.textContent(), "Sign in with Bank SSO");
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, "signin-sso.png") });
  await signInAtProvider(page, "carol");
  await page.waitForURL(`${base}/entity`);
  await page.waitForSelector(".who");
  assert.match(await page.locator(".who").textContent(), /carol · markets/);
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === "gpuaas_session");
  assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
  // The session is one of carol's tokens, with an expiry.
  const tokens = await call("GET", "/api/v1/users/carol/tokens");
  assert.equal(tokens.json.tokens.length, 2);
  assert.ok(tokens.json.tokens[1].expires_at);
  // Signing out ends the session here and, after the provider asks, there too: back on the
  // sign-in page, the session's token revoked; signing in again asks for the login.
  await page.click("text=Sign out");
  await page.click('button[name="logout"][value="yes"]');
  await page.waitForURL(`${base}/`);
  await page.locator("#sso").waitFor();
  assert.equal((await call("GET", "/api/v1/users/carol/tokens")).json.tokens.length, 1);
  await page.click("#sso");
  await page.waitForSelector('input[name="login"]');
  await context.close();
});

test("mallory is known to the provider but has no account here: told so, no session", async () => {
  const context = await browser.newContext({ locale: "en-GB", timezoneId: "UTC" });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(`${base}/`);
  await signInAtProvider(page, "mallory");
  await page.waitForSelector("h1");
  assert.equal(await page.locator("h1").textContent(), "Sign-in failed");
  assert.match(await page.locator("#message").textContent(),
    /signed in as 'mallory' but have no account on this platform/);
  assert.equal((await context.cookies(base)).some((c) => c.name === "gpuaas_session"), false);
  await page.click("text=Back to the portal");
  await page.locator("#sso").waitFor();
  await context.close();
});
