// Directory group mappings (single sign-on, docs/adr/0024):
//   GET    /api/v1/group-mappings       the mappings the caller administers
//   POST   /api/v1/group-mappings       {"group", "entity", "role"}: 201 with the mapping
//   DELETE /api/v1/group-mappings/{id}  204
// Entity-admins and platform-admins only (Platform checks who may do what).
#include "api/dto.h"
#include "api/handler_support.h"
#include "api/routes.h"

namespace gpuaas::api {

void RegisterGroupRoutes(net::Router& r, Platform& p) {
  r.Add("GET", "/api/v1/group-mappings",
        Authed(p, [&p](const Principal& who, net::HttpRequest&&, net::Respond respond) {
          auto list = p.ListGroupMappings(who);
          if (!list.ok()) return respond(ErrorOf(list.status()));
          json::array a;
          for (const GroupMapping& m : *list) a.push_back(GroupMappingJson(m, p));
          respond(JsonResponse(200, json::object{{"group_mappings", a}}));
        }));
  r.Add("POST", "/api/v1/group-mappings",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto gr = GroupMappingRequestOf(*body);
          if (!gr.ok()) return respond(ErrorOf(gr.status()));
          p.CreateGroupMapping(
              who, *gr, Answer<GroupMapping>(std::move(respond), 201, [&p](const GroupMapping& m) {
                return GroupMappingJson(m, p);
              }));
        }));
  r.Add("DELETE", "/api/v1/group-mappings/{id}",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto id = PathId(req, "id");
          if (!id) {
            return respond(
                ErrorOf(NotFound("group mapping " + req.params["id"] + " does not exist")));
          }
          p.DeleteGroupMapping(who, *id, [respond = std::move(respond)](Result<GroupMapping> m) {
            if (!m.ok()) return respond(ErrorOf(m.status()));
            net::HttpResponse res;
            res.status = 204;
            respond(std::move(res));
          });
        }));
}

}  // namespace gpuaas::api
