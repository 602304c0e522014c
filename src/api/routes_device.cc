// Device login, for `gpuaas login` (docs/adr/0023; the grants under way: auth/device_login.h):
//   POST /api/v1/auth/device                  the CLI asks (no credentials): its codes
//   POST /api/v1/auth/device/token            the CLI polls with its device code
//   GET  /api/v1/auth/device/{code}           the portal's /device page: what asks (signed in)
//   POST /api/v1/auth/device/{code}/approve   the user approves: a session token for the CLI
//   POST /api/v1/auth/device/{code}/deny      the user refuses
// Everything runs on the loop; grants live in memory (a restart asks the CLI to start again).
#include <memory>

#include "api/dto.h"
#include "api/handler_support.h"
#include "api/json_io.h"
#include "api/routes.h"
#include "auth/device_login.h"
#include "base/time.h"

namespace gpuaas::api {
namespace {

constexpr size_t kMaxGrants = 1'000;
constexpr size_t kMaxGrantsPerAddress = 20;
constexpr Millis kGrantLifetimeMs = 10 * 60 * 1000;
constexpr Millis kPollIntervalMs = 5'000;
constexpr size_t kMaxDeviceCode = 100;

// "10.0.0.7:52114" -> "10.0.0.7" ("[::1]:5" -> "::1").
std::string HostOf(const std::string& remote) {
  size_t colon = remote.rfind(':');
  std::string host = colon == std::string::npos ? remote : remote.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

void RegisterDeviceRoutes(net::Router& r, Platform& p) {
  auto grants = std::make_shared<DeviceGrantStore>(kMaxGrants, kMaxGrantsPerAddress,
                                                   kGrantLifetimeMs, kPollIntervalMs);

  r.Add("POST", "/api/v1/auth/device", [&p, grants](net::HttpRequest&& req, net::Respond respond) {
    if (!p.ready()) return respond(ErrorOf(Unavailable("the server is starting")));
    std::string client = "gpuaas CLI";
    if (!req.body.empty()) {
      auto body = ParseObject(req.body);
      if (!body.ok()) return respond(ErrorOf(body.status()));
      auto c = GetString(*body, "client");
      if (!c.ok()) return respond(ErrorOf(c.status()));
      if (*c) client = **c;
    }
    auto g = grants->Begin(client, HostOf(req.remote), p.Now());
    if (!g.ok()) return respond(ErrorOf(g.status()));
    net::HttpResponse res = JsonResponse(
        201, json::object{{"device_code", g->device_code},
                          {"user_code", g->user_code},
                          {"verification_path", "/device"},
                          {"verification_path_complete", "/device?code=" + g->user_code},
                          {"expires_in_s", grants->lifetime_ms() / 1000},
                          {"interval_s", grants->interval_ms() / 1000}});
    res.headers.emplace_back("Cache-Control", "no-store");
    respond(std::move(res));
  });

  r.Add("POST", "/api/v1/auth/device/token",
        [&p, grants](net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto code = GetString(*body, "device_code");
          if (!code.ok()) return respond(ErrorOf(code.status()));
          if (!*code || (*code)->empty() || (*code)->size() > kMaxDeviceCode) {
            return respond(
                ErrorOf(InvalidArgument("device_code (from POST /api/v1/auth/device) "
                                        "is required")));
          }
          auto poll = grants->Poll(**code, p.Now());
          if (!poll.ok()) return respond(ErrorOf(poll.status()));
          if (!poll->approved) {
            net::HttpResponse res = JsonResponse(
                202,
                json::object{{"status", "pending"}, {"interval_s", grants->interval_ms() / 1000}});
            res.headers.emplace_back("Cache-Control", "no-store");
            return respond(std::move(res));
          }
          net::HttpResponse res =
              JsonResponse(200, json::object{{"status", "approved"},
                                             {"token", poll->token},
                                             {"user", poll->user},
                                             {"expires_at", ExpiryJson(poll->token_expires_at)}});
          res.headers.emplace_back("Cache-Control", "no-store");
          // The audit line names who gets the token (the request itself carries no credential).
          if (auto who = p.Authenticate(poll->token); who.ok()) {
            const Entity* e = p.FindEntityById(who->entity);
            res.headers.emplace_back(kSignedInHeader, who->name + " " + RoleName(who->role) + " " +
                                                          (e ? e->name : std::string("-")));
          }
          respond(std::move(res));
        });

  r.Add("GET", "/api/v1/auth/device/{code}",
        Authed(p, [&p, grants](const Principal&, net::HttpRequest&& req, net::Respond respond) {
          auto g = grants->Pending(req.params["code"], p.Now());
          if (!g.ok()) return respond(ErrorOf(g.status()));
          respond(JsonResponse(200, json::object{{"user_code", g->user_code},
                                                 {"client", g->client},
                                                 {"from", g->from},
                                                 {"requested_at", FormatRfc3339(g->created_at)},
                                                 {"expires_at", FormatRfc3339(g->expires_at)}}));
        }));

  r.Add(
      "POST", "/api/v1/auth/device/{code}/approve",
      Authed(p, [&p, grants](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
        const User* u = who.agent ? nullptr : p.FindUserById(who.user);
        if (u == nullptr)
          return respond(ErrorOf(PermissionDenied("only a user can approve a login")));
        auto device = grants->Approve(req.params["code"], u->name, p.Now());
        if (!device.ok()) return respond(ErrorOf(device.status()));
        p.IssueDeviceToken(
            who, p.config().cli_login_lifetime_ms / 1000,
            [grants, device = *device, respond = std::move(respond)](Result<UserWithToken> ut) {
              if (!ut.ok()) {
                grants->Complete(device, ut.status());
                return respond(ErrorOf(ut.status()));
              }
              grants->Complete(device, std::pair<std::string, Millis>(ut->token, ut->expires_at));
              respond(JsonResponse(200, json::object{{"user", ut->user.name},
                                                     {"expires_at", ExpiryJson(ut->expires_at)}}));
            });
      }));

  r.Add("POST", "/api/v1/auth/device/{code}/deny",
        Authed(p, [&p, grants](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          const User* u = who.agent ? nullptr : p.FindUserById(who.user);
          if (u == nullptr)
            return respond(ErrorOf(PermissionDenied("only a user can answer a login")));
          Status st = grants->Deny(req.params["code"], u->name, p.Now());
          if (!st.ok()) return respond(ErrorOf(st));
          respond(JsonResponse(200, json::object{{"denied", true}}));
        }));
}

}  // namespace gpuaas::api
