// GET /api/v1/audit?limit=N&before=SEQ&actor=NAME&entity=NAME: the newest audit lines first.
#include <algorithm>

#include "api/audit.h"
#include "api/handler_support.h"

namespace gpuaas::api {
namespace {

constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 1000;

// The line's string field `key` ("" for null or absent).
std::string Field(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

void RegisterAuditRoutes(net::Router& r, Platform& p, std::shared_ptr<AuditLog> log) {
  r.Add("GET", "/api/v1/audit",
        Authed(p, [&p, log](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          if (who.role == Role::kMember || who.agent) {
            return respond(ErrorOf(PermissionDenied("the audit trail is for administrators")));
          }
          auto limit = QueryInt(req, "limit", kDefaultLimit);
          if (!limit.ok()) return respond(ErrorOf(limit.status()));
          auto before = QueryInt(req, "before", 0);
          if (!before.ok()) return respond(ErrorOf(before.status()));
          std::string entity = req.query.count("entity") ? req.query.at("entity") : "";
          const std::string actor = req.query.count("actor") ? req.query.at("actor") : "";
          if (!IsPlatformAdmin(who)) {  // an entity admin: its own entity's lines only
            const Entity* own = p.FindEntityById(who.entity);
            const std::string own_name = own ? own->name : "";
            if (!entity.empty() && entity != own_name) {
              return respond(ErrorOf(PermissionDenied("entity admins see their entity's lines")));
            }
            entity = own_name;
          }
          std::vector<json::object> lines;
          auto raw = ReadAuditTail(log->path(),
                                   static_cast<size_t>(std::clamp<int64_t>(*limit, 1, kMaxLimit)),
                                   *before, [&](std::string_view line) {
                                     boost::system::error_code ec;
                                     json::value v = json::parse(line, ec);
                                     if (ec || !v.is_object()) return false;
                                     const json::object& o = v.get_object();
                                     if (!entity.empty() && Field(o, "entity") != entity)
                                       return false;
                                     if (!actor.empty() && Field(o, "actor") != actor) return false;
                                     lines.push_back(o);
                                     return true;
                                   });
          if (!raw.ok()) return respond(ErrorOf(raw.status()));
          json::array entries;
          for (json::object& o : lines) entries.push_back(std::move(o));
          json::value next = nullptr;
          if (raw->next_before > 0) next = raw->next_before;
          respond(JsonResponse(
              200, json::object{{"entries", std::move(entries)}, {"next_before", next}}));
        }));
}

}  // namespace gpuaas::api
