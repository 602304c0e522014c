#include "sim/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "base/time.h"
#include "sim/results_format.h"

namespace gpuaas::sim {
namespace {

std::string MoneyJson(MicroEur m) {
  return "{\"amount\":" + JsonString(FormatEurCents(m)) +
         ",\"currency\":\"EUR\",\"micros\":" + std::to_string(m) + "}";
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string Human(double s) { return FormatDurationSeconds(static_cast<int64_t>(s + 0.5)); }

std::string FleetJson(const FleetResult& f) {
  const PolicyMetrics& m = f.metrics;
  return "{\"cluster\":" + JsonString(f.cluster.ToString()) +
         ",\"gpus\":" + std::to_string(f.gpus) + ",\"monthly_cost\":" + MoneyJson(f.monthly_cost) +
         ",\"jobs\":" + std::to_string(m.jobs) + ",\"finished\":" + std::to_string(m.finished) +
         ",\"avg_jct_s\":" + Fixed(m.avg_jct_s, 3) + ",\"avg_wait_s\":" + Fixed(m.avg_wait_s, 3) +
         ",\"p95_wait_s\":" + Fixed(m.p95_wait_s, 3) +
         ",\"gpu_utilization\":" + Fixed(m.gpu_utilization, 6) + ",\"cost\":" + MoneyJson(m.cost) +
         ",\"meets_target\":" + (f.meets_target ? "true" : "false") + "}";
}

std::string FleetRow(const FleetResult& f, bool target) {
  const PolicyMetrics& m = f.metrics;
  std::string row = Pad(f.cluster.ToString(), 28) + Pad(std::to_string(f.gpus), 7) +
                    Pad(FormatEurCents(f.monthly_cost), 14) + Pad(Human(m.avg_jct_s), 12) +
                    Pad(Human(m.avg_wait_s), 12) + Pad(Human(m.p95_wait_s), 12) +
                    Pad(Fixed(m.gpu_utilization * 100, 1) + "%", 8) +
                    Pad(std::to_string(m.finished) + "/" + std::to_string(m.jobs), 14);
  if (target) row += Pad(f.meets_target ? "yes" : "no", 6);
  return row + "\n";
}

std::string Header(bool target) {
  std::string h = Pad("fleet", 28) + Pad("GPUs", 7) + Pad("EUR/month", 14) + Pad("avg JCT", 12) +
                  Pad("avg wait", 12) + Pad("p95 wait", 12) + Pad("util", 8) + Pad("finished", 14);
  if (target) h += Pad("meets", 6);
  return h + "\n";
}

}  // namespace

Result<bool> ScaledLoadSource::Next(TraceJob* job) {
  auto more = inner_.Next(job);
  if (more.ok() && *more) {
    job->submit_s = static_cast<int64_t>(std::floor(static_cast<double>(job->submit_s) / scale_));
  }
  return more;
}

Result<std::map<std::string, MicroEur>> ParseNodeCosts(std::string_view text) {
  std::map<std::string, MicroEur> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return InvalidArgument("node cost \"" + std::string(item) +
                             "\": expected CLASS=EUR_PER_NODE_PER_MONTH, e.g. h200=30000");
    }
    auto eur = ParseEur(item.substr(eq + 1));
    if (!eur.ok() || *eur < 0) {
      return InvalidArgument("node cost \"" + std::string(item) + "\": bad amount");
    }
    out[std::string(item.substr(0, eq))] = *eur;
  }
  if (out.empty()) return InvalidArgument("no node cost given");
  return out;
}

MicroEur FleetMonthlyCost(const ClusterSpec& cluster,
                          const std::map<std::string, MicroEur>& node_cost) {
  MicroEur total = 0;
  for (const NodeGroup& g : cluster.groups) {
    auto it = node_cost.find(g.gpu_class);
    if (it != node_cost.end()) total += it->second * g.nodes;
  }
  return total;
}

Result<SearchResult> SearchCheapestFleet(const ClusterSpec& start, const SearchOptions& options,
                                         const FleetRun& run) {
  if (options.target_p95_wait_s <= 0) return InvalidArgument("the target p95 wait must be > 0");
  for (const NodeGroup& g : start.groups) {
    if (!options.node_cost.count(g.gpu_class)) {
      return InvalidArgument("no node cost for class " + g.gpu_class + " (give --node-cost " +
                             g.gpu_class + "=EUR_PER_NODE_PER_MONTH)");
    }
  }
  SearchResult out;
  std::map<std::string, size_t> seen;  // spec -> index in tried
  auto evaluate = [&](const ClusterSpec& c) -> Result<const FleetResult*> {
    const std::string key = c.ToString();
    if (auto it = seen.find(key); it != seen.end()) return &out.tried[it->second];
    if (static_cast<int>(out.tried.size()) >= options.max_runs) {
      out.hit_run_limit = true;
      return static_cast<const FleetResult*>(nullptr);
    }
    auto m = run(c);
    if (!m.ok()) return m.status();
    FleetResult f;
    f.cluster = c;
    f.gpus = c.TotalGpus();
    f.monthly_cost = FleetMonthlyCost(c, options.node_cost);
    f.metrics = std::move(m).value();
    f.meets_target = f.metrics.finished == f.metrics.jobs &&
                     f.metrics.p95_wait_s <= static_cast<double>(options.target_p95_wait_s);
    seen[key] = out.tried.size();
    out.tried.push_back(std::move(f));
    return &out.tried.back();
  };
  auto step = [](const NodeGroup& g) {
    return std::max(1, static_cast<int>(std::lround(g.nodes * 0.1)));
  };
  auto current = evaluate(start);
  if (!current.ok()) return current.status();
  FleetResult cur = **current;
  // Up.
  while (!cur.meets_target) {
    std::optional<FleetResult> pick;
    double pick_score = -1;
    for (size_t g = 0; g < cur.cluster.groups.size(); ++g) {
      ClusterSpec c = cur.cluster;
      c.groups[g].nodes += step(c.groups[g]);
      auto f = evaluate(c);
      if (!f.ok()) return f.status();
      if (*f == nullptr) break;
      const double gain = cur.metrics.p95_wait_s - (*f)->metrics.p95_wait_s +
                          (cur.metrics.jobs - cur.metrics.finished) * 1e9 -
                          ((*f)->metrics.jobs - (*f)->metrics.finished) * 1e9;
      const double extra = static_cast<double>((*f)->monthly_cost - cur.monthly_cost) + 1.0;
      const double score = gain / extra;
      if (!pick || score > pick_score ||
          (score == pick_score && (*f)->monthly_cost < pick->monthly_cost)) {
        pick = **f;
        pick_score = score;
      }
    }
    if (!pick || out.hit_run_limit) break;
    cur = *pick;
  }
  // Down.
  while (cur.meets_target) {
    std::optional<FleetResult> pick;
    for (size_t g = 0; g < cur.cluster.groups.size(); ++g) {
      ClusterSpec c = cur.cluster;
      const int s = step(c.groups[g]);
      if (c.groups[g].nodes - s < 1) continue;
      c.groups[g].nodes -= s;
      auto f = evaluate(c);
      if (!f.ok()) return f.status();
      if (*f == nullptr) break;
      if ((*f)->meets_target && (!pick || (*f)->monthly_cost < pick->monthly_cost)) pick = **f;
    }
    if (!pick) break;
    cur = *pick;
  }
  for (const FleetResult& f : out.tried) {
    if (f.meets_target && (!out.found || f.monthly_cost < out.best.monthly_cost)) {
      out.found = true;
      out.best = f;
    }
  }
  if (!out.found) out.best = out.tried.back();
  return out;
}

std::string PlanJson(const std::string& trace, const std::string& policy, double scale,
                     const std::vector<FleetResult>& fleets, const SearchResult* search,
                     int64_t target_p95_wait_s) {
  std::string s = "{\"trace\":" + JsonString(trace) + ",\"policy\":" + JsonString(policy) +
                  ",\"scale_load\":" + Fixed(scale, 3) + ",\"fleets\":[";
  for (size_t i = 0; i < fleets.size(); ++i) s += (i ? "," : "") + FleetJson(fleets[i]);
  s += "],\"search\":";
  if (search == nullptr) {
    s += "null";
  } else {
    s += "{\"target_p95_wait_s\":" + std::to_string(target_p95_wait_s) +
         ",\"found\":" + (search->found ? "true" : "false") +
         ",\"best\":" + FleetJson(search->best) + ",\"tried\":[";
    for (size_t i = 0; i < search->tried.size(); ++i) {
      s += (i ? "," : "") + FleetJson(search->tried[i]);
    }
    s += "],\"hit_run_limit\":" + std::string(search->hit_run_limit ? "true" : "false") + "}";
  }
  return s + "}\n";
}

std::string PlanTable(const std::string& trace, const std::string& policy, double scale,
                      const std::vector<FleetResult>& fleets, const SearchResult* search,
                      int64_t target_p95_wait_s) {
  std::string s = "trace " + trace + ", policy " + policy + ", load x" + Fixed(scale, 2) + "\n\n";
  const bool target = target_p95_wait_s > 0;
  s += Header(target);
  for (const FleetResult& f : fleets) s += FleetRow(f, target);
  if (search != nullptr) {
    s += "\ncheapest fleet with p95 wait <= " + FormatDurationSeconds(target_p95_wait_s) + ": ";
    if (search->found) {
      s += search->best.cluster.ToString() + " (" + FormatEurCents(search->best.monthly_cost) +
           " EUR/month)\n";
    } else {
      s += "none found" + std::string(search->hit_run_limit ? " within the replay limit" : "") +
           "\n";
    }
    s += "\nfleets tried (" + std::to_string(search->tried.size()) + "):\n" + Header(true);
    for (const FleetResult& f : search->tried) s += FleetRow(f, true);
  }
  return s;
}

}  // namespace gpuaas::sim
