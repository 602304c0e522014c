// Single sign-on through the company's OpenID Connect provider (docs/adr/0021; the protocol's
// pure parts are auth/oidc.h, the network calls api/oidc_client.h):
//   GET /api/v1/auth/providers        what the portal's sign-in page offers (no credentials)
//   GET /api/v1/auth/oidc/login       starts a sign-in: 302 to the provider
//   GET /api/v1/auth/oidc/callback    the provider's redirect: the code becomes a session
//   GET /api/v1/auth/oidc/logout      sign-out here and at the provider (RP-Initiated Logout)
// Browsers, not scripts, reach all but the first: their errors are small HTML pages with a link
// back.
// On the loop: the sign-ins under way (SignInStore) and the Platform. Off the loop (a
// BackgroundQueue of its own, at most kMaxPending calls at once, more answer 429): discovery,
// the token request and the keys, which wait on the provider.
#include <memory>

#include "api/background_queue.h"
#include "api/handler_support.h"
#include "api/oidc_client.h"
#include "api/routes.h"
#include "base/html.h"

namespace gpuaas::api {
namespace {

constexpr size_t kMaxPending = 16;
constexpr size_t kMaxSignIns = 10'000;
constexpr Millis kSignInLifetimeMs = 10 * 60 * 1000;

net::HttpResponse Page(int status, const std::string& title, const std::string& message) {
  net::HttpResponse res;
  res.status = status;
  res.content_type = "text/html; charset=utf-8";
  res.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + HtmlEscape(title) +
             "</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:4em "
             "auto\"><h1>" +
             HtmlEscape(title) + "</h1><p id=\"message\">" + HtmlEscape(message) +
             "</p><p><a href=\"/\">Back to the portal</a></p></body></html>\n";
  res.headers.emplace_back("Cache-Control", "no-store");
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; style-src 'unsafe-inline'");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  return res;
}

net::HttpResponse Failed(const Status& s) {
  return Page(HttpStatusOf(s.code()), "Sign-in failed", s.message());
}

net::HttpResponse Redirect(const std::string& location) {
  net::HttpResponse res;
  res.status = 302;
  res.content_type = "";
  res.headers.emplace_back("Location", location);
  res.headers.emplace_back("Cache-Control", "no-store");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  return res;
}

std::string Param(const net::HttpRequest& req, const char* key) {
  auto it = req.query.find(key);
  return it == req.query.end() ? std::string() : it->second.substr(0, 4096);
}

struct Sso {
  std::shared_ptr<OidcClient> client;  // null when [auth.oidc] is not configured
  std::shared_ptr<SignInStore> sign_ins =
      std::make_shared<SignInStore>(kMaxSignIns, kSignInLifetimeMs);
  std::shared_ptr<BackgroundQueue> queue = std::make_shared<BackgroundQueue>(kMaxPending);
};

// The end of a sign-in, on the loop: the user's session token as the portal's cookie.
void FinishSignIn(Platform& p, const Sso& sso, const Result<DirectoryIdentity>& user,
                  const OidcSignIn& sign_in, net::Respond respond) {
  if (!user.ok()) return respond(Failed(user.status()));
  p.IssueSignInToken(
      *user, sso.client->settings().session_lifetime_s,
      [&p, return_to = sign_in.return_to,
       respond = std::move(respond)](Result<UserWithToken> ut) mutable {
        if (!ut.ok()) return respond(Failed(ut.status()));
        net::HttpResponse res = Redirect(return_to);
        res.headers.emplace_back(
            "Set-Cookie", SessionCookieHeader(ut->token, false, !p.config().tls_cert_file.empty()));
        const Entity* e = p.FindEntityById(ut->user.entity);
        res.headers.emplace_back(kSignedInHeader, ut->user.name + " " + RoleName(ut->user.role) +
                                                      " " + (e ? e->name : std::string("-")));
        respond(std::move(res));
      });
}

}  // namespace

void RegisterSsoRoutes(net::Router& r, Platform& p) {
  Sso sso;
  if (!p.config().oidc.issuer.empty()) sso.client = std::make_shared<OidcClient>(p.config().oidc);

  r.Add("GET", "/api/v1/auth/providers", [sso](net::HttpRequest&&, net::Respond respond) {
    json::value oidc = nullptr;
    if (sso.client) {
      const bool logout = !sso.client->settings().post_logout_redirect_uri.empty();
      oidc = json::object{
          {"name", sso.client->settings().display_name},
          {"login_url", "/api/v1/auth/oidc/login"},
          {"logout_url", logout ? json::value("/api/v1/auth/oidc/logout") : json::value(nullptr)}};
    }
    respond(JsonResponse(200, json::object{{"token", true}, {"oidc", oidc}}));
  });

  r.Add("GET", "/api/v1/auth/oidc/login", [&p, sso](net::HttpRequest&& req, net::Respond respond) {
    if (!sso.client) {
      return respond(Page(404, "Single sign-on is not configured",
                          "Sign in with an API token instead, or ask the platform's operator to "
                          "configure [auth.oidc]."));
    }
    if (!sso.queue->HasRoom()) {
      return respond(Failed(ResourceExhausted("too many sign-ins at once: try again")));
    }
    auto sign_in = sso.sign_ins->Begin(SafeReturnPath(Param(req, "return_to")), p.Now());
    if (!sign_in.ok()) return respond(Failed(sign_in.status()));
    auto work = [sso, sign_in = *sign_in, respond]() mutable {
      auto endpoints = sso.client->Endpoints();
      if (!endpoints.ok()) return respond(Failed(endpoints.status()));
      const auto& s = sso.client->settings();
      respond(
          Redirect(AuthorizationUrl(*endpoints, s.client_id, s.redirect_uri, s.scopes, sign_in)));
    };
    if (!sso.queue->Submit(std::move(work))) {
      (void)sso.sign_ins->Take(sign_in->state, p.Now());
      respond(Failed(ResourceExhausted("too many sign-ins at once: try again")));
    }
  });

  // Sign-out at the provider too, when [auth.oidc] post_logout_redirect_uri is set: the portal's
  // session (the cookie's token) is revoked as DELETE /api/v1/session does, the cookie cleared,
  // and the browser sent to the provider's end_session_endpoint (or home, if it has none).
  r.Add("GET", "/api/v1/auth/oidc/logout", [&p, sso](net::HttpRequest&& req, net::Respond respond) {
    if (!sso.client || sso.client->settings().post_logout_redirect_uri.empty()) {
      return respond(Page(404, "Signing out at the provider is not configured",
                          "Sign out from the portal's menu; the operator may set [auth.oidc] "
                          "post_logout_redirect_uri."));
    }
    const bool secure = !p.config().tls_cert_file.empty();
    auto leave = [sso, secure, respond]() mutable {
      auto work = [sso, secure, respond]() mutable {
        auto endpoints = sso.client->Endpoints();
        const auto& s = sso.client->settings();
        net::HttpResponse res =
            !endpoints.ok() ? Failed(endpoints.status())
            : endpoints->end_session_endpoint.empty()
                ? Redirect("/")
                : Redirect(EndSessionUrl(*endpoints, s.client_id, s.post_logout_redirect_uri));
        res.headers.emplace_back("Set-Cookie", SessionCookieHeader("", true, secure));
        respond(std::move(res));
      };
      if (!sso.queue->Submit(std::move(work))) {
        net::HttpResponse res = Failed(ResourceExhausted("too many sign-outs at once: try again"));
        res.headers.emplace_back("Set-Cookie", SessionCookieHeader("", true, secure));
        respond(std::move(res));
      }
    };
    const std::string token = SessionToken(req);
    if (!p.ready() || !PlausibleToken(token)) return leave();
    p.EndSession(token, [leave](auto&&) mutable { leave(); });
  });

  r.Add(
      "GET", "/api/v1/auth/oidc/callback", [&p, sso](net::HttpRequest&& req, net::Respond respond) {
        if (!sso.client) return respond(Page(404, "Single sign-on is not configured", ""));
        if (!p.ready()) return respond(Failed(Unavailable("the server is starting")));
        auto sign_in = sso.sign_ins->Take(Param(req, "state"), p.Now());
        if (!sign_in.ok()) return respond(Failed(InvalidArgument(sign_in.status().message())));
        if (std::string error = Param(req, "error"); !error.empty()) {
          std::string what = error.substr(0, 100);
          if (std::string d = Param(req, "error_description"); !d.empty()) {
            what += ": " + d.substr(0, 300);
          }
          return respond(
              Failed(Unauthenticated("the identity provider did not sign you in (" + what + ")")));
        }
        const std::string code = Param(req, "code");
        if (code.empty()) {
          return respond(Failed(InvalidArgument("the identity provider sent no code")));
        }
        if (!sso.queue->HasRoom()) {
          return respond(Failed(ResourceExhausted("too many sign-ins at once: try again")));
        }
        const int64_t now_s = p.Now() / 1000;
        auto work = [&p, sso, code, sign_in = *sign_in, now_s, respond]() mutable {
          Result<DirectoryIdentity> user = sso.client->Complete(code, sign_in, now_s);
          p.Post([&p, sso, user = std::move(user), sign_in = std::move(sign_in),
                  respond = std::move(respond)]() mutable {
            FinishSignIn(p, sso, user, sign_in, std::move(respond));
          });
        };
        if (!sso.queue->Submit(std::move(work))) {
          respond(Failed(ResourceExhausted("too many sign-ins at once: try again")));
        }
      });
}

}  // namespace gpuaas::api
