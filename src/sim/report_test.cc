#include "sim/report.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/gpu_class.h"
#include "sim/cluster_spec.h"

namespace gpuaas::sim {
namespace {

TraceJob Job(const std::string& id, int64_t submit, int64_t duration, int gpus,
             const std::string& entity, std::vector<std::string> types) {
  TraceJob j;
  j.id = id;
  j.submit_s = submit;
  j.duration_s = duration;
  j.gpus = gpus;
  j.entity = entity;
  j.gpu_types = std::move(types);
  return j;
}

std::vector<TraceJob> Jobs() {
  std::vector<TraceJob> jobs;
  for (int i = 0; i < 40; ++i) {
    const bool big = i % 5 == 0;
    jobs.push_back(
        Job("j" + std::to_string(i), i * 600, 3600 + 300 * (i % 7), big ? 8 : 2,
            i % 3 == 0 ? "acme" : "beta",
            i % 2 ? std::vector<std::string>{"l40s"} : std::vector<std::string>{"h200"}));
  }
  return jobs;
}

PolicyReport ReplayReport(const std::string& policy, int max_bins) {
  auto cluster = ParseClusterSpec("h200:8x1,l40s:4x1", DefaultGpuClasses());
  EXPECT_TRUE(cluster.ok());
  ReportCollector collector({"h200", "l40s"}, {8, 4}, max_bins);
  VectorJobSource source(Jobs());
  SimOptions o;
  o.policy = policy;
  o.on_sample = [&](const SimSample& s) { collector.Sample(s); };
  o.on_finish = [&](const JobOutcome& x) { collector.Finished(x); };
  auto r = Simulate(source, *cluster, DefaultGpuClasses(), o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return collector.Finish(r->metrics, r->entity_names);
}

TEST(Report, SeriesAreBoundedAndConsistent) {
  PolicyReport r = ReplayReport("default", 16);
  ASSERT_EQ(r.queued.size(), 2u);
  ASSERT_EQ(r.busy.size(), 2u);
  EXPECT_LE(r.busy[0].size(), 16u);
  EXPECT_GT(r.busy[0].size(), 4u);
  // Busy GPUs never exceed the class, and the time-weighted busy GPU-seconds match the
  // finished jobs' GPU-seconds (every job ran to its end inside the series).
  double busy_gpu_s = 0;
  for (size_t c = 0; c < 2; ++c) {
    for (size_t i = 0; i < r.busy[c].size(); ++i) {
      EXPECT_LE(r.busy[c][i], r.class_gpus[c] + 1e-9);
      EXPECT_GE(r.queued[c][i], 0);
      const double len = std::min<double>(r.bin_s, r.metrics.makespan_s - i * r.bin_s);
      busy_gpu_s += r.busy[c][i] * len;
    }
  }
  double gpu_s = 0;
  for (const EntityMetrics& e : r.metrics.entities) gpu_s += e.gpu_seconds;
  EXPECT_NEAR(busy_gpu_s, gpu_s, gpu_s * 1e-9);
  ASSERT_EQ(r.waits.size(), 2u);
  EXPECT_EQ(r.waits[0].entity, "acme");
  EXPECT_EQ(r.waits[0].jobs + r.waits[1].jobs, r.metrics.finished);
  EXPECT_EQ(r.metrics.finished, 36);  // the 4 eight-GPU L40S jobs never fit on 4-GPU nodes
  EXPECT_LE(r.waits[0].p25, r.waits[0].p50);
  EXPECT_LE(r.waits[0].p50, r.waits[0].p95);
  EXPECT_LE(r.waits[0].p95, r.waits[0].max);
  EXPECT_NEAR(r.waits[0].avg, r.metrics.entities[0].avg_wait_s, 1e-6);
}

TEST(Report, PageHasEverySeriesAndNoExternalAsset) {
  std::vector<PolicyReport> reports = {ReplayReport("fifo", 240), ReplayReport("default", 240)};
  const std::string html = ReportHtml("t.csv", "h200:8x1,l40s:4x1", reports);
  for (const char* needle :
       {"data-policy=\"fifo\"", "data-policy=\"default\"", "data-series=\"queue-h200\"",
        "data-series=\"queue-l40s\"", "data-series=\"util-h200\"", "data-series=\"util-l40s\"",
        "data-entity=\"acme\"", "data-entity=\"beta\"", "data-cost=\"beta\"", "<svg", "</html>"}) {
    EXPECT_NE(html.find(needle), std::string::npos) << needle;
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("nan"), std::string::npos);
  // Byte-identical for the same replay.
  std::vector<PolicyReport> again = {ReplayReport("fifo", 240), ReplayReport("default", 240)};
  EXPECT_EQ(html, ReportHtml("t.csv", "h200:8x1,l40s:4x1", again));

  const std::string dir = ::testing::TempDir() + "/gpuaas_report_test";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteReport(dir + "/sub", html).ok());
  std::ifstream in(dir + "/sub/index.html");
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), html);
  std::filesystem::remove_all(dir);
}

TEST(Report, UnwritableDirectoryIsAnError) {
  Status s = WriteReport("/proc/gpuaas-no-such-dir", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/proc/gpuaas-no-such-dir"), std::string::npos);
}

}  // namespace
}  // namespace gpuaas::sim
