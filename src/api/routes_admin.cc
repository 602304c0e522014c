#include "api/dto.h"
#include "api/handler_support.h"
#include "api/routes.h"

namespace gpuaas::api {

void RegisterAdminRoutes(net::Router& r, Platform& p) {
  r.Add("GET", "/api/v1/whoami",
        Authed(p, [&p](const Principal& who, net::HttpRequest&&, net::Respond respond) {
          const User* u = p.FindUserById(who.user);
          const Entity* e = p.FindEntityById(who.entity);
          json::object o{{"user", u ? json::value(UserJson(*u, p)) : json::value(nullptr)},
                         {"entity", e ? json::value(EntityJson(*e)) : json::value(nullptr)}};
          respond(JsonResponse(200, o));
        }));
  r.Add("POST", "/api/v1/entities",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto er = EntityRequestOf(*body);
          if (!er.ok()) return respond(ErrorOf(er.status()));
          p.CreateEntity(who, *er, Answer<Entity>(std::move(respond), 201, EntityJson));
        }));
  r.Add("GET", "/api/v1/entities",
        Authed(p, [&p](const Principal& who, net::HttpRequest&&, net::Respond respond) {
          json::array a;
          for (const auto& e : p.ListEntities(who)) a.push_back(EntityJson(e));
          respond(JsonResponse(200, json::object{{"entities", a}}));
        }));
  r.Add("GET", "/api/v1/entities/{name}",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto e = p.GetEntity(who, req.params["name"]);
          if (!e.ok()) return respond(ErrorOf(e.status()));
          respond(JsonResponse(200, EntityJson(*e)));
        }));
  r.Add("PATCH", "/api/v1/entities/{name}",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto update = EntityUpdateOf(*body);
          if (!update.ok()) return respond(ErrorOf(update.status()));
          p.UpdateEntity(who, req.params["name"], *update,
                         Answer<Entity>(std::move(respond), 200, EntityJson));
        }));
  auto user_with_token = [&p](const UserWithToken& ut) {
    json::object o = UserJson(ut.user, p);
    o["token"] = ut.token;
    o["token_id"] = ut.token_id;
    o["expires_at"] = ExpiryJson(ut.expires_at);
    return o;
  };
  r.Add("POST", "/api/v1/users",
        Authed(p, [&p, user_with_token](const Principal& who, net::HttpRequest&& req,
                                        net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto ur = UserRequestOf(*body);
          if (!ur.ok()) return respond(ErrorOf(ur.status()));
          p.CreateUser(who, *ur, Answer<UserWithToken>(std::move(respond), 201, user_with_token));
        }));
  r.Add("GET", "/api/v1/users",
        Authed(p, [&p](const Principal& who, net::HttpRequest&&, net::Respond respond) {
          json::array a;
          for (const auto& u : p.ListUsers(who)) a.push_back(UserJson(u, p));
          respond(JsonResponse(200, json::object{{"users", a}}));
        }));
  r.Add("PATCH", "/api/v1/users/{name}",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto update = UserUpdateOf(*body);
          if (!update.ok()) return respond(ErrorOf(update.status()));
          p.UpdateUser(who, req.params["name"], *update,
                       Answer<UserChanged>(std::move(respond), 200, [&p](const UserChanged& c) {
                         json::object o = UserJson(c.user, p);
                         json::array cancelled;
                         for (JobId id : c.cancelled_jobs) cancelled.push_back(id);
                         o["cancelled_jobs"] = std::move(cancelled);
                         o["unfinished_jobs"] = c.unfinished_jobs;
                         return o;
                       }));
        }));
  r.Add("POST", "/api/v1/users/{name}/tokens",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          // An optional body: {"expires_in_s": N}.
          std::optional<int64_t> expires_in_s;
          if (!req.body.empty()) {
            auto body = ParseObject(req.body);
            if (!body.ok()) return respond(ErrorOf(body.status()));
            auto n = GetInt(*body, "expires_in_s");
            if (!n.ok()) return respond(ErrorOf(n.status()));
            expires_in_s = *n;
          }
          p.CreateToken(who, req.params["name"], expires_in_s,
                        Answer<UserWithToken>(std::move(respond), 201, [](const UserWithToken& ut) {
                          return json::object{{"user", ut.user.name},
                                              {"token", ut.token},
                                              {"token_id", ut.token_id},
                                              {"expires_at", ExpiryJson(ut.expires_at)}};
                        }));
        }));
  r.Add("GET", "/api/v1/users/{name}/tokens",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto tokens = p.ListTokens(who, req.params["name"]);
          if (!tokens.ok()) return respond(ErrorOf(tokens.status()));
          json::array a;
          for (const ApiToken& t : *tokens) {
            a.push_back(json::object{{"id", t.id},
                                     {"created_at", FormatRfc3339(t.created_at)},
                                     {"expires_at", ExpiryJson(t.expires_at)},
                                     {"expired", t.expires_at != 0 && p.Now() >= t.expires_at},
                                     {"session", t.session}});
          }
          respond(JsonResponse(200, json::object{{"user", req.params["name"]}, {"tokens", a}}));
        }));
  r.Add("DELETE", "/api/v1/users/{name}/tokens/{id}",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto id = PathId(req, "id");
          if (!id) {
            return respond(ErrorOf(
                NotFound("user '" + req.params["name"] + "' has no token " + req.params["id"])));
          }
          p.RevokeTokens(who, req.params["name"], *id,
                         [respond = std::move(respond)](Result<int64_t> r) {
                           if (!r.ok()) return respond(ErrorOf(r.status()));
                           net::HttpResponse res;
                           res.status = 204;
                           respond(std::move(res));
                         });
        }));
  r.Add("DELETE", "/api/v1/users/{name}/tokens",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          p.RevokeTokens(who, req.params["name"], std::nullopt,
                         Answer<int64_t>(std::move(respond), 200, [](int64_t n) {
                           return json::object{{"revoked", n}};
                         }));
        }));
}

}  // namespace gpuaas::api
