// Runs every tests/scenarios/*.scn file through the scheduler (see sched/scenario.h for the
// format), one GoogleTest case per file, plus tests of the parser and runner themselves.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sched/scenario.h"
#include "sched/scenario_runner.h"

#ifndef GPUAAS_SOURCE_DIR
#error "GPUAAS_SOURCE_DIR must name the source tree (set by CMakeLists.txt)"
#endif

namespace gpuaas::sched {
namespace {

std::filesystem::path ScenarioDir() {
  return std::filesystem::path(GPUAAS_SOURCE_DIR) / "tests" / "scenarios";
}

std::vector<std::filesystem::path> ScenarioFiles() {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(ScenarioDir(), ec)) {
    if (entry.path().extension() == ".scn") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ScenarioFileTest : public testing::TestWithParam<std::filesystem::path> {};

TEST_P(ScenarioFileTest, Passes) {
  std::ifstream in(GetParam());
  ASSERT_TRUE(in) << "cannot read " << GetParam();
  std::stringstream text;
  text << in.rdbuf();
  auto scenario = ParseScenario(text.str(), GetParam().filename().string());
  ASSERT_TRUE(scenario.ok()) << scenario.status().message();
  ScenarioOutcome out = RunScenario(*scenario);
  for (const std::string& f : out.failures) ADD_FAILURE() << f;
  EXPECT_GT(out.checked, 0) << "a scenario must expect something";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioFileTest, testing::ValuesIn(ScenarioFiles()),
                         [](const testing::TestParamInfo<std::filesystem::path>& info) {
                           std::string name = info.param.stem().string();
                           std::replace_if(
                               name.begin(), name.end(), [](char c) { return !std::isalnum(c); },
                               '_');
                           return name;
                         });

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ScenarioFileTest);

TEST(ScenarioSuite, HasScenarios) { EXPECT_GE(ScenarioFiles().size(), 8u) << ScenarioDir(); }

TEST(ScenarioParser, ReportsFileAndLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"node n1 h200x8\nbogus line\n", "t.scn:2: unknown directive \"bogus\""},
      {"node n1 h200\n", "t.scn:1: bad device group \"h200\""},
      {"job 1 at=0 entity=a\n", "t.scn:1: job needs runs"},
      {"job 1 at=0 entity=a runs=5 color=red\n", "t.scn:1: unknown argument \"color\""},
      {"job 1 at=soon entity=a runs=5\n", "t.scn:1: not a time: \"soon\""},
      {"expect at=0 job=1\n", "t.scn:1: expect checks nothing"},
      {"expect at=0 job=1 waiting node=n1\n", "t.scn:1: a waiting job has no node"},
      {"expect at=0 job=1 reason~\"x\n", "t.scn:1: unterminated quote"},
      {"# ok\n\npolicy nonsense\n", "t.scn:3: unknown scheduling policy \"nonsense\""},
      {"at 5 explode n1\n", "t.scn:1: unknown event \"explode\""},
  };
  for (const Case& c : cases) {
    auto r = ParseScenario(c.text, "t.scn");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos)
        << r.status().message() << " vs " << c.error;
  }
}

TEST(ScenarioParser, ParsesAFullScenario) {
  auto r = ParseScenario(
      "policy ordered-fallback default_walltime=2h\n"
      "node n1 h200x2 l40sx4 unhealthy=1   # a comment\n"
      "node n2 l40sx4 cordoned\n"
      "quota acme h200=8\n"
      "job 7 at=1m entity=acme gpus=2 types=h200,l40s walltime=1h runs=10m priority=3\n"
      "at 90 fail n1 3\n"
      "expect at=0 job=7 waiting reason~\"over quota\" position=1 estimate=unknown\n",
      "t.scn");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->policy.default_walltime_s, 7200);
  ASSERT_EQ(r->nodes.size(), 2u);
  EXPECT_EQ(r->nodes[0].groups.size(), 2u);
  EXPECT_EQ(r->nodes[0].unhealthy, std::vector<int>{1});
  EXPECT_FALSE(r->nodes[1].schedulable);
  ASSERT_EQ(r->classes.size(), 2u);
  EXPECT_EQ(r->classes[0].name, "h200");
  EXPECT_EQ(r->classes[1].name, "l40s");
  ASSERT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->jobs[0].at_s, 60);
  EXPECT_EQ(r->jobs[0].types, (std::vector<std::string>{"h200", "l40s"}));
  EXPECT_EQ(r->jobs[0].priority, 3);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].device, 3);
  ASSERT_EQ(r->expectations.size(), 1u);
  EXPECT_EQ(*r->expectations[0].reason_contains, "over quota");
  EXPECT_EQ(*r->expectations[0].estimate_s, -1);
  EXPECT_EQ(r->expectations[0].line, 7);
}

// The runner must be able to fail: a wrong expectation is reported with its line.
TEST(ScenarioRunner, ReportsAWrongExpectation) {
  auto r = ParseScenario(
      "node n1 h200x4\n"
      "job 1 at=0 entity=a gpus=2 runs=10\n"
      "expect at=0 job=1 node=n1 devices=2,3\n"
      "expect at=10 job=1 state=running\n",
      "t.scn");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ScenarioOutcome out = RunScenario(*r);
  ASSERT_EQ(out.failures.size(), 2u);
  EXPECT_EQ(out.failures[0], "t.scn:3: at 0 s job 1 has devices 0,1, expected 2,3");
  EXPECT_EQ(out.failures[1], "t.scn:4: at 10 s job 1 is finished, expected running");
}

}  // namespace
}  // namespace gpuaas::sched
