#include "api/dto.h"
#include "api/handler_support.h"
#include "api/routes.h"
#include "api/storage_json.h"

namespace gpuaas::api {
namespace {

Result<Millis> TimeParam(const net::HttpRequest& req, const char* key, Millis dflt) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty()) return dflt;
  return ParseRfc3339(it->second);
}

Millis StartOfMonth(Millis now) {
  std::string ym = FormatRfc3339(now).substr(0, 7);
  auto r = MonthRange(ym);
  return r.ok() ? r->first : 0;
}

}  // namespace

void RegisterUsageRoutes(net::Router& r, Platform& p,
                         std::shared_ptr<ArtifactoryCache> artifactory) {
  r.Add("GET", "/api/v1/usage",
        Authed(p, [&p, artifactory](const Principal& who, net::HttpRequest&& req,
                                    net::Respond respond) {
          EntityId entity = 0;
          if (auto it = req.query.find("entity"); it != req.query.end() && !it->second.empty()) {
            auto e = p.GetEntity(who, it->second);
            if (!e.ok()) return respond(ErrorOf(e.status()));
            entity = e->id;
          }
          Millis now = p.Now();
          auto from = TimeParam(req, "from", StartOfMonth(now));
          if (!from.ok()) return respond(ErrorOf(from.status()));
          auto to = TimeParam(req, "to", now);
          if (!to.ok()) return respond(ErrorOf(to.status()));
          if (*to < *from) return respond(ErrorOf(InvalidArgument("'to' is before 'from'")));
          auto usage = p.Usage(who, entity, *from, *to);
          if (!usage.ok()) return respond(ErrorOf(usage.status()));
          json::array a;
          for (const auto& eu : *usage) {
            json::object secs, costs;
            for (const auto& [cls, cu] : eu.by_class) {
              secs[cls] = static_cast<double>(cu.gpu_millis) / 1000.0;
              costs[cls] = Money(cu.cost);
            }
            const Entity* e = p.FindEntityById(eu.entity);
            const std::string name = e ? e->name : "";
            // Storage beside compute: the workspace as last measured, Artifactory as last
            // fetched (neither is measured here: the answer stays fast).
            json::value storage = nullptr;
            if (auto v = p.GetStorage(who, name); v.ok()) {
              json::object so = StorageJson(*v);
              so["artifactory"] = ArtifactoryJson(artifactory->Lookup(name));
              storage = std::move(so);
            }
            a.push_back(json::object{{"entity", name},
                                     {"gpu_seconds", secs},
                                     {"cost_by_class", costs},
                                     {"cost", Money(eu.cost)},
                                     {"energy_kwh", static_cast<double>(eu.energy_mwh) / 1e6},
                                     {"network", TrafficJson(eu.net_rx_bytes, eu.net_tx_bytes)},
                                     {"storage", storage}});
          }
          respond(JsonResponse(
              200,
              json::object{{"from", TimeOrNull(*from)}, {"to", TimeOrNull(*to)}, {"entities", a}}));
        }));
}

}  // namespace gpuaas::api
