#include "agent/protocol.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "base/base64.h"

namespace gpuaas {
namespace {

namespace json = boost::json;

TEST(Protocol, ReportCarriesInventoryWorkloadsAndBase64Logs) {
  HeartbeatReport r;
  r.node = "demo-h200-0";
  r.simulated = true;
  r.labels = {{"rack", "a1"}};
  r.gpus.push_back({0, "GPU-1", "NVIDIA H200", "h200", 143771, DeviceState::kHealthy});
  WorkloadStatus w;
  w.job = 12;
  w.allocation = 5;
  w.state = WorkloadState::kExited;
  w.exit_code = 3;
  w.timed_out = true;
  w.started_at = 1000;
  w.finished_at = 2000;
  w.message = "m";
  r.workloads.push_back(w);
  r.logs.push_back({12, 5, 7, std::string("a\0b\n", 4)});

  const json::value v = json::parse(HeartbeatReportToJson(r));
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("node").as_string(), "demo-h200-0");
  EXPECT_TRUE(o.at("simulated").as_bool());
  EXPECT_EQ(o.at("labels").at("rack").as_string(), "a1");
  const json::object& g = o.at("gpus").at(0).as_object();
  EXPECT_EQ(g.at("index").as_int64(), 0);
  EXPECT_EQ(g.at("uuid").as_string(), "GPU-1");
  EXPECT_EQ(g.at("gpu_class").as_string(), "h200");
  EXPECT_EQ(g.at("memory_mb").as_int64(), 143771);
  EXPECT_EQ(g.at("state").as_string(), "healthy");
  const json::object& wo = o.at("workloads").at(0).as_object();
  EXPECT_EQ(wo.at("job").as_int64(), 12);
  EXPECT_EQ(wo.at("allocation").as_int64(), 5);
  EXPECT_EQ(wo.at("state").as_string(), "exited");
  EXPECT_EQ(wo.at("exit_code").as_int64(), 3);
  EXPECT_EQ(wo.at("signal").as_int64(), 0);
  EXPECT_TRUE(wo.at("timed_out").as_bool());
  EXPECT_FALSE(wo.at("stopped").as_bool());
  EXPECT_EQ(wo.at("started_at").as_int64(), 1000);
  EXPECT_EQ(wo.at("finished_at").as_int64(), 2000);
  EXPECT_EQ(wo.at("message").as_string(), "m");
  const json::object& l = o.at("logs").at(0).as_object();
  EXPECT_EQ(l.at("job").as_int64(), 12);
  EXPECT_EQ(l.at("offset").as_int64(), 7);
  EXPECT_EQ(*Base64Decode(std::string(l.at("data_b64").as_string())), std::string("a\0b\n", 4));
  EXPECT_EQ(o.if_contains("net"), nullptr);  // no counters (a simulated node): no "net"
  r.net = NetReading{1'700'000'000'000, 12'345'678'901, 42};
  const json::value with = json::parse(HeartbeatReportToJson(r));
  const json::object& net = with.at("net").as_object();
  EXPECT_EQ(net.at("t").as_int64(), 1'700'000'000'000);
  EXPECT_EQ(net.at("rx_bytes").as_int64(), 12'345'678'901);
  EXPECT_EQ(net.at("tx_bytes").as_int64(), 42);
  // A container workload's own counters ride on its status; none on a process workload.
  EXPECT_EQ(wo.if_contains("net"), nullptr);
  r.workloads[0].net = NetReading{1'700'000'000'500, 7, 8'000'000'000};
  const json::value wnet = json::parse(HeartbeatReportToJson(r));
  const json::object& wn = wnet.at("workloads").at(0).at("net").as_object();
  EXPECT_EQ(wn.at("t").as_int64(), 1'700'000'000'500);
  EXPECT_EQ(wn.at("rx_bytes").as_int64(), 7);
  EXPECT_EQ(wn.at("tx_bytes").as_int64(), 8'000'000'000);
}

TEST(Protocol, ParsesTheDesiredWorkloads) {
  auto a = ParseHeartbeatAnswer(R"({"node_id": 1, "heartbeat_interval_ms": 500, "workloads": [
      {"job": 12, "allocation": 5, "command": ["sh", "-c", "x"],
       "env": {"CUDA_VISIBLE_DEVICES": "0,1", "GPUAAS_ENTITY": "acme"}, "gpu_ids": [0, 1],
       "walltime_s": 7200, "grace_ms": 10000, "adopt_only": true},
      {"job": 13, "allocation": 6}]})");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->node_id, 1);
  EXPECT_EQ(a->heartbeat_interval_ms, 500);
  ASSERT_EQ(a->workloads.size(), 2u);
  const WorkloadSpec& s = a->workloads[0].spec;
  EXPECT_EQ(s.job, 12);
  EXPECT_EQ(s.allocation, 5);
  EXPECT_EQ(s.command, (std::vector<std::string>{"sh", "-c", "x"}));
  EXPECT_EQ(s.env.at("GPUAAS_ENTITY"), "acme");
  EXPECT_EQ(s.gpu_ids, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.walltime_s, 7200);
  EXPECT_EQ(s.grace_ms, 10000);
  EXPECT_TRUE(a->workloads[0].adopt_only);
  const WorkloadSpec& bare = a->workloads[1].spec;
  EXPECT_EQ(bare.command, (std::vector<std::string>{"sleep", "infinity"}));
  EXPECT_EQ(bare.grace_ms, 10000);
  EXPECT_EQ(bare.walltime_s, 0);
  EXPECT_FALSE(a->workloads[1].adopt_only);
  EXPECT_TRUE(a->stopping.empty());  // an older server sends no stopping list
}

TEST(Protocol, ParsesTheStopGraces) {
  auto a = ParseHeartbeatAnswer(R"({"workloads": [], "stopping": [
      {"allocation": 7, "grace_ms": 300000}, {"allocation": 8}]})");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->stopping, (std::map<int64_t, int64_t>{{7, 300'000}, {8, -1}}));
  EXPECT_FALSE(ParseHeartbeatAnswer(R"({"stopping": [{"grace_ms": 5}]})").ok());
  EXPECT_FALSE(ParseHeartbeatAnswer(R"({"stopping": 3})").ok());
}

TEST(Protocol, RejectsMalformedAnswers) {
  for (const char* bad : {"", "[]", "{\"workloads\": 3}", "{\"workloads\": [{\"job\": 1}]}",
                          "{\"workloads\": [{\"allocation\": 1, \"command\": \"sh\"}]}",
                          "{\"workloads\": [{\"allocation\": \"x\"}]}"}) {
    EXPECT_FALSE(ParseHeartbeatAnswer(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseHeartbeatAnswer("{}").ok());
}

}  // namespace
}  // namespace gpuaas
