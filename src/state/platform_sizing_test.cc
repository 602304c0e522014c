// Platform::Size: each option of sizing/ on the registered nodes, estimated as a job of that
// shape by the scheduler, so a busy class makes another the fastest; nothing is submitted.
#include <gtest/gtest.h>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

class PlatformSizingTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    CreateEntity("acme");
    alice_ = Member("alice", "acme");
    Beat(Report(8, "h1", "h200"));
    Beat(Report(4, "l1", "l40s"));
  }
  SizingRequest LoraRun() const {
    SizingRequest r;
    r.workload.method = sizing::Method::kLora;
    r.workload.params = 8e9;
    r.workload.tokens = 2e8;
    r.workload.epochs = 3;
    return r;
  }
  static std::string Label(const SizedOption& o) {
    return std::to_string(o.option.gpus) + "x" + o.gpu_class;
  }
  Principal alice_;
};

TEST_F(PlatformSizingTest, OnAnIdleClusterTheMostH200AreFastestAndOneL40sCheapest) {
  Result<SizingResult> s = platform_->Size(alice_, LoraRun());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::string> labels;
  for (const SizedOption& o : s->options) labels.push_back(Label(o));
  EXPECT_EQ(labels, (std::vector<std::string>{"1xh200", "2xh200", "4xh200", "8xh200", "1xl40s",
                                              "2xl40s", "4xl40s"}));
  for (const SizedOption& o : s->options) {
    EXPECT_EQ(o.error, "") << Label(o);
    EXPECT_EQ(o.estimate.start, clock_.Now()) << Label(o);
    EXPECT_EQ(o.estimate.end, clock_.Now() + o.option.walltime_s * 1000) << Label(o);
    // The bill: GPU-hours at the class's rate (3.50 and 1.10 EUR by default).
    const double rate = o.gpu_class == "h200" ? 3.5e6 : 1.1e6;
    EXPECT_NEAR(static_cast<double>(o.expected_cost), o.option.gpu_hours * rate, 2.0) << Label(o);
  }
  ASSERT_TRUE(s->fastest && s->cheapest);
  EXPECT_EQ(Label(s->options[*s->fastest]), "8xh200");
  EXPECT_EQ(Label(s->options[*s->cheapest]), "1xl40s");
  EXPECT_TRUE(s->not_possible.empty());
  bool more = false;
  EXPECT_TRUE(platform_->ListJobs(admin_, std::nullopt, 0, 0, 100, &more).empty());
}

TEST_F(PlatformSizingTest, ABusyH200PartitionMakesAnL40sOptionTheFastest) {
  JobRequest busy;
  busy.gpus = 8;
  busy.gpu_types = {"h200"};
  busy.walltime_s = 10 * 86400;
  busy.command = {"train"};
  Must<Job>([&](auto done) { platform_->SubmitJob(alice_, busy, done); });
  Result<SizingResult> s = platform_->Size(alice_, LoraRun());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (const SizedOption& o : s->options) {
    if (o.gpu_class == "h200") {
      EXPECT_GE(o.estimate.start, clock_.Now() + 10 * 86400 * 1000LL) << Label(o);
      EXPECT_GE(o.estimate.queue_position, 1) << Label(o);
    } else {
      EXPECT_EQ(o.estimate.start, clock_.Now()) << Label(o);
    }
  }
  ASSERT_TRUE(s->fastest);
  EXPECT_EQ(Label(s->options[*s->fastest]), "4xl40s");
}

TEST_F(PlatformSizingTest, AServiceIsEstimatedForItsHours) {
  SizingRequest r;
  r.service.emplace();
  r.service->params = 70e9;
  r.service->precision = sizing::Precision::kFp8;
  r.service->concurrency = 32;
  r.service->hours = 48;
  Result<SizingResult> s = platform_->Size(alice_, r);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::string> labels;
  for (const SizedOption& o : s->options) labels.push_back(Label(o));
  EXPECT_EQ(labels, (std::vector<std::string>{"1xh200", "2xh200", "4xl40s"}));
  EXPECT_EQ(s->flops, 0);
  for (const SizedOption& o : s->options) {
    EXPECT_EQ(o.estimate.start, clock_.Now()) << Label(o);
    EXPECT_EQ(o.estimate.end, clock_.Now() + 48 * 3600 * 1000LL) << Label(o);
    EXPECT_GE(o.option.max_concurrency, 32) << Label(o);
  }
  ASSERT_TRUE(s->cheapest);
  EXPECT_EQ(Label(s->options[*s->cheapest]), "1xh200");
  r.service->hours = 31 * 24;  // over the 30-day walltime limit
  s = platform_->Size(alice_, r);
  ASSERT_TRUE(s.ok());
  for (const SizedOption& o : s->options) {
    EXPECT_NE(o.error.find("ask for fewer hours"), std::string::npos) << o.error;
  }
  EXPECT_FALSE(s->fastest || s->cheapest);
}

TEST_F(PlatformSizingTest, SaysWhatCannotBe) {
  SizingRequest whole = LoraRun();
  whole.workload.method = sizing::Method::kFull;
  whole.workload.params = 70e9;  // 16 x 70e9 / 8 = 140 GB of states per H200
  Result<SizingResult> s = platform_->Size(alice_, whole);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->options.empty());
  EXPECT_FALSE(s->fastest || s->cheapest);
  ASSERT_EQ(s->not_possible.size(), 2u);
  EXPECT_NE(s->not_possible[0].not_possible.find("even on all 8 GPUs of class h200"),
            std::string::npos);

  SizingRequest longer = LoraRun();
  longer.workload.method = sizing::Method::kQlora;
  longer.workload.params = 70e9;
  longer.workload.tokens = 3e9;
  longer.gpu_types = {"h200"};
  s = platform_->Size(alice_, longer);
  ASSERT_TRUE(s.ok());
  ASSERT_FALSE(s->options.empty());
  EXPECT_EQ(s->options[0].option.gpus, 1);
  EXPECT_NE(s->options[0].error.find("over the platform's limit"), std::string::npos);
  EXPECT_NE(s->fastest, std::optional<size_t>(0));

  SizingRequest bad = LoraRun();
  bad.gpu_types = {"a100"};
  EXPECT_EQ(platform_->Size(alice_, bad).status().code(), Code::kFailedPrecondition);
  bad.gpu_types = {"h200", "h200"};
  EXPECT_EQ(platform_->Size(alice_, bad).status().code(), Code::kFailedPrecondition);
  bad = LoraRun();
  bad.workload.mfu = 0;
  EXPECT_EQ(platform_->Size(alice_, bad).status().code(), Code::kFailedPrecondition);
  bad = LoraRun();
  bad.entity = "nobody";
  EXPECT_EQ(platform_->Size(alice_, bad).status().code(), Code::kNotFound);
  Principal agent;
  agent.agent = true;
  EXPECT_EQ(platform_->Size(agent, LoraRun()).status().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace gpuaas
