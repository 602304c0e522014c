#include "sim/planning_report.h"

#include <gtest/gtest.h>

#include "model/gpu_class.h"
#include "sim/cluster_spec.h"
#include "sim/svg_plot.h"

namespace gpuaas::sim {
namespace {

constexpr int64_t kWeek = 7 * 86400;
constexpr Millis k2026 = 1767225600000;  // 2026-01-01

// 12 weeks of demand on a class with a hostile name, growing 100 GPU-h a week from 1,000 (as in
// forecast_test), and a flat 50 GPU-h a week on l40s.
std::vector<ClassForecast> Forecasts(const std::string& cls) {
  std::vector<TraceJob> jobs;
  for (int w = 0; w < 12; ++w) {
    TraceJob j;
    j.id = "w" + std::to_string(w);
    j.submit_s = w * kWeek + 3600;
    j.gpus = 1;
    j.entity = "acme";
    j.gpu_types = {cls};
    j.duration_s = static_cast<int64_t>((1000 + 100 * w) * 3600);
    jobs.push_back(j);
    j.id = "l" + std::to_string(w);
    j.gpu_types = {"l40s"};
    j.duration_s = 50 * 3600;
    jobs.push_back(j);
  }
  ClusterSpec fleet;
  fleet.groups = {{cls, 8, 2}, {"l40s", 4, 1}};
  VectorJobSource src(jobs);
  ForecastOptions o;
  o.horizon_weeks = 20;
  o.lead_time_s = 4 * kWeek;
  auto f = Forecast(src, fleet, o);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return f.ok() ? *f : std::vector<ClassForecast>{};
}

ForecastPage Page(Millis today) {
  ForecastPage p;
  p.source = "hist<1>.csv";
  p.origin = k2026;
  p.today = today;
  p.options.horizon_weeks = 20;
  p.options.lead_time_s = 4 * kWeek;
  return p;
}

TEST(ForecastReport, SaysTheWeekTheOrderDateAndTheNumbers) {
  const std::vector<ClassForecast> f = Forecasts("h200");
  ASSERT_EQ(f.size(), 2u);
  ASSERT_EQ(f[0].exceed_week, 12);  // 2026-03-26, order by 2026-02-26 (see forecast_test)
  // "Today" is before the order date: no "order now".
  const std::string early = ForecastReportHtml(Page(k2026 + 4 * kWeek * 1000), f);
  for (const char* needle :
       {"in the week of <b>2026-03-26</b>", "4 weeks for delivery",
        "h200 GPUs by <b>2026-02-26</b>.", "2150 GPU-hours a week", "<td>16</td><td>2150</td>",
        "<td>l40s</td><td>4</td><td>538</td>", "demand stays below", "No order is needed",
        "data-series=\"history-h200\"", "data-series=\"forecast-h200\"",
        "data-series=\"capacity-h200\"", "data-marker=\"exceeds\"", "data-marker=\"order by\"",
        "4-week pattern", "weeks since 2026-01-01", "</html>"}) {
    EXPECT_NE(early.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(early.find("order now"), std::string::npos);
  EXPECT_EQ(early.find("<script"), std::string::npos);
  EXPECT_EQ(early.find("nan"), std::string::npos);
  // The default "today" is the history's end (2026-03-26), past the order date.
  const std::string late = ForecastReportHtml(Page(0), f);
  EXPECT_NE(late.find("that date has passed: order now."), std::string::npos);
  EXPECT_EQ(late, ForecastReportHtml(Page(0), f));  // byte-identical
}

TEST(ForecastReport, EscapesEveryTextFromInput) {
  const std::string html = ForecastReportHtml(Page(0), Forecasts("h<i>&\"x"));
  EXPECT_EQ(html.find("h<i>"), std::string::npos);
  EXPECT_EQ(html.find("hist<1>"), std::string::npos);
  EXPECT_NE(html.find("<b>h&lt;i&gt;&amp;&quot;x</b>"), std::string::npos);
  EXPECT_NE(html.find("data-series=\"history-h&lt;i&gt;&amp;&quot;x\""), std::string::npos);
  EXPECT_NE(html.find("hist&lt;1&gt;.csv"), std::string::npos);
}

FleetResult Fleet(const std::string& spec, double p95, MicroEur monthly, bool meets) {
  FleetResult f;
  auto c = ParseClusterSpec(spec, DefaultGpuClasses());
  EXPECT_TRUE(c.ok());
  f.cluster = *c;
  f.gpus = c->TotalGpus();
  f.monthly_cost = monthly;
  f.metrics.jobs = 300;
  f.metrics.finished = 300;
  f.metrics.p95_wait_s = p95;
  f.metrics.avg_wait_s = p95 / 4;
  f.metrics.gpu_utilization = 0.764;
  f.metrics.cost = 3'185'000'000;
  f.meets_target = meets;
  return f;
}

TEST(PlanReport, FleetsSideBySideWithBarsAndTheSearchAnswer) {
  std::vector<FleetResult> fleets = {Fleet("h200:8x2", 32.3 * 3600, 60'000'000'000, false),
                                     Fleet("h200:8x3", 19.5 * 3600, 90'000'000'000, false)};
  SearchResult search;
  search.found = true;
  search.best = Fleet("h200:8x4", 1800, 120'000'000'000, true);
  search.tried = {search.best};
  const std::string html = PlanReportHtml("t<x>.csv", "fifo", 1.3, fleets, &search, 3600);
  for (const char* needle : {"t&lt;x&gt;.csv",
                             "1.30 times as fast",
                             "policy fifo",
                             "<tr data-fleet=\"h200:8x2\">",
                             "<tr data-fleet=\"h200:8x3\">",
                             "h200:8x4 (search)",
                             "32.3 h",
                             "19.5 h",
                             "60000 EUR",
                             "90000 EUR",
                             "76.4%",
                             "3185 EUR",
                             "300 / 300",
                             "<g data-wait=\"h200:8x2\">",
                             "<g data-cost=\"h200:8x3\">",
                             "Fleet cost a month",
                             "data-search=\"found\"",
                             "is <b>h200:8x4</b> (32 GPUs, 120000 EUR a month; 95% wait 30 min)",
                             "<th>meets the target</th>",
                             "<td>yes</td>"}) {
    EXPECT_NE(html.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(html.find("t<x>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // Without fleet costs the cost bars show the usage cost; without a search, no answer line.
  fleets[0].monthly_cost = fleets[1].monthly_cost = 0;
  const std::string plain = PlanReportHtml("t.csv", "default", 1.0, fleets, nullptr, 0);
  EXPECT_NE(plain.find("Usage cost at the price book"), std::string::npos);
  EXPECT_EQ(plain.find("data-search"), std::string::npos);
  EXPECT_EQ(plain.find("times as fast"), std::string::npos);
}

TEST(SvgPlot, BarsScaleToTheLargestAndEscape) {
  const std::string svg =
      BarChart("a<b", {{"x\"1", "one", 10, "10"}, {"y", "two", 5, "5"}}, "#000", "data-bar");
  EXPECT_NE(svg.find("aria-label=\"a&lt;b\""), std::string::npos);
  EXPECT_NE(svg.find("<g data-bar=\"x&quot;1\">"), std::string::npos);
  EXPECT_NE(svg.find("width=\"460.0\""), std::string::npos);  // the largest: the full 460 px
  EXPECT_NE(svg.find("width=\"230.0\""), std::string::npos);  // half of it
  EXPECT_EQ(NiceMax(0), 1);
  EXPECT_EQ(NiceMax(1075 * 1.1), 2000);
  EXPECT_EQ(HumanDuration(1800), "30 min");
}

}  // namespace
}  // namespace gpuaas::sim
