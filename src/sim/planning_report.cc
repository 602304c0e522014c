#include "sim/planning_report.h"

#include <algorithm>
#include <cmath>

#include "base/html.h"
#include "sim/results_format.h"
#include "sim/svg_plot.h"

namespace gpuaas::sim {
namespace {

constexpr int64_t kWeekS = 7 * 86400;

std::string Date(Millis t) { return FormatRfc3339(t).substr(0, 10); }

std::string SeasonNote(int season_weeks) {
  if (season_weeks == 52) return "yearly pattern";
  if (season_weeks > 0) return std::to_string(season_weeks) + "-week pattern";
  return "none (under 8 weeks of history)";
}

std::string Days(int64_t s) {
  if (s % kWeekS == 0 && s > 0) return std::to_string(s / kWeekS) + " weeks";
  return Fixed(static_cast<double>(s) / 86400.0, s % 86400 ? 1 : 0) + " days";
}

}  // namespace

std::string ForecastReportHtml(const ForecastPage& page, const std::vector<ClassForecast>& fs) {
  const ForecastOptions& o = page.options;
  const size_t weeks = fs.empty() ? 0 : fs.front().history.size();
  const Millis history_end = page.origin + static_cast<Millis>(weeks) * kWeekS * 1000;
  const Millis today = page.today > 0 ? page.today : history_end;
  const Millis horizon_end = history_end + static_cast<Millis>(o.horizon_weeks) * kWeekS * 1000;
  std::string h = PageStart("GPUaaS demand forecast: " + page.source);
  h +=
      "<h1>GPU demand forecast</h1>\n<p class=\"note\">Weekly GPU-hours used per GPU class, from " +
      HtmlEscape(page.source) + " (" + std::to_string(weeks) + " weeks from " + Date(page.origin) +
      "), projected " + std::to_string(o.horizon_weeks) +
      " weeks ahead with a straight-line trend plus the repeating weekly pattern" +
      (o.growth != 1.0 ? ", times " + Fixed(o.growth, 2) + " for extra expected demand" : "") +
      ". <i>What the fleet can serve</i> is its GPUs x 168 hours a week x " +
      Fixed(o.max_utilization * 100, 0) +
      "% (a fleet run fuller than that makes jobs queue badly). Delivery of new GPUs takes " +
      Days(o.lead_time_s) + ".</p>\n";
  h += "<h2>In short</h2>\n";
  for (const ClassForecast& f : fs) {
    h += "<p class=\"key\" data-class=\"" + HtmlEscape(f.gpu_class) + "\"><b>" +
         HtmlEscape(f.gpu_class) + "</b>: ";
    if (f.exceed_week < 0) {
      h += "demand stays below what the fleet can serve (" + Fixed(f.capacity, 0) +
           " GPU-hours a week) until at least " + Date(horizon_end) +
           ". No order is needed for this class in that time.";
    } else {
      const Millis exceed = page.origin + f.exceed_week * kWeekS * 1000;
      const Millis order_by = page.origin + f.order_by_s * 1000;
      h += "demand is projected to pass what the fleet can serve (" + Fixed(f.capacity, 0) +
           " GPU-hours a week) in the week of <b>" + Date(exceed) + "</b>. With " +
           Days(o.lead_time_s) + " for delivery, order more " + HtmlEscape(f.gpu_class) +
           " GPUs by <b>" + Date(order_by) + "</b>";
      h += order_by <= today ? " &mdash; that date has passed: order now." : ".";
    }
    h += "</p>\n";
  }
  h += "<table><tr><th>class</th><th>GPUs</th><th>can serve (GPU-h a week)</th><th>last week "
       "(GPU-h)</th><th>trend (GPU-h a week, change per week)</th><th>seasonality</th><th>"
       "projected to exceed</th><th>order by</th></tr>\n";
  for (const ClassForecast& f : fs) {
    const double gpus = o.max_utilization > 0 ? f.capacity / (168.0 * o.max_utilization) : 0;
    h += "<tr><td>" + HtmlEscape(f.gpu_class) + "</td><td>" + Fixed(gpus, 0) + "</td><td>" +
         Fixed(f.capacity, 0) + "</td><td>" + Fixed(f.history.empty() ? 0.0 : f.history.back(), 0) +
         "</td><td>" + (f.trend_per_week >= 0 ? "+" : "") + Fixed(f.trend_per_week, 1) +
         "</td><td>" + SeasonNote(f.season_weeks) + "</td><td>" +
         (f.exceed_week < 0 ? "not within " + std::to_string(o.horizon_weeks) + " weeks"
                            : Date(page.origin + f.exceed_week * kWeekS * 1000)) +
         "</td><td>" + (f.exceed_week < 0 ? "&mdash;" : Date(page.origin + f.order_by_s * 1000)) +
         "</td></tr>\n";
  }
  h += "</table>\n";
  for (const ClassForecast& f : fs) {
    LineChartSpec c;
    c.title =
        "GPU-hours a week, " + f.gpu_class + ": so far, projected, and what the fleet can serve";
    c.y_label = "GPU-hours a week";
    c.x_label = "weeks since " + Date(page.origin);
    const size_t n = f.history.size() + f.projection.size();
    c.points = n;
    c.series.push_back({"history-" + f.gpu_class, "used so far", f.history});
    c.series.push_back(
        {"forecast-" + f.gpu_class, "projected", f.projection, f.history.size(), true});
    c.series.push_back({"capacity-" + f.gpu_class, "fleet can serve",
                        std::vector<double>(n, f.capacity), 0, true});
    c.y_max = f.capacity * 1.1;
    if (f.exceed_week >= 0) {
      c.markers.push_back({static_cast<size_t>(f.exceed_week), "exceeds"});
      const int64_t order_week = f.order_by_s / kWeekS;
      if (f.order_by_s >= 0 && order_week < static_cast<int64_t>(n)) {
        c.markers.push_back({static_cast<size_t>(order_week), "order by"});
      }
    }
    h += "<section data-forecast=\"" + HtmlEscape(f.gpu_class) + "\">\n" + LineChart(c) +
         "</section>\n";
  }
  h += PageEnd(
      "Generated by <code>gpuaas forecast --report</code> (the model: docs/simulator.md, "
      "\"Demand forecast\"). The last week of the history may be partial. A projection is a "
      "straight line fitted to the past: read it as a date to review, not a promise.");
  return h;
}

std::string PlanReportHtml(const std::string& trace, const std::string& policy, double scale,
                           const std::vector<FleetResult>& fleets, const SearchResult* search,
                           int64_t target_p95_wait_s) {
  std::string h = PageStart("GPUaaS capacity plan: " + trace);
  h += "<h1>Capacity plan: " + HtmlEscape(trace) + "</h1>\n<p class=\"note\">The jobs of <b>" +
       HtmlEscape(trace) + "</b>" +
       (scale != 1.0 ? " arriving " + Fixed(scale, 2) + " times as fast (more demand)" : "") +
       " replayed on each fleet through the platform's scheduler (policy " + HtmlEscape(policy) +
       "). <i>Wait</i> is the time from submission to start; <i>95% wait less than</i> is the "
       "wait that 95 of 100 jobs beat. <i>Fleet cost</i> is nodes x the monthly cost given per "
       "node; <i>usage cost</i> prices the GPU-hours used at the price book's rates.</p>\n";
  if (search != nullptr) {
    h += "<p class=\"key\" data-search=\"" + std::string(search->found ? "found" : "none") + "\">";
    if (search->found) {
      h += "The cheapest fleet tried whose 95% wait stays under " +
           HumanDuration(static_cast<double>(target_p95_wait_s)) + " is <b>" +
           HtmlEscape(search->best.cluster.ToString()) + "</b> (" +
           std::to_string(search->best.gpus) + " GPUs, " + HumanMoney(search->best.monthly_cost) +
           " a month; 95% wait " + HumanDuration(search->best.metrics.p95_wait_s) + ").";
    } else {
      h += "No fleet tried keeps the 95% wait under " +
           HumanDuration(static_cast<double>(target_p95_wait_s)) + ".";
    }
    if (search->hit_run_limit) h += " The search stopped at its limit of replays.";
    h += "</p>\n";
  }
  std::vector<const FleetResult*> all;
  for (const FleetResult& f : fleets) all.push_back(&f);
  if (search != nullptr) {
    for (const FleetResult& f : search->tried) all.push_back(&f);
  }
  h += "<h2>Fleets side by side</h2>\n<table><tr><th>fleet</th><th>GPUs</th><th>fleet cost a "
       "month</th><th>jobs finished</th><th>average wait</th><th>95% wait less than</th><th>"
       "average completion time</th><th>GPU utilisation</th><th>usage cost</th>" +
       std::string(target_p95_wait_s > 0 ? "<th>meets the target</th>" : "") + "</tr>\n";
  for (size_t i = 0; i < all.size(); ++i) {
    const FleetResult& f = *all[i];
    const PolicyMetrics& m = f.metrics;
    h += "<tr data-fleet=\"" + HtmlEscape(f.cluster.ToString()) + "\"><td>" +
         HtmlEscape(f.cluster.ToString()) + (i < fleets.size() ? "" : " (search)") + "</td><td>" +
         std::to_string(f.gpus) + "</td><td>" +
         (f.monthly_cost > 0 ? HumanMoney(f.monthly_cost) : "&mdash;") + "</td><td>" +
         std::to_string(m.finished) + " / " + std::to_string(m.jobs) + "</td><td>" +
         HumanDuration(m.avg_wait_s) + "</td><td>" + HumanDuration(m.p95_wait_s) + "</td><td>" +
         HumanDuration(m.avg_jct_s) + "</td><td>" + Fixed(m.gpu_utilization * 100, 1) +
         "%</td><td>" + HumanMoney(m.cost) + "</td>" +
         (target_p95_wait_s > 0 ? std::string("<td>") + (f.meets_target ? "yes" : "no") + "</td>"
                                : "") +
         "</tr>\n";
  }
  h += "</table>\n";
  std::vector<BarRow> wait, cost;
  bool fleet_costs = false;
  for (const FleetResult* f : all) fleet_costs = fleet_costs || f->monthly_cost > 0;
  for (const FleetResult* f : all) {
    const std::string name = f->cluster.ToString();
    wait.push_back({name, name, f->metrics.p95_wait_s, HumanDuration(f->metrics.p95_wait_s)});
    const MicroEur c = fleet_costs ? f->monthly_cost : f->metrics.cost;
    cost.push_back({name, name, static_cast<double>(c), HumanMoney(c)});
  }
  h += BarChart("95% of jobs wait less than (shorter is better)", wait, "#1f6fb4", "data-wait");
  h += BarChart(fleet_costs ? "Fleet cost a month" : "Usage cost at the price book's rates", cost,
                "#2e9b48", "data-cost");
  h += PageEnd(
      "Generated by <code>gpuaas plan --report</code> (the model: docs/simulator.md, "
      "\"Capacity planning\"); the same trace, fleets and seed give the same page.");
  return h;
}

}  // namespace gpuaas::sim
