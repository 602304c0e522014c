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
  r.Add("POST", "/api/v1/users/{name}/tokens",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          p.CreateToken(who, req.params["name"],
                        Answer<UserWithToken>(std::move(respond), 201, [](const UserWithToken& ut) {
                          return json::object{{"user", ut.user.name}, {"token", ut.token}};
                        }));
        }));
}

}  // namespace gpuaas::api
