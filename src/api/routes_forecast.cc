// GET /api/v1/forecast (docs/api.md): the demand forecast of `gpuaas forecast`, computed from
// the platform's own job history (the ledger `gpuaas trace export` reads: ended jobs, their GPUs
// and run time) against the live inventory's GPUs per class. Platform admins only.
//
// On the loop: authenticate, validate, and copy the few fields of each job the forecast needs
// (in pages, so that the full Job objects are never all copied at once) and the GPUs per class
// of every registered node. Off the loop (BackgroundQueue, at most kMaxPending forecasts at a
// time; more answer 429): the trace, the fit and the JSON.
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "api/background_queue.h"
#include "api/handler_support.h"
#include "api/routes.h"
#include "sim/forecast.h"
#include "sim/ledger_export.h"
#include "sim/results_format.h"

namespace gpuaas::api {
namespace {

constexpr size_t kMaxPending = 2;
constexpr size_t kPage = 10'000;
constexpr size_t kMaxJobs = 2'000'000;  // a larger history answers 413
constexpr int64_t kWeekS = 7 * 86400;
constexpr int64_t kMaxLeadS = 10 * 365 * 86400;

const std::set<std::string>& KnownParams() {
  static const std::set<std::string> k = {"weeks", "lead_time", "class", "growth",
                                          "max_utilization"};
  return k;
}

Result<double> NumberParam(const std::string& key, const std::string& v, double lo, double hi,
                           bool lo_open) {
  double x = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  const bool in = lo_open ? x > lo : x >= lo;
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || !std::isfinite(x) || !in ||
      x > hi) {
    return InvalidArgument("'" + key + "' must be a number in " + (lo_open ? "(" : "[") +
                           sim::Fixed(lo, 0) + ", " + sim::Fixed(hi, 0) + "], got '" + v + "'");
  }
  return x;
}

// What the forecast needs of an ended job, copied on the loop (a whole Job is ~0.5 KiB with
// many strings; this keeps the loop's share small).
struct EndedJob {
  JobId id;
  JobKind kind;
  EntityId entity;
  int gpus;
  int priority;
  int64_t walltime_s;
  JobState state;
  Millis submitted_at, started_at, finished_at;
  std::string first_type;  // the first acceptable class ("" = any)
  std::string gpu_type;    // the class it ran on
};

EndedJob Light(const Job& j) {
  return {j.id,
          j.kind,
          j.entity,
          j.gpus,
          j.priority,
          j.walltime_s,
          j.state,
          j.submitted_at,
          j.started_at,
          j.finished_at,
          j.gpu_types.empty() ? std::string() : j.gpu_types.front(),
          j.gpu_type};
}

// Off the loop: the Job that TraceFromJobs reads (only the first acceptable class matters to
// the forecast: the class, and the speed conversion of a fallback).
Job AsJob(const EndedJob& e) {
  Job s;
  s.id = e.id;
  s.kind = e.kind;
  s.entity = e.entity;
  s.gpus = e.gpus;
  if (!e.first_type.empty()) s.gpu_types = {e.first_type};
  s.walltime_s = e.walltime_s;
  s.priority = e.priority;
  s.state = e.state;
  s.submitted_at = e.submitted_at;
  s.started_at = e.started_at;
  s.finished_at = e.finished_at;
  s.gpu_type = e.gpu_type;
  return s;
}

// GPU-hours to the thousandth (3.6 GPU-seconds): short test jobs still show.
double Round3(double v) { return std::round(v * 1000) / 1000; }

std::string SeasonNote(int season_weeks) {
  if (season_weeks == 52) return "yearly pattern (52 weeks) fitted";
  if (season_weeks > 0) return std::to_string(season_weeks) + "-week pattern fitted";
  return "none: under 8 weeks of history";
}

struct Input {
  std::vector<EndedJob> jobs;
  std::map<std::string, int> gpus;  // by class, every registered node
  std::vector<GpuClass> catalogue;
  std::string only_class;
  sim::ForecastOptions options;
  Millis now = 0;
  int64_t not_ended = 0;  // skipped on the loop
};

json::object Compute(Input& in) {
  std::vector<sim::TraceJob> trace;
  sim::ExportStats st;
  {
    std::vector<Job> jobs;
    jobs.reserve(in.jobs.size());
    for (const EndedJob& e : in.jobs) jobs.push_back(AsJob(e));
    in.jobs = {};
    trace = sim::TraceFromJobs(jobs, {}, in.catalogue, &st);
  }
  st.not_ended += in.not_ended;
  if (!in.only_class.empty()) {
    std::vector<sim::TraceJob> kept;
    for (sim::TraceJob& t : trace) {
      const std::string cls = t.gpu_types.empty() ? "any" : t.gpu_types.front();
      if (cls == in.only_class) kept.push_back(std::move(t));
    }
    trace = std::move(kept);
  }
  sim::ClusterSpec fleet;
  int total = 0;
  for (const auto& [cls, n] : in.gpus) {
    fleet.groups.push_back({cls, n, 1});
    total += n;
  }
  json::object out;
  out["generated_at"] = FormatRfc3339(in.now);
  out["horizon_weeks"] = in.options.horizon_weeks;
  out["lead_time_s"] = in.options.lead_time_s;
  out["max_utilization"] = in.options.max_utilization;
  out["growth"] = in.options.growth;
  out["jobs_used"] = static_cast<int64_t>(trace.size());
  out["jobs_not_ended"] = st.not_ended;
  json::array classes;
  if (trace.empty()) {
    out["history_start"] = nullptr;
    out["weeks_of_history"] = 0;
    out["classes"] = std::move(classes);
    out["note"] = "no ended job in the history yet: nothing to forecast";
    return out;
  }
  const Millis origin = st.origin;
  sim::ForecastOptions o = in.options;
  o.history_end_s = std::max<int64_t>(0, (in.now - origin) / 1000);
  sim::VectorJobSource source(std::move(trace));
  auto f = sim::Forecast(source, fleet, o);
  out["history_start"] = FormatRfc3339(origin);
  if (!f.ok()) {  // options were validated: only a history beyond the limits gets here
    out["weeks_of_history"] = 0;
    out["classes"] = std::move(classes);
    out["note"] = f.status().message();
    return out;
  }
  out["weeks_of_history"] = f->empty() ? 0 : static_cast<int64_t>(f->front().history.size());
  for (const sim::ClassForecast& c : *f) {
    json::array hist, proj;
    for (double v : c.history) hist.push_back(Round3(v));
    for (double v : c.projection) proj.push_back(Round3(v));
    const int gpus = c.gpu_class == "any"              ? total
                     : in.gpus.count(c.gpu_class) != 0 ? in.gpus.at(c.gpu_class)
                                                       : 0;
    json::object co{{"class", c.gpu_class},
                    {"gpus", gpus},
                    {"capacity_gpu_hours_per_week", Round3(c.capacity)},
                    {"history_gpu_hours", std::move(hist)},
                    {"forecast_gpu_hours", std::move(proj)},
                    {"trend_gpu_hours_per_week", Round3(c.trend_per_week)},
                    {"season_weeks", c.season_weeks},
                    {"seasonality", SeasonNote(c.season_weeks)}};
    if (c.exceed_week < 0) {
      co["exceed_week"] = nullptr;
      co["exceed_date"] = nullptr;
      co["order_by"] = nullptr;
      co["order_now"] = false;
    } else {
      const Millis order_by = origin + c.order_by_s * 1000;
      co["exceed_week"] = c.exceed_week;
      co["exceed_date"] = FormatRfc3339(origin + c.exceed_week * kWeekS * 1000);
      co["order_by"] = FormatRfc3339(order_by);
      co["order_now"] = order_by <= in.now;
    }
    classes.push_back(std::move(co));
  }
  out["classes"] = std::move(classes);
  return out;
}

}  // namespace

void RegisterForecastRoutes(net::Router& r, Platform& p) {
  auto queue = std::make_shared<BackgroundQueue>(kMaxPending);
  r.Add("GET", "/api/v1/forecast",
        Authed(p, [&p, queue](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
          if (!IsPlatformAdmin(who)) {
            return respond(ErrorOf(PermissionDenied("the forecast is for platform admins")));
          }
          for (const auto& [k, v] : req.query) {
            if (KnownParams().count(k) == 0) {
              return respond(ErrorOf(
                  InvalidArgument("unknown parameter '" + k +
                                  "' (known: weeks, lead_time, class, growth, max_utilization)")));
            }
          }
          if (!queue->HasRoom()) {
            return respond(ErrorOf(
                ResourceExhausted("forecasts are already being computed: retry in a few seconds")));
          }
          auto in = std::make_shared<Input>();
          in->catalogue = p.config().classes;
          if (auto it = req.query.find("weeks"); it != req.query.end()) {
            int w = 0;
            const std::string& v = it->second;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), w);
            if (v.empty() || ec != std::errc() || end != v.data() + v.size() || w < 1 || w > 520) {
              return respond(ErrorOf(InvalidArgument(
                  "'weeks' must be a whole number of weeks from 1 to 520, got '" + v + "'")));
            }
            in->options.horizon_weeks = w;
          }
          if (auto it = req.query.find("lead_time"); it != req.query.end()) {
            auto s = ParseDurationSeconds(it->second);
            if (!s.ok() || *s > kMaxLeadS) {
              return respond(ErrorOf(InvalidArgument(
                  "'lead_time' must be a duration up to 10 years, e.g. 12w, 90d or seconds, "
                  "got '" +
                  it->second + "'")));
            }
            in->options.lead_time_s = *s;
          }
          if (auto it = req.query.find("growth"); it != req.query.end()) {
            auto g = NumberParam("growth", it->second, 0, 100, true);
            if (!g.ok()) return respond(ErrorOf(g.status()));
            in->options.growth = *g;
          }
          if (auto it = req.query.find("max_utilization"); it != req.query.end()) {
            auto u = NumberParam("max_utilization", it->second, 0, 1, true);
            if (!u.ok()) return respond(ErrorOf(u.status()));
            in->options.max_utilization = *u;
          }
          if (auto it = req.query.find("class"); it != req.query.end()) {
            bool known = it->second == "any";
            for (const GpuClass& c : in->catalogue) known = known || c.name == it->second;
            if (!known) {
              return respond(ErrorOf(
                  InvalidArgument("'class' names no GPU class of the platform: '" + it->second +
                                  "' (or 'any' for jobs that accept every class)")));
            }
            in->only_class = it->second;
          }
          for (const Node& n : p.ListNodes()) {
            for (const GpuDevice& d : n.gpus) ++in->gpus[d.gpu_class];
          }
          JobId after = 0;
          while (true) {
            bool more = false;
            std::vector<Job> page = p.ListJobs(who, std::nullopt, 0, after, kPage, &more);
            for (const Job& j : page) {
              if (j.kind == JobKind::kAllocation) continue;
              if (!IsFinal(j.state) || j.started_at <= 0) {
                ++in->not_ended;
                continue;
              }
              in->jobs.push_back(Light(j));
            }
            if (!page.empty()) after = page.back().id;
            if (in->jobs.size() > kMaxJobs) {
              return respond(ErrorOf(
                  TooLarge("the history has over 2,000,000 jobs: forecast it offline (gpuaas "
                           "trace export, gpuaas forecast)")));
            }
            if (!more) break;
          }
          in->now = p.Now();
          if (!queue->Submit([in, respond] { respond(JsonResponse(200, Compute(*in))); })) {
            respond(ErrorOf(
                ResourceExhausted("forecasts are already being computed: retry in a few seconds")));
          }
        }));
}

}  // namespace gpuaas::api
