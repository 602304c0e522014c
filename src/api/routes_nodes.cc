#include "api/dto.h"
#include "api/handler_support.h"
#include "api/routes.h"

#include <charconv>

namespace gpuaas::api {

void RegisterNodeRoutes(net::Router& r, Platform& p) {
  r.Add("GET", "/api/v1/nodes",
        Authed(p, [&p](const Principal&, net::HttpRequest&&, net::Respond respond) {
          json::array a;
          for (const auto& n : p.ListNodes()) a.push_back(NodeJson(n, p));
          respond(JsonResponse(200, json::object{{"nodes", a}}));
        }));
  // Node actions (cordon, drain, resume): one literal route each, so tools can list them.
  const auto set_mode = [&p](const char* action) {
    return Authed(p,
                  [&p, action](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
                    p.SetNodeMode(who, req.params["name"], action,
                                  Answer<Node>(std::move(respond), 200,
                                               [&p](const Node& n) { return NodeJson(n, p); }));
                  });
  };
  r.Add("POST", "/api/v1/nodes/{name}/cordon", set_mode("cordon"));
  r.Add("POST", "/api/v1/nodes/{name}/drain", set_mode("drain"));
  r.Add("POST", "/api/v1/nodes/{name}/resume", set_mode("resume"));
  // Recent GPU samples of a node, per device, oldest first (?limit=N per device, default 60).
  r.Add("GET", "/api/v1/nodes/{name}/telemetry",
        Authed(p, [&p](const Principal&, net::HttpRequest&& req, net::Respond respond) {
          size_t limit = 60;
          if (auto it = req.query.find("limit"); it != req.query.end()) {
            const std::string& s = it->second;
            auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), limit);
            if (ec != std::errc() || ptr != s.data() + s.size() || limit < 1 || limit > 10'000) {
              return respond(ErrorOf(InvalidArgument("limit must be an integer in 1..10000")));
            }
          }
          const std::string name = req.params["name"];
          for (const Node& n : p.ListNodes()) {
            if (n.name != name) continue;
            json::array gpus;
            for (const GpuDevice& g : n.gpus) {
              json::array samples;
              const DeviceTelemetry* t = p.telemetry().Device(n.id, g.index);
              if (t) {
                size_t skip = t->recent.size() > limit ? t->recent.size() - limit : 0;
                for (size_t i = skip; i < t->recent.size(); ++i) {
                  const GpuSample& s = t->recent[i];
                  samples.push_back(
                      json::object{{"t", TimeOrNull(s.t)},
                                   {"util", s.util_pct},
                                   {"mem_used_mb", s.mem_used_mb},
                                   {"power_w", static_cast<double>(s.power_mw) / 1000.0},
                                   {"temp_c", s.temp_c}});
                }
              }
              JobId holder = p.DeviceHolder(n.id, g.index);
              gpus.push_back(
                  json::object{{"index", g.index},
                               {"uuid", g.uuid},
                               {"model", g.model},
                               {"state", DeviceStateName(g.state)},
                               {"health_reason", g.health_reason},
                               {"job", holder ? json::value(holder) : json::value(nullptr)},
                               {"energy_wh", t ? static_cast<double>(t->energy_uj) / 3.6e9 : 0.0},
                               {"samples", std::move(samples)}});
            }
            return respond(JsonResponse(200, json::object{{"node", n.name}, {"gpus", gpus}}));
          }
          respond(ErrorOf(NotFound("node '" + name + "' does not exist")));
        }));
  r.Add("POST", "/api/v1/agent/heartbeat",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          int64_t wait_ms = 0;
          if (auto it = req.query.find("wait_ms"); it != req.query.end()) {
            const std::string& s = it->second;
            auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), wait_ms);
            if (ec != std::errc() || ptr != s.data() + s.size() || wait_ms < 0) {
              return respond(ErrorOf(InvalidArgument("wait_ms must be a non-negative integer")));
            }
            wait_ms = std::min<int64_t>(wait_ms, 10'000);
          }
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto report = NodeReportOf(*body);
          if (!report.ok()) return respond(ErrorOf(report.status()));
          p.Heartbeat(who, *report, wait_ms,
                      Answer<DesiredWorkloads>(std::move(respond), 200, DesiredJson));
        }));
}

}  // namespace gpuaas::api
