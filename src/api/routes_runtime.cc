#include "api/routes_runtime.h"

// GCC 12 reports a false -Wdangling-pointer inside Boost.JSON's object::end() (empty table).
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <boost/json.hpp>

#include "api/handler_support.h"
#include "api/json_io.h"
#include "base/time.h"

namespace gpuaas::api {

namespace json = boost::json;

namespace {

json::object SecretJson(const SecretInfo& s) {
  return {{"name", s.name}, {"size", s.size}, {"created_at", FormatRfc3339(s.created_at)}};
}

}  // namespace

void RegisterRuntimeRoutes(net::Router& r, Platform& p) {
  r.Add("GET", "/api/v1/environments",
        Authed(p, [&p](const Principal&, net::HttpRequest&&, net::Respond respond) {
          json::array a;
          for (const Environment& e : p.ListEnvironments()) {
            a.push_back(
                json::object{{"name", e.name}, {"image", e.image}, {"description", e.description}});
          }
          respond(JsonResponse(200, json::object{{"environments", a}}));
        }));
  r.Add("GET", "/api/v1/entities/{name}/secrets",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto list = p.ListSecrets(who, req.params["name"]);
          if (!list.ok()) return respond(ErrorOf(list.status()));
          json::array a;
          for (const SecretInfo& s : *list) a.push_back(SecretJson(s));
          respond(JsonResponse(200, json::object{{"secrets", a}}));
        }));
  r.Add("POST", "/api/v1/entities/{name}/secrets",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto name = GetString(*body, "name");
          if (!name.ok()) return respond(ErrorOf(name.status()));
          auto value = GetString(*body, "value");
          if (!value.ok()) return respond(ErrorOf(value.status()));
          if (!*name || !*value) {
            return respond(ErrorOf(InvalidArgument("'name' and 'value' are required")));
          }
          auto s = p.PutSecret(who, req.params["name"], **name, **value);
          if (!s.ok()) return respond(ErrorOf(s.status()));
          respond(JsonResponse(201, SecretJson(*s)));
        }));
  r.Add("DELETE", "/api/v1/entities/{name}/secrets/{secret}",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          Status s = p.DeleteSecret(who, req.params["name"], req.params["secret"]);
          if (!s.ok()) return respond(ErrorOf(s));
          net::HttpResponse res;
          res.status = 204;
          respond(std::move(res));
        }));
}

}  // namespace gpuaas::api
