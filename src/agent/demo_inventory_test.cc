#include "agent/demo_inventory.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace gpuaas {
namespace {

TEST(DemoInventory, ParsesOneNodePerItem) {
  auto nodes = ParseDemoGpus("h200:8,l40s:4");
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].name, "demo-h200-0");
  EXPECT_EQ((*nodes)[0].gpu_class, "h200");
  ASSERT_EQ((*nodes)[0].gpus.size(), 8u);
  EXPECT_EQ((*nodes)[1].name, "demo-l40s-1");
  ASSERT_EQ((*nodes)[1].gpus.size(), 4u);
  const GpuDevice& g = (*nodes)[0].gpus[7];
  EXPECT_EQ(g.index, 7);
  EXPECT_EQ(g.model, "NVIDIA H200");
  EXPECT_EQ(g.gpu_class, "h200");
  EXPECT_EQ(g.memory_mb, 143771);
  EXPECT_EQ(g.state, DeviceState::kHealthy);
  EXPECT_EQ((*nodes)[1].gpus[3].model, "NVIDIA L40S");
  EXPECT_EQ((*nodes)[1].gpus[3].memory_mb, 46068);
}

TEST(DemoInventory, SameClassTwiceMakesTwoNodes) {
  auto nodes = ParseDemoGpus(" h200:2 , h200:1 ");
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[1].name, "demo-h200-1");
  EXPECT_NE((*nodes)[0].gpus[0].uuid, (*nodes)[1].gpus[0].uuid);
}

TEST(DemoInventory, UuidsAreDeterministicUniqueAndUuidShaped) {
  EXPECT_EQ(DemoGpuUuid("demo-h200-0", 3), DemoGpuUuid("demo-h200-0", 3));
  const std::regex shape("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (const char* node : {"demo-h200-0", "demo-h200-1", "demo-l40s-0", "n1"}) {
    for (int i = 0; i < 64; ++i) {
      const std::string u = DemoGpuUuid(node, i);
      EXPECT_TRUE(std::regex_match(u, shape)) << u;
      EXPECT_TRUE(seen.insert(u).second) << u;
    }
  }
}

TEST(DemoInventory, RejectsBadSpecsWithReadableErrors) {
  struct Case {
    const char* spec;
    const char* needle;
  };
  for (const Case& c :
       {Case{"", "empty"}, Case{"a100:4", "unknown GPU class \"a100\""}, Case{"h200:0", "1..64"},
        Case{"h200:65", "1..64"}, Case{"h200", "CLASS:COUNT"}, Case{"h200:x", "bad GPU count"},
        Case{"h200:8,", "CLASS:COUNT"}, Case{"h200:-1", "1..64"},
        Case{"h200:8x", "bad GPU count"}}) {
    auto r = ParseDemoGpus(c.spec);
    ASSERT_FALSE(r.ok()) << c.spec;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos)
        << c.spec << ": " << r.status().message();
  }
  std::string many;
  for (int i = 0; i < 65; ++i) many += (i ? "," : "") + std::string("l40s:1");
  auto r = ParseDemoGpus(many);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too many"), std::string::npos);
  std::string max;
  for (int i = 0; i < 64; ++i) max += (i ? "," : "") + std::string("l40s:1");
  EXPECT_TRUE(ParseDemoGpus(max).ok());
}

TEST(DemoInventory, MakeDemoGpusUsesTheGivenNodeName) {
  auto gpus = MakeDemoGpus("gpu-node-7", "l40s", 2);
  ASSERT_TRUE(gpus.ok());
  EXPECT_EQ((*gpus)[1].uuid, DemoGpuUuid("gpu-node-7", 1));
}

}  // namespace
}  // namespace gpuaas
