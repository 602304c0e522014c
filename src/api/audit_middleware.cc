#include <sstream>
#include <string_view>

#include "api/audit.h"
#include "api/handler_support.h"

namespace gpuaas::api {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Paths whose requests are never audited unless refused (see api/audit.h).
bool Unaudited(const std::string& path) {
  return StartsWith(path, "/api/v1/agent/") || StartsWith(path, "/notebooks/") ||
         path == "/api/v1/estimate" || path == "/api/v1/sizing";
}

// The token a request acts with: its bearer token or session cookie, or for the sign-in
// (POST /api/v1/session) the token in its body.
std::string ActingToken(const net::HttpRequest& req) {
  std::string token = RequestToken(req);
  if (token.empty() && req.method == "POST" && req.path == "/api/v1/session") {
    if (auto body = ParseObject(req.body); body.ok()) {
      if (auto t = GetString(*body, "token"); t.ok() && *t) token = **t;
    }
  }
  return token;
}

}  // namespace

net::Handler WithAudit(net::Handler api, Platform& platform, std::shared_ptr<AuditLog> log) {
  return [api = std::move(api), &platform, log = std::move(log)](net::HttpRequest&& req,
                                                                 net::Respond respond) {
    // A single sign-on's end creates a session, and the sign-out at the provider ends one,
    // though both are GETs (browser navigations).
    const bool session_change =
        req.path == "/api/v1/auth/oidc/callback" || req.path == "/api/v1/auth/oidc/logout";
    const bool reads =
        !session_change && (req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS");
    const bool unaudited = Unaudited(req.path);
    const bool device_poll = req.method == "POST" && req.path == "/api/v1/auth/device/token";
    AuditEntry entry;
    entry.time = platform.Now();
    entry.remote = req.remote;
    entry.method = req.method;
    entry.path = req.path;
    const std::string token = ActingToken(req);
    // A read refused for want of any credential (the portal asking whoami before a sign-in) is
    // not an attempt at anything: not audited. With a wrong token, or a change, it is.
    const bool anonymous_read = reads && token.empty();
    {  // who, as the handlers will see it (a refused read is audited too: known before it runs)
      if (auto who = platform.Authenticate(token); who.ok() && !who->agent) {
        entry.actor = who->name;
        entry.role = RoleName(who->role);
        if (const Entity* e = platform.FindEntityById(who->entity)) entry.entity = e->name;
      }
    }
    api(std::move(req), [log, reads, unaudited, anonymous_read, device_poll,
                         entry = std::move(entry),
                         respond = std::move(respond)](net::HttpResponse res) mutable {
      const bool refused = res.status == 401 || res.status == 403;
      if (device_poll && (res.status == 202 || res.status == 429)) return respond(std::move(res));
      for (auto it = res.headers.begin(); it != res.headers.end(); ++it) {
        if (it->first != kSignedInHeader) continue;
        std::istringstream who(it->second);  // "NAME ROLE ENTITY" (api/handler_support.h)
        std::string entity;
        who >> entry.actor >> entry.role >> entity;
        if (entity != "-") entry.entity = entity;
        res.headers.erase(it);
        break;
      }
      if (((reads || unaudited) && !refused) || anonymous_read) return respond(std::move(res));
      entry.status = res.status;
      log->Append(std::move(entry), [respond = std::move(respond), res = std::move(res)]() mutable {
        respond(std::move(res));
      });
    });
  };
}

}  // namespace gpuaas::api
