#include "sim/forecast.h"

#include <gtest/gtest.h>

#include "model/gpu_class.h"

namespace gpuaas::sim {
namespace {

constexpr int64_t kWeek = 7 * 86400;

// 12 weeks of H200 demand growing 100 GPU-h a week from 1,000, plus a 4-week cycle (+40, 0,
// -40, 0): the fit recovers the trend and the cycle, and the projection crosses an 8-GPU
// fleet's 0.8 x 8 x 168 = 1,075.2 GPU-h... already; a 16-GPU fleet (2,150.4) later.
std::vector<TraceJob> History() {
  std::vector<TraceJob> jobs;
  const double cycle[4] = {40, 0, -40, 0};
  for (int w = 0; w < 12; ++w) {
    TraceJob j;
    j.id = "w" + std::to_string(w);
    j.submit_s = w * kWeek + 3600;
    j.gpus = 1;
    j.entity = "acme";
    j.gpu_types = {"h200"};
    j.duration_s = static_cast<int64_t>((1000 + 100 * w + cycle[w % 4]) * 3600);
    jobs.push_back(j);
  }
  return jobs;
}

TEST(Forecast, TrendSeasonExceedWeekAndOrderDate) {
  VectorJobSource src(History());
  auto cluster = ParseClusterSpec("h200:8x2", DefaultGpuClasses());
  ASSERT_TRUE(cluster.ok());
  ForecastOptions o;
  o.horizon_weeks = 20;
  o.lead_time_s = 4 * kWeek;
  auto f = Forecast(src, *cluster, o);
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ(f->size(), 1u);
  const ClassForecast& h = (*f)[0];
  EXPECT_EQ(h.gpu_class, "h200");
  EXPECT_EQ(h.history.size(), 12u);
  EXPECT_NEAR(h.trend_per_week, 100, 2);
  EXPECT_EQ(h.season_weeks, 4);
  EXPECT_NEAR(h.capacity, 16 * 168 * 0.8, 1e-9);
  // Week 12 projects about 1000 + 1200 + 40 = 2240 > 2150.4: exceeded at once.
  EXPECT_NEAR(h.projection[0], 2240, 15);
  EXPECT_NEAR(h.projection[2], 2360, 15);  // week 14: 1000 + 1400 - 40, the trough
  EXPECT_EQ(h.exceed_week, 12);
  EXPECT_EQ(h.order_by_s, 8 * kWeek);
  const std::string json = ForecastJson(*f, 1767225600000);
  EXPECT_NE(json.find("\"exceed_date\":\"2026-03-26T00:00:00Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"order_by\":\"2026-02-26T00:00:00Z\""), std::string::npos);

  // A bigger fleet: crossed later, within the horizon.
  VectorJobSource again(History());
  auto big = ParseClusterSpec("h200:8x4", DefaultGpuClasses());
  auto g = Forecast(again, *big, o);
  ASSERT_TRUE(g.ok());
  // 4300.8 GPU-h: 1000 + 100 w + s > 4300.8 first near w = 33 (beyond 12 + 20 = 32): none.
  EXPECT_EQ((*g)[0].exceed_week, -1);
}

TEST(Forecast, Errors) {
  VectorJobSource empty({});
  auto cluster = ParseClusterSpec("h200:8x1", DefaultGpuClasses());
  EXPECT_FALSE(Forecast(empty, *cluster, {}).ok());
  VectorJobSource src(History());
  ForecastOptions o;
  o.max_utilization = 1.5;
  EXPECT_FALSE(Forecast(src, *cluster, o).ok());
}

}  // namespace
}  // namespace gpuaas::sim
