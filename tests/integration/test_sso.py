"""Single sign-on through a real OpenID Connect provider (docs/adr/0021, docs/operations.md
"Single sign-on"): panva/oidc-provider (OpenID certified; tests/oidc/idp.mjs) on 127.0.0.1 signs
users in with its development login form, and the server completes the authorization code flow
with PKCE: the portal's session cookie for an existing user, audited; accounts made and roles
kept by directory group mappings (docs/adr/0024); refusals for a user with no account, a
replayed or forged state, an aborted sign-in, a provider that withholds the user name claim; no
SSO when it is not configured; bad settings stop the server with a clear error.
The browser is played by urllib, hop by hop (cookies per origin, redirects followed by hand)."""

import html
import http.cookies
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import (BIN, REPO, Api, Server, assert_error_shape, free_port, poll, require_binary,
                     unique)

IDP_DIR = os.path.join(REPO, "tests", "oidc")
CLIENT_ID = "gpuaas-portal"
CLIENT_SECRET = "s3cret-for-the-test"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies per origin, redirects followed by hand; each answer is (status, headers, body)."""

    def __init__(self):
        self.cookies = {}  # origin -> {name: value}
        self.opener = urllib.request.build_opener(NoRedirect)

    @staticmethod
    def origin(url):
        u = urllib.parse.urlsplit(url)
        return f"{u.scheme}://{u.netloc}"

    def request_method(self, method, url):
        return self.request(url, method=method)

    def request(self, url, data=None, content_type="application/x-www-form-urlencoded",
                method=None):
        jar = self.cookies.setdefault(self.origin(url), {})
        req = urllib.request.Request(url, data=data, method=method)
        if jar:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in jar.items()))
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with self.opener.open(req, timeout=15) as r:
                status, headers, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        for value in headers.get_all("Set-Cookie") or []:
            c = http.cookies.SimpleCookie()
            c.load(value)
            for name, morsel in c.items():
                if morsel["max-age"] == "0":
                    jar.pop(name, None)
                else:
                    jar[name] = morsel.value
        return status, headers, body.decode("utf-8", errors="replace")

    def follow(self, url, stop_at, data=None, hops=20):
        """Requests url and follows redirects until one leads to a URL starting with stop_at
        (not requested: returned as ("stop", url)), or an answer is not a redirect."""
        for _ in range(hops):
            status, headers, body = self.request(url, data)
            data = None
            if status not in (301, 302, 303, 307):
                return status, headers, body, url
            url = urllib.parse.urljoin(url, headers["Location"])
            if url.startswith(stop_at):
                return "stop", headers, "", url
        raise AssertionError("too many redirects")


def form_action(page, url):
    m = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert m, page[:500]
    return urllib.parse.urljoin(url, html.unescape(m.group(1)))


class SsoTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_binary()
        subprocess.run([os.path.join(IDP_DIR, "install.sh")], check=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gpuaas-sso-")
        self.idp = None
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()
        if self.idp is not None:
            self.idp.terminate()
            try:
                self.idp.wait(10)
            except subprocess.TimeoutExpired:
                self.idp.kill()
                self.idp.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start_idp(self, redirect_uri, withheld=(), groups=()):
        port = free_port()
        home = redirect_uri.split("/api/")[0] + "/"
        args = ["node", os.path.join(IDP_DIR, "idp.mjs"), "--port", str(port), "--client-id",
                CLIENT_ID, "--client-secret", CLIENT_SECRET, "--redirect-uri", redirect_uri,
                "--post-logout-uri", home]
        for w in withheld:
            args += ["--disabled", w]
        for g in groups:
            args += ["--groups", g]
        self.idp_log = open(os.path.join(self.dir, "idp.log"), "w")
        self.idp = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.idp_log, text=True)
        line = self.idp.stdout.readline()
        self.assertTrue(line.startswith("ready "), line)
        return line.split()[1]

    def config(self, issuer, redirect_uri, extra=""):
        secret = os.path.join(self.dir, "client.secret")
        with open(secret, "w") as f:
            f.write(CLIENT_SECRET + "\n")
        path = os.path.join(self.dir, "gpuaas.toml")
        with open(path, "w") as f:
            f.write(f'[auth.oidc]\nissuer = "{issuer}"\nclient_id = "{CLIENT_ID}"\n'
                    f'client_secret_file = "{secret}"\nredirect_uri = "{redirect_uri}"\n'
                    f'display_name = "Bank SSO"\n{extra}')
        return path

    def start(self, withheld=(), extra="", groups=()):
        port = free_port()
        callback = f"http://127.0.0.1:{port}/api/v1/auth/oidc/callback"
        issuer = self.start_idp(callback, withheld, groups)
        self.server = Server(demo_gpus="h200:1", port=port,
                             extra_args=["--config", self.config(issuer, callback, extra)]).start()
        return self.server.admin, callback

    def sign_in(self, browser, login, return_to="/jobs", abort=False):
        """The whole browser flow: our login URL, the provider's login and consent forms, back
        to our callback. Returns (status, headers, body, url) of the callback's answer."""
        server = self.server.url
        start = f"{server}/api/v1/auth/oidc/login?return_to={urllib.parse.quote(return_to)}"
        status, headers, page, url = browser.follow(start, stop_at=server)
        self.assertEqual(status, 200, page[:300])
        self.assertIn('name="login"', page)
        if abort:
            abort_url = urllib.parse.urljoin(url, re.search(r'href="([^"]*abort[^"]*)"',
                                                            page).group(1))
            result = browser.follow(abort_url, stop_at=server)
        else:
            body = urllib.parse.urlencode({"prompt": "login", "login": login,
                                           "password": "any"}).encode()
            result = browser.follow(form_action(page, url), stop_at=server, data=body)
            if result[0] == 200 and 'value="consent"' in result[2]:
                body = urllib.parse.urlencode({"prompt": "consent"}).encode()
                result = browser.follow(form_action(result[2], result[3]), stop_at=server,
                                        data=body)
        self.assertEqual(result[0], "stop", result[2][:500])
        callback_url = result[3]
        self.assertTrue(callback_url.startswith(f"{server}/api/v1/auth/oidc/callback?"))
        status, headers, body = browser.request(callback_url)
        return status, headers, body, callback_url

    def test_a_member_signs_in_and_gets_a_session(self):
        admin, _ = self.start()
        ent = unique("sso")
        admin.create_entity(ent)
        alice = unique("alice")
        admin.create_user(alice, ent)
        providers = admin.get("/api/v1/auth/providers").json
        self.assertEqual(providers["oidc"]["name"], "Bank SSO")

        browser = Browser()
        status, headers, body, callback = self.sign_in(browser, alice, return_to="/jobs?x=1")
        self.assertEqual(status, 302, body[:300])
        self.assertEqual(headers["Location"], "/jobs?x=1")
        self.assertNotIn("X-Gpuaas-Signed-In", headers)  # internal to the audit trail
        cookie = headers["Set-Cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        session = browser.cookies[self.server.url]["gpuaas_session"]
        self.assertTrue(session.startswith("gpa_"))
        who = admin.with_token(session).get("/api/v1/whoami")
        self.assertEqual(who.status, 200, who)
        self.assertEqual(who.json["user"]["name"], alice)
        # The session is an ordinary token of the user: listed, expiring after the session
        # lifetime (12 h by default), revocable.
        tokens = admin.get(f"/api/v1/users/{alice}/tokens").json["tokens"]
        self.assertEqual(len(tokens), 2)
        expires = tokens[-1]["expires_at"]
        self.assertIsNotNone(expires)
        left = time.mktime(time.strptime(expires[:19], "%Y-%m-%dT%H:%M:%S")) - time.mktime(
            time.gmtime())
        self.assertTrue(11.9 * 3600 < left <= 12 * 3600 + 5, left)
        # The sign-in is on the audit trail, as the user.
        lines = admin.get("/api/v1/audit?limit=20").json["entries"]
        line = next(e for e in lines if e["path"] == "/api/v1/auth/oidc/callback")
        self.assertEqual((line["actor"], line["role"], line["entity"], line["status"]),
                         (alice, "member", ent, 302))
        # The provider's redirect works once: replayed, it is refused and makes nothing.
        status, _, body = browser.request(callback)
        self.assertEqual(status, 400, body)
        self.assertIn("unknown or was already used", html.unescape(body))
        self.assertEqual(len(admin.get(f"/api/v1/users/{alice}/tokens").json["tokens"]), 2)
        # A second sign-in is a second session; revoking it signs that browser out.
        other = Browser()
        self.assertEqual(self.sign_in(other, alice)[0], 302)
        tokens = admin.get(f"/api/v1/users/{alice}/tokens").json["tokens"]
        self.assertEqual(len(tokens), 3)
        r = admin.call("DELETE", f"/api/v1/users/{alice}/tokens/{tokens[-1]['id']}")
        self.assertEqual(r.status, 204, r)
        gone = admin.with_token(other.cookies[self.server.url]["gpuaas_session"])
        self.assertEqual(gone.get("/api/v1/whoami").status, 401)
        self.assertEqual(admin.with_token(session).get("/api/v1/whoami").status, 200)
        tokens = admin.get(f"/api/v1/users/{alice}/tokens").json["tokens"]
        self.assertEqual([t["session"] for t in tokens], [False, True])
        # Signing out revokes an SSO session; a token pasted at sign-in is left alone (it may
        # serve scripts).
        status, headers, _ = browser.request_method("DELETE", f"{self.server.url}/api/v1/session")
        self.assertEqual(status, 204)
        self.assertEqual(admin.with_token(session).get("/api/v1/whoami").status, 401)
        first = admin.post(f"/api/v1/users/{alice}/tokens").json["token"]
        pasted = Browser()
        self.assertEqual(pasted.request(f"{self.server.url}/api/v1/session",
                                        json.dumps({"token": first}).encode(),
                                        content_type="application/json")[0], 200)
        self.assertEqual(pasted.request_method("DELETE", f"{self.server.url}/api/v1/session")[0],
                         204)
        self.assertEqual(admin.with_token(first).get("/api/v1/whoami").status, 200)

    def test_signing_out_signs_out_of_the_provider_when_configured(self):
        port = free_port()
        home = f"http://127.0.0.1:{port}/"
        callback = f"{home}api/v1/auth/oidc/callback"
        issuer = self.start_idp(callback)
        self.server = Server(demo_gpus="h200:1", port=port, extra_args=[
            "--config", self.config(issuer, callback,
                                    f'post_logout_redirect_uri = "{home}"\n')]).start()
        admin = self.server.admin
        ent = unique("so")
        admin.create_entity(ent)
        admin.create_user("sofia", ent)
        providers = Api(self.server.url).get("/api/v1/auth/providers").json
        self.assertEqual(providers["oidc"]["logout_url"], "/api/v1/auth/oidc/logout")

        browser = Browser()
        status, _, _, _ = self.sign_in(browser, "sofia")
        self.assertEqual(status, 302)
        session = browser.cookies[self.server.url]["gpuaas_session"]
        self.assertEqual(Api(self.server.url, session).get("/api/v1/whoami").status, 200)
        # Signed in at the provider: another sign-in goes through without its login form.
        start = f"{self.server.url}/api/v1/auth/oidc/login"
        self.assertEqual(browser.follow(start, stop_at=self.server.url)[0], "stop")

        # Our logout: the session is revoked, the cookie cleared, the browser sent to the
        # provider's end_session_endpoint for this client and our home page.
        status, headers, _ = browser.request(f"{self.server.url}/api/v1/auth/oidc/logout")
        self.assertEqual(status, 302)
        to = headers["Location"]
        self.assertTrue(to.startswith(issuer), to)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(to).query)
        self.assertEqual(query["client_id"], [CLIENT_ID])
        self.assertEqual(query["post_logout_redirect_uri"], [home])
        self.assertNotIn("gpuaas_session", browser.cookies[self.server.url])
        self.assertEqual(Api(self.server.url, session).get("/api/v1/whoami").status, 401)
        # The provider asks, the user confirms, and is sent back home.
        status, _, page = browser.request(to)
        self.assertEqual(status, 200, page[:300])
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"xsrf": xsrf, "logout": "yes"}).encode()
        result = browser.follow(form_action(page, to), stop_at=self.server.url, data=body)
        self.assertEqual((result[0], result[3]), ("stop", home))
        # Signed out there too: the next sign-in asks for the login again.
        status, _, page, _ = browser.follow(start, stop_at=self.server.url)
        self.assertEqual(status, 200)
        self.assertIn('name="login"', page)
        # The sign-out is a line of the audit trail, as the user.
        with open(os.path.join(self.server.data_dir, "audit.log")) as f:
            lines = [json.loads(line) for line in f]
        self.assertIn(("/api/v1/auth/oidc/logout", 302, "sofia"),
                      [(e["path"], e["status"], e["actor"]) for e in lines])

    def test_directory_groups_make_accounts_and_their_roles_follow_the_groups(self):
        admin, _ = self.start(
            extra='scopes = "openid profile email groups"\n',
            groups=["dana=/bank/risk-ml", "dana=everyone", "lee=/bank/risk-ml",
                    "lee=/bank/risk-leads", "sam=/bank/risk-ml", "sam=retail-ds", "eve=everyone"])
        admin.create_entity("risk")
        admin.create_entity("retail")
        ria = admin.with_token(admin.create_user("ria", "risk", "entity-admin")["token"])
        mo = admin.with_token(admin.create_user("mo", "risk")["token"])
        # The entity's admin maps its group; the platform admin another (CLI); bad requests
        # change nothing.
        r = ria.post("/api/v1/group-mappings", {"group": "/bank/risk-ml", "entity": "risk"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["group"], r.json["entity"], r.json["role"], r.json["created_by"]),
                         ("/bank/risk-ml", "risk", "member", "ria"))
        self.assertEqual(self.server.cli("group", "add", "/bank/risk-leads", "--entity", "risk",
                                         "--role", "entity-admin").returncode, 0)
        added = self.server.cli("group", "add", "retail-ds", "--entity", "retail", json_out=False)
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertIn("members of 'retail-ds' sign in as member of retail", added.stdout)
        for who, body, status in [
                (mo, {"group": "x", "entity": "risk"}, 403),
                (ria, {"group": "x", "entity": "retail"}, 404),
                (admin, {"group": "x", "entity": "risk", "role": "platform-admin"}, 422),
                (admin, {"group": "x", "entity": "risk", "role": "boss"}, 422),
                (admin, {"entity": "risk"}, 400),
                (admin, {"group": "a\nb", "entity": "risk"}, 400),
                (admin, {"group": "retail-ds", "entity": "risk"}, 409)]:
            r = who.post("/api/v1/group-mappings", body)
            self.assertEqual(r.status, status, f"{body} {r!r}")
            assert_error_shape(self, r, status)
        self.assertEqual(self.server.cli("group", "add", "x", "--entity", "risk", "--role",
                                         "platform-admin").returncode, 2)
        listed = self.server.cli("group", "list").json["group_mappings"]
        self.assertEqual([m["group"] for m in listed],
                         ["/bank/risk-ml", "/bank/risk-leads", "retail-ds"])
        self.assertEqual([m["group"] for m in ria.get("/api/v1/group-mappings").json[
            "group_mappings"]], ["/bank/risk-ml", "/bank/risk-leads"])
        self.assertEqual(mo.get("/api/v1/group-mappings").status, 403)

        # First sign-ins make the accounts, with the highest role their groups give.
        for login, role in [("dana", "member"), ("lee", "entity-admin")]:
            browser = Browser()
            status, _, body, _ = self.sign_in(browser, login)
            self.assertEqual(status, 302, body[:300])
            who = admin.with_token(browser.cookies[self.server.url]["gpuaas_session"]).get(
                "/api/v1/whoami").json
            self.assertEqual((who["user"]["name"], who["user"]["role"], who["entity"]["name"],
                              who["user"]["from_directory"]), (login, role, "risk", True))
        users = {u["name"]: u for u in admin.get("/api/v1/users").json["users"]}
        self.assertTrue(users["lee"]["from_directory"])
        self.assertFalse(users["ria"]["from_directory"])
        line = [e for e in admin.get("/api/v1/audit?limit=50").json["entries"]
                if e["path"] == "/api/v1/auth/oidc/callback"][0]  # newest first
        self.assertEqual((line["actor"], line["role"], line["entity"]), ("lee", "entity-admin",
                                                                          "risk"))
        self.assertIn("account made in risk as entity-admin by the directory group "
                      "/bank/risk-leads, /bank/risk-ml", self.server.log_text())
        # Groups of two entities, or of none: no account, and the page says why.
        status, _, body, _ = self.sign_in(Browser(), "sam")
        self.assertEqual(status, 403, body)
        self.assertIn("several entities (risk, retail)", html.unescape(body))
        status, _, body, _ = self.sign_in(Browser(), "eve")
        self.assertEqual(status, 403, body)
        self.assertIn("none of your 1 directory groups", html.unescape(body))
        self.assertNotIn("sam", [u["name"] for u in admin.get("/api/v1/users").json["users"]])

        # The leads' mapping removed: lee is a member at the next sign-in. The member group
        # removed too: dana is refused (the account stays, its role as it was).
        leads = next(m["id"] for m in listed if m["group"] == "/bank/risk-leads")
        self.assertEqual(ria.call("DELETE", f"/api/v1/group-mappings/{leads}").status, 204)
        browser = Browser()
        self.assertEqual(self.sign_in(browser, "lee")[0], 302)
        self.assertEqual(admin.with_token(browser.cookies[self.server.url]["gpuaas_session"]).get(
            "/api/v1/whoami").json["user"]["role"], "member")
        member = next(m["id"] for m in listed if m["group"] == "/bank/risk-ml")
        removed = self.server.cli("group", "remove", member, json_out=False)
        self.assertEqual(removed.returncode, 0, removed.stderr)
        self.assertEqual(ria.call("DELETE", f"/api/v1/group-mappings/{member}").status, 404)
        status, _, body, _ = self.sign_in(Browser(), "dana")
        self.assertEqual(status, 403, body)
        self.assertIn("none of your groups gives access to it any more", html.unescape(body))
        # Kept over a restart: the mapping left, the accounts and their origin.
        self.server.stop()
        self.server.start()
        self.assertEqual([m["group"] for m in self.server.cli("group", "list").json[
            "group_mappings"]], ["retail-ds"])
        users = self.server.cli("user", "list", json_out=False).stdout
        self.assertRegex(users, r"lee\s+risk\s+member\s+directory")
        self.assertRegex(users, r"ria\s+risk\s+entity-admin\s+admin")

    def test_refusals(self):
        admin, callback = self.start(withheld=["nameless"])
        # Signed in at the provider, but no account here: 403, no token, audited.
        status, _, body, _ = self.sign_in(Browser(), "mallory")
        self.assertEqual(status, 403, body)
        self.assertIn("no account on this platform", html.unescape(body))
        self.assertIn("mallory", body)
        # The provider withholds the user name claim: 403, says which claim.
        status, _, body, _ = self.sign_in(Browser(), "nameless")
        self.assertEqual(status, 403, body)
        self.assertIn('no "preferred_username" claim', html.unescape(body))
        # The user aborts at the provider: its error is shown.
        status, _, body, _ = self.sign_in(Browser(), "", abort=True)
        self.assertEqual(status, 401, body)
        self.assertIn("access_denied", body)
        # A callback with a state we never issued (a forged or cross-site request).
        b = Browser()
        status, _, body = b.request(f"{callback}?code=abc&state=forged")
        self.assertEqual(status, 400)
        self.assertNotIn("gpuaas_session", b.cookies.get(self.server.url, {}))
        # A forged code with a real state: the provider's token endpoint refuses it.
        status, headers, _ = b.request(f"{self.server.url}/api/v1/auth/oidc/login")
        self.assertEqual(status, 302)
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["state"][0]
        status, _, body = b.request(f"{callback}?code=forged&state={state}")
        self.assertEqual(status, 401, body)
        self.assertIn("invalid_grant", body)
        # A return path to another site is not followed.
        status, headers, _ = b.request(
            f"{self.server.url}/api/v1/auth/oidc/login?return_to=//evil.example/x")
        self.assertEqual(status, 302)
        refused = [e for e in admin.get("/api/v1/audit?limit=50").json["entries"]
                   if e["path"] == "/api/v1/auth/oidc/callback"]
        self.assertEqual(sorted(e["status"] for e in refused), [400, 401, 401, 403, 403])
        self.assertTrue(all(e.get("actor") in (None, "") for e in refused), refused)

    def test_without_oidc_settings(self):
        self.server = Server(demo_gpus="h200:1").start()
        self.assertIsNone(self.server.admin.get("/api/v1/auth/providers").json["oidc"])
        status, _, body = Browser().request(f"{self.server.url}/api/v1/auth/oidc/login")
        self.assertEqual(status, 404)
        self.assertIn("not configured", body)

    def test_bad_settings_stop_the_server(self):
        port = free_port()
        cases = [
            ('[auth.oidc]\nissuer = "https://idp.example"\n', "needs issuer, client_id"),
            (self.config_text("ftp://idp", "http://h/api/v1/auth/oidc/callback"), "http(s) URLs"),
            (self.config_text("https://idp", "http://h/elsewhere"), "/api/v1/auth/oidc/callback"),
            (self.config_text("https://idp", "http://h/api/v1/auth/oidc/callback",
                              secret="/nonexistent/secret"), "cannot read a secret"),
            (self.config_text("https://idp", "http://h/api/v1/auth/oidc/callback") +
             'scopes = "profile"\n', "must include openid"),
            (self.config_text("https://idp", "http://h/api/v1/auth/oidc/callback") +
             'colour = "blue"\n', "unknown setting 'auth.oidc.colour'"),
            (self.config_text("https://idp", "http://h/api/v1/auth/oidc/callback") +
             'post_logout_redirect_uri = "/home"\n', "post_logout_redirect_uri must be an http(s)"),
            (self.config_text("https://idp", "http://h/api/v1/auth/oidc/callback") +
             'groups_claim = ["groups"]\n', "auth.oidc.groups_claim must be a one-line string"),
        ]
        for text, message in cases:
            path = os.path.join(self.dir, "bad.toml")
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([BIN, "server", "--listen", f"127.0.0.1:{port}", "--data-dir",
                                os.path.join(self.dir, "data"), "--config", path],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0, text)
            self.assertIn(message, p.stderr, text)

    def config_text(self, issuer, redirect, secret=None):
        if secret is None:
            secret = os.path.join(self.dir, "client.secret")
            with open(secret, "w") as f:
                f.write(CLIENT_SECRET + "\n")
        return (f'[auth.oidc]\nissuer = "{issuer}"\nclient_id = "c"\n'
                f'client_secret_file = "{secret}"\nredirect_uri = "{redirect}"\n')


if __name__ == "__main__":
    unittest.main()
