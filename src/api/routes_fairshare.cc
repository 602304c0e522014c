// GET /api/v1/fairshare (docs/api.md): where each entity stands in the fair-share queue order
// (Slurm's sshare): its shares and decayed usage, the factor and delay its jobs carry, its wait
// ratio and whether that puts it first. Members see their own entities; platform admins all.
#include <cmath>

#include "api/handler_support.h"
#include "api/routes.h"

namespace gpuaas::api {
namespace {

// Figures of a ratio or part, to 4 decimals (enough to compare; no noise digits).
double Rounded(double x) { return std::round(x * 1e4) / 1e4; }

}  // namespace

void RegisterFairShareRoutes(net::Router& r, Platform& p) {
  r.Add("GET", "/api/v1/fairshare",
        Authed(p, [&p](const Principal& who, net::HttpRequest&&, net::Respond respond) {
          const Platform::FairShareView view = p.FairShare(who);
          json::array a;
          for (const sched::FairShareStanding& s : view.standings) {
            const Entity* e = p.FindEntityById(s.entity);
            a.push_back(json::object{
                {"entity", e ? e->name : ""},
                {"shares", e ? json::value(e->shares) : json::value(s.shares)},
                {"share", Rounded(s.share_part)},
                {"usage_gpu_hours", std::round(s.usage_gpu_hours * 100) / 100},
                {"usage", Rounded(s.usage_part)},
                {"factor", Rounded(s.factor)},
                {"delay_s", s.delay_s},
                {"wait_ratio",
                 s.wait_ratio < 0 ? json::value(nullptr) : json::value(Rounded(s.wait_ratio))},
                {"late", s.late},
                {"queued_jobs", s.queued_jobs},
            });
          }
          respond(JsonResponse(
              200, json::object{{"queue_order", view.policy.queue_order},
                                {"usage_delay_s", view.policy.fair_share_usage_delay_s},
                                {"late_wait_ratio", view.policy.fair_share_wait_ratio},
                                {"wait_horizon_s", view.policy.fair_share_wait_horizon_s},
                                {"half_life_s", view.policy.fair_share_half_life_s},
                                {"small_first_rate", view.policy.small_first_rate},
                                {"small_first_delay_factor", view.policy.small_first_delay_factor},
                                {"entities", a}}));
        }));
}

}  // namespace gpuaas::api
