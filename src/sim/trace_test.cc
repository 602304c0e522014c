#include "sim/trace.h"

#include <gtest/gtest.h>

#include <sstream>

#include "model/gpu_class.h"
#include "sim/cluster_spec.h"

namespace gpuaas::sim {
namespace {

Result<std::vector<TraceJob>> ReadAll(const std::string& text) {
  std::istringstream in(text);
  TraceReader reader(in, "t.csv");
  std::vector<TraceJob> jobs;
  TraceJob job;
  while (true) {
    auto more = reader.Next(&job);
    if (!more.ok()) return more.status();
    if (!*more) return jobs;
    jobs.push_back(job);
  }
}

std::string ErrorOf(const std::string& text) {
  auto r = ReadAll(text);
  return r.ok() ? "(no error)" : r.status().message();
}

TEST(TraceReader, ReadsRequiredAndOptionalColumnsInAnyOrder) {
  auto jobs = ReadAll(
      "entity,id,submit_s,duration_s,gpus,gpu_types,speeds,walltime_s,kind,priority\n"
      "# a comment\n"
      "acme,j1,0,100,2,h200|l40s,h200=1;l40s=0.4,3600,notebook,3\n"
      "\n"
      "beta,j2,5,10,1,,,,,\r\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  ASSERT_EQ(jobs->size(), 2u);
  const TraceJob& a = (*jobs)[0];
  EXPECT_EQ(a.id, "j1");
  EXPECT_EQ(a.entity, "acme");
  EXPECT_EQ(a.gpus, 2);
  EXPECT_EQ(a.duration_s, 100);
  EXPECT_EQ(a.gpu_types, (std::vector<std::string>{"h200", "l40s"}));
  ASSERT_EQ(a.speeds.size(), 2u);
  EXPECT_EQ(a.speeds[1].first, "l40s");
  EXPECT_DOUBLE_EQ(a.speeds[1].second, 0.4);
  EXPECT_EQ(a.walltime_s, 3600);
  EXPECT_EQ(a.kind, "notebook");
  EXPECT_EQ(a.priority, 3);
  EXPECT_EQ(a.line, 3);
  const TraceJob& b = (*jobs)[1];
  EXPECT_TRUE(b.gpu_types.empty());
  EXPECT_TRUE(b.speeds.empty());
  EXPECT_EQ(b.walltime_s, 0);
  EXPECT_EQ(b.kind, "batch");
  EXPECT_EQ(b.line, 5);
}

TEST(TraceReader, ErrorsNameFileAndLine) {
  const std::string h = "id,submit_s,duration_s,gpus,entity,gpu_types\n";
  EXPECT_EQ(ErrorOf(""), "t.csv: empty trace (no header line)");
  EXPECT_NE(ErrorOf("id,submit_s,gpus\n")
                .find("t.csv:1: the header lacks required column(s) "
                      "duration_s, entity, gpu_types"),
            std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,10,1,e,\nb,x,10,1,e,\n").find("t.csv:3: submit_s must be"),
            std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,10,0,e,\n").find("t.csv:2: gpus must be a whole number >= 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,-5,1,e,\n").find("t.csv:2: duration_s"), std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,10,1,e\n").find("t.csv:2: expected 6 fields"), std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,10,1,,\n").find("t.csv:2: empty entity"), std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,10,1,e,H200\n").find("t.csv:2: gpu_types: bad class name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,10,1,e,h200|h200\n").find("listed twice"), std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,9,10,1,e,\nb,3,10,1,e,\n").find("t.csv:3: submit_s 3 is before"),
            std::string::npos);
  EXPECT_NE(ErrorOf(h + "a,0,10,1,\"e\",\n").find("quoted fields"), std::string::npos);
  const std::string hs = "id,submit_s,duration_s,gpus,entity,gpu_types,speeds\n";
  EXPECT_NE(ErrorOf(hs + "a,0,10,1,e,h200,h200=0\n").find("t.csv:2: speeds: speed of h200"),
            std::string::npos);
  EXPECT_NE(ErrorOf(hs + "a,0,10,1,e,h200,h200\n").find("t.csv:2: speeds: expected"),
            std::string::npos);
  const std::string hk = "id,submit_s,duration_s,gpus,entity,gpu_types,kind\n";
  EXPECT_NE(ErrorOf(hk + "a,0,10,1,e,,job\n").find("t.csv:2: kind must be"), std::string::npos);
  EXPECT_NE(ErrorOf("id,id,submit_s\n").find("appears twice"), std::string::npos);
}

TEST(TraceWriter, RoundTrips) {
  TraceJob j;
  j.id = "x1";
  j.submit_s = 7;
  j.duration_s = 60;
  j.gpus = 4;
  j.entity = "acme";
  j.gpu_types = {"l40s", "h200"};
  j.walltime_s = 900;
  j.kind = "service";
  j.priority = -2;
  j.speeds = {{"l40s", 1.0}, {"h200", 2.5}};
  std::ostringstream out;
  WriteTraceHeader(out);
  WriteTraceJob(out, j);
  EXPECT_EQ(out.str(),
            "id,submit_s,duration_s,gpus,entity,gpu_types,walltime_s,kind,priority,speeds\n"
            "x1,7,60,4,acme,l40s|h200,900,service,-2,l40s=1;h200=2.5\n");
  auto back = ReadAll(out.str());
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].gpu_types, j.gpu_types);
  EXPECT_EQ((*back)[0].speeds, j.speeds);
  EXPECT_EQ((*back)[0].priority, -2);
}

TEST(ClusterSpec, ParsesAndBuildsNodes) {
  auto spec = ParseClusterSpec("h200:8x2,l40s:4x3", DefaultGpuClasses());
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->ToString(), "h200:8x2,l40s:4x3");
  EXPECT_EQ(spec->TotalGpus(), 28);
  EXPECT_EQ(spec->TotalNodes(), 5);
  auto nodes = BuildNodes(*spec);
  ASSERT_EQ(nodes.size(), 5u);
  EXPECT_EQ(nodes[0].id, 1);
  EXPECT_EQ(nodes[0].name, "h200-001");
  EXPECT_EQ(nodes[2].name, "l40s-001");
  EXPECT_EQ(nodes[4].name, "l40s-003");
  EXPECT_EQ(nodes[4].devices.size(), 4u);
  EXPECT_EQ(nodes[4].devices[3].index, 3);
  EXPECT_EQ(nodes[4].devices[3].gpu_class, "l40s");
  auto classes = ClusterClasses(*spec, DefaultGpuClasses());
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0].name, "h200");
  EXPECT_DOUBLE_EQ(classes[1].speed, 0.4);
  EXPECT_GT(classes[0].hourly_rate, 0);
}

TEST(ClusterSpec, Errors) {
  auto err = [](const char* s) {
    auto r = ParseClusterSpec(s, DefaultGpuClasses());
    return r.ok() ? std::string("(no error)") : r.status().message();
  };
  EXPECT_NE(err("").find("empty cluster spec"), std::string::npos);
  EXPECT_NE(err("h200").find("has no CLASS:"), std::string::npos);
  EXPECT_NE(err("h200:8").find("two positive whole numbers"), std::string::npos);
  EXPECT_NE(err("h200:0x4").find("two positive whole numbers"), std::string::npos);
  EXPECT_NE(err("h200:8x4,").find("has no CLASS:"), std::string::npos);
  EXPECT_NE(err("a100:8x4").find("unknown GPU class \"a100\" (known: h200, l40s)"),
            std::string::npos);
  EXPECT_NE(err("h200:128x1").find("at most 64 GPUs per node"), std::string::npos);
  EXPECT_NE(err("h200:64x50000").find("more than 1,000,000 GPUs"), std::string::npos);
}

}  // namespace
}  // namespace gpuaas::sim
