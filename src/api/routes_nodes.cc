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
  for (const char* action : {"cordon", "drain", "resume"}) {
    r.Add("POST", std::string("/api/v1/nodes/{name}/") + action,
          Authed(p, [&p, action](const Principal& who, net::HttpRequest&& req,
                                 net::Respond respond) {
            p.SetNodeMode(who, req.params["name"], action,
                          Answer<Node>(std::move(respond), 200,
                                       [&p](const Node& n) { return NodeJson(n, p); }));
          }));
  }
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
