#include "sim/forecast.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/time.h"
#include "sim/results_format.h"

namespace gpuaas::sim {
namespace {

constexpr int64_t kWeekS = 7 * 86400;

std::string Series(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + Fixed(v[i], 1);
  return s + "]";
}

}  // namespace

Result<std::vector<ClassForecast>> Forecast(JobSource& source, const ClusterSpec& cluster,
                                            const ForecastOptions& options) {
  if (options.horizon_weeks < 1 || options.horizon_weeks > 520) {
    return InvalidArgument("horizon must be 1 to 520 weeks");
  }
  if (!(options.max_utilization > 0 && options.max_utilization <= 1)) {
    return InvalidArgument("max utilization must be in (0, 1]");
  }
  if (options.lead_time_s < 0) return InvalidArgument("lead time must be >= 0");
  if (!(options.growth > 0 && options.growth <= 100)) {
    return InvalidArgument("growth must be in (0, 100]");
  }
  if (options.history_end_s < 0 || options.history_end_s / kWeekS >= 100000) {
    return InvalidArgument("history end out of range");
  }
  std::map<std::string, std::vector<double>> weekly;
  int64_t weeks = 0;
  TraceJob job;
  while (true) {
    auto more = source.Next(&job);
    if (!more.ok()) return more.status();
    if (!*more) break;
    const int64_t w = job.submit_s / kWeekS;
    if (w >= 100000) return InvalidArgument("trace longer than 100,000 weeks");
    weeks = std::max(weeks, w + 1);
    std::vector<double>& v = weekly[job.gpu_types.empty() ? "any" : job.gpu_types.front()];
    if (static_cast<int64_t>(v.size()) <= w) v.resize(w + 1, 0.0);
    v[w] += static_cast<double>(job.gpus) * static_cast<double>(job.duration_s) / 3600.0;
  }
  if (weeks == 0) return InvalidArgument("the history has no jobs");
  if (options.history_end_s > 0) weeks = std::max(weeks, options.history_end_s / kWeekS + 1);
  std::vector<ClassForecast> out;
  for (auto& [cls, hist] : weekly) {
    hist.resize(weeks, 0.0);
    ClassForecast f;
    f.gpu_class = cls;
    f.history = hist;
    // Least squares a + b w.
    const double n = static_cast<double>(weeks);
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int64_t w = 0; w < weeks; ++w) {
      const double x = static_cast<double>(w);
      sx += x, sy += hist[w], sxx += x * x, sxy += x * hist[w];
    }
    const double den = n * sxx - sx * sx;
    const double b = den > 0 ? (n * sxy - sx * sy) / den : 0.0;
    const double a = (sy - b * sx) / n;
    f.trend_per_week = b;
    f.season_weeks = weeks >= 104 ? 52 : weeks >= 8 ? 4 : 0;
    std::vector<double> season(std::max(f.season_weeks, 1), 0.0);
    if (f.season_weeks > 0) {
      std::vector<int> count(f.season_weeks, 0);
      for (int64_t w = 0; w < weeks; ++w) {
        season[w % f.season_weeks] += hist[w] - (a + b * static_cast<double>(w));
        ++count[w % f.season_weeks];
      }
      for (int k = 0; k < f.season_weeks; ++k) season[k] /= std::max(count[k], 1);
    }
    int gpus = 0;
    for (const NodeGroup& g : cluster.groups) {
      if (cls == "any" || g.gpu_class == cls) gpus += g.gpus_per_node * g.nodes;
    }
    f.capacity = gpus * 168.0 * options.max_utilization;
    for (int h = 0; h < options.horizon_weeks; ++h) {
      const int64_t w = weeks + h;
      double p = a + b * static_cast<double>(w);
      if (f.season_weeks > 0) p += season[w % f.season_weeks];
      p = std::max(p * options.growth, 0.0);
      f.projection.push_back(p);
      if (f.exceed_week < 0 && p > f.capacity) f.exceed_week = static_cast<int>(w);
    }
    if (f.exceed_week >= 0) f.order_by_s = f.exceed_week * kWeekS - options.lead_time_s;
    out.push_back(std::move(f));
  }
  return out;
}

std::string ForecastJson(const std::vector<ClassForecast>& fs, Millis origin) {
  std::string s =
      "{\"weeks_of_history\":" + std::to_string(fs.empty() ? 0 : fs.front().history.size()) +
      ",\"classes\":[";
  for (size_t i = 0; i < fs.size(); ++i) {
    const ClassForecast& f = fs[i];
    s += std::string(i ? "," : "") + "{\"class\":" + JsonString(f.gpu_class) +
         ",\"history\":" + Series(f.history) + ",\"projection\":" + Series(f.projection) +
         ",\"trend_per_week\":" + Fixed(f.trend_per_week, 3) +
         ",\"season_weeks\":" + std::to_string(f.season_weeks) +
         ",\"capacity_per_week\":" + Fixed(f.capacity, 1) +
         ",\"exceed_week\":" + (f.exceed_week < 0 ? "null" : std::to_string(f.exceed_week)) +
         ",\"exceed_date\":" +
         (f.exceed_week < 0 ? "null"
                            : JsonString(FormatRfc3339(origin + f.exceed_week * kWeekS * 1000))) +
         ",\"order_by\":" +
         (f.exceed_week < 0 ? "null" : JsonString(FormatRfc3339(origin + f.order_by_s * 1000))) +
         "}";
  }
  return s + "]}\n";
}

std::string ForecastTable(const std::vector<ClassForecast>& fs, Millis origin) {
  std::string s;
  for (const ClassForecast& f : fs) {
    const double last = f.history.empty() ? 0 : f.history.back();
    s += f.gpu_class + ": " + std::to_string(f.history.size()) + " weeks of history, last week " +
         Fixed(last, 0) + " GPU-h, trend " + Fixed(f.trend_per_week, 1) + " GPU-h/week per week" +
         (f.season_weeks ? ", season " + std::to_string(f.season_weeks) + " weeks" : "") +
         "; capacity " + Fixed(f.capacity, 0) + " GPU-h/week\n";
    if (f.exceed_week < 0) {
      s += "  demand stays within capacity over the horizon\n";
    } else {
      s += "  demand exceeds capacity in week " + std::to_string(f.exceed_week) + " (" +
           FormatRfc3339(origin + f.exceed_week * kWeekS * 1000).substr(0, 10) + "); order by " +
           FormatRfc3339(origin + f.order_by_s * 1000).substr(0, 10) + "\n";
    }
  }
  return s;
}

}  // namespace gpuaas::sim
