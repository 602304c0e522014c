#include <charconv>
#include <fstream>

#include "api/dto.h"
#include "api/handler_support.h"
#include "api/routes.h"

namespace gpuaas::api {
namespace {

constexpr size_t kDefaultPage = 100;
constexpr size_t kMaxPage = 1000;

// The last `max_bytes` of a file ("" if it does not exist).
std::string TailOf(const std::string& path, size_t max_bytes) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return "";
  std::streamoff size = f.tellg();
  std::streamoff start = size > static_cast<std::streamoff>(max_bytes)
                             ? size - static_cast<std::streamoff>(max_bytes)
                             : 0;
  f.seekg(start);
  std::string out(static_cast<size_t>(size - start), '\0');
  f.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(f.gcount()));
  return out;
}

}  // namespace

void RegisterJobRoutes(net::Router& r, Platform& p) {
  auto job_json = [&p](const Job& j) { return JobJson(j, p); };
  r.Add(
      "POST", "/api/v1/jobs",
      Authed(p, [&p, job_json](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
        auto body = ParseObject(req.body);
        if (!body.ok()) return respond(ErrorOf(body.status()));
        auto jr = JobRequestOf(*body);
        if (!jr.ok()) return respond(ErrorOf(jr.status()));
        p.SubmitJob(who, *jr, Answer<Job>(std::move(respond), 201, job_json));
      }));
  r.Add("POST", "/api/v1/estimate",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto body = ParseObject(req.body);
          if (!body.ok()) return respond(ErrorOf(body.status()));
          auto jr = JobRequestOf(*body);
          if (!jr.ok()) return respond(ErrorOf(jr.status()));
          auto est = p.Estimate(who, *jr);
          if (!est.ok()) return respond(ErrorOf(est.status()));
          respond(JsonResponse(200, EstimateJson(*est, p)));
        }));
  r.Add("GET", "/api/v1/jobs",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          std::optional<JobState> state;
          if (auto it = req.query.find("state"); it != req.query.end() && !it->second.empty()) {
            state = ParseJobState(it->second);
            if (!state)
              return respond(ErrorOf(InvalidArgument("unknown state '" + it->second + "'")));
          }
          EntityId entity = 0;
          if (auto it = req.query.find("entity"); it != req.query.end() && !it->second.empty()) {
            auto e = p.GetEntity(who, it->second);
            if (!e.ok()) return respond(ErrorOf(e.status()));
            entity = e->id;
          }
          auto limit = QueryInt(req, "limit", kDefaultPage);
          if (!limit.ok()) return respond(ErrorOf(limit.status()));
          auto after = QueryInt(req, "after", 0);
          if (!after.ok()) return respond(ErrorOf(after.status()));
          size_t lim = std::clamp<size_t>(static_cast<size_t>(*limit), 1, kMaxPage);
          bool more = false;
          auto jobs = p.ListJobs(who, state, entity, *after, lim, &more);
          json::array a;
          for (const auto& j : jobs) a.push_back(JobJson(j, p));
          json::value next = nullptr;
          if (more && !jobs.empty()) next = jobs.back().id;
          respond(JsonResponse(200, json::object{{"jobs", a}, {"next_after", next}}));
        }));
  r.Add("GET", "/api/v1/jobs/{id}",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto id = PathId(req, "id");
          if (!id) return respond(ErrorOf(NotFound("job " + req.params["id"] + " does not exist")));
          auto j = p.GetJob(who, *id);
          if (!j.ok()) return respond(ErrorOf(j.status()));
          respond(JsonResponse(200, JobJson(*j, p)));
        }));
  r.Add(
      "POST", "/api/v1/jobs/{id}/cancel",
      Authed(p, [&p, job_json](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
        auto id = PathId(req, "id");
        if (!id) return respond(ErrorOf(NotFound("job " + req.params["id"] + " does not exist")));
        p.CancelJob(who, *id, Answer<Job>(std::move(respond), 200, job_json));
      }));
  r.Add("GET", "/api/v1/jobs/{id}/logs",
        Authed(p, [&p](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          auto id = PathId(req, "id");
          if (!id) return respond(ErrorOf(NotFound("job " + req.params["id"] + " does not exist")));
          auto j = p.GetJob(who, *id);
          if (!j.ok()) return respond(ErrorOf(j.status()));
          auto tail = QueryInt(req, "tail_bytes", static_cast<int64_t>(p.config().max_log_bytes));
          if (!tail.ok()) return respond(ErrorOf(tail.status()));
          // A multi-node gang: each part's output by its rank (0, the default, is job.node's).
          auto rank = QueryInt(req, "rank", 0);
          if (!rank.ok()) return respond(ErrorOf(rank.status()));
          const int64_t ranks = std::max<int64_t>(1, static_cast<int64_t>(p.PartsOf(*j).size()));
          if (*rank >= ranks) {
            return respond(ErrorOf(
                InvalidArgument("query parameter 'rank' must be below " + std::to_string(ranks) +
                                ": job " + std::to_string(*id) + " runs on " +
                                std::to_string(ranks) + (ranks == 1 ? " node" : " nodes"))));
          }
          net::HttpResponse res;
          res.content_type = "text/plain; charset=utf-8";
          res.body = TailOf(p.LogPath(*id, static_cast<int>(*rank)),
                            std::min<size_t>(static_cast<size_t>(*tail), p.config().max_log_bytes));
          respond(std::move(res));
        }));
}

}  // namespace gpuaas::api
