#include "sizing/service_size.h"

#include <gtest/gtest.h>

namespace gpuaas::sizing {
namespace {

const ClassFacts kH200{"h200", 143771, 1.0, 700, 8, 16};
const ClassFacts kL40s{"l40s", 46068, 0.4, 350, 4, 16};

Service Eight() {
  Service s;
  s.params = 8e9;  // hidden 4403, 34 layers
  return s;
}

TEST(ServiceSize, ParsesPrecisionsAndValidates) {
  EXPECT_EQ(ParsePrecision("fp8"), Precision::kFp8);
  EXPECT_EQ(ParsePrecision("FP8"), std::nullopt);
  EXPECT_STREQ(PrecisionName(Precision::kInt4), "int4");
  EXPECT_TRUE(Validate(Eight()).ok());
  auto with = [](auto change) {
    Service s = Eight();
    change(s);
    return Validate(s).message();
  };
  EXPECT_NE(with([](Service& s) { s.params = 10; }).find("params"), std::string::npos);
  EXPECT_NE(with([](Service& s) { s.context = 0; }).find("seq_len"), std::string::npos);
  EXPECT_NE(with([](Service& s) { s.concurrency = 0; }).find("concurrency"), std::string::npos);
  EXPECT_NE(with([](Service& s) { s.hours = 0.1; }).find("hours"), std::string::npos);
}

TEST(ServiceSize, MemoryByHand) {
  // Weights 2 x 8e9; KV per request 2 x 34 x 1024 x 2 bytes x 4096 tokens = 570,425,344;
  // one prefill 4096 x 4403 x 34 = 613,179,392; 16 requests.
  const double kv = 2.0 * 34 * 1024 * 2 * 4096, prefill = 4096.0 * 4403 * 34;
  const Memory one = MemoryPerGpu(Eight(), 1);
  EXPECT_DOUBLE_EQ(one.states, 16e9);
  EXPECT_DOUBLE_EQ(one.activations, 16 * kv + prefill);
  EXPECT_DOUBLE_EQ(one.overhead, 1.5e9 + 0.1 * (16e9 + 16 * kv + prefill));
  EXPECT_NEAR(one.total(), 29.81e9, 0.01e9);
  const Memory two = MemoryPerGpu(Eight(), 2);
  EXPECT_DOUBLE_EQ(two.states, 8e9);
  EXPECT_DOUBLE_EQ(two.activations, (16 * kv + prefill) / 2);
  Service fp8 = Eight();
  fp8.precision = Precision::kFp8;
  EXPECT_DOUBLE_EQ(MemoryPerGpu(fp8, 1).states, 8e9);
  fp8.precision = Precision::kInt4;
  EXPECT_DOUBLE_EQ(MemoryPerGpu(fp8, 1).states, 0.53 * 8e9);
  // On one H200 (150.76 GB): ((150.76e9 - 1.5e9) / 1.1 - 16e9 - prefill) / kv = 208.7.
  EXPECT_EQ(MaxConcurrency(Eight(), 1, 143771.0 * 1024 * 1024), 208);
  EXPECT_EQ(MaxConcurrency(Eight(), 1, 10e9), 0);
}

TEST(ServiceSize, TheFewestGpusOfANodeAndTwice) {
  Service big = Eight();
  big.params = 70e9;  // 140 GB of bf16 weights: 2 H200, 4 L40S
  const ClassSizing h = SizeOnClass(big, kH200);
  ASSERT_EQ(h.options.size(), 2u);
  EXPECT_EQ(h.options[0].gpus, 2);
  EXPECT_EQ(h.options[1].gpus, 4);
  EXPECT_EQ(h.options[0].nodes, 1);
  EXPECT_DOUBLE_EQ(h.options[0].hours, 720);
  EXPECT_EQ(h.options[0].walltime_s, 720 * 3600);
  EXPECT_DOUBLE_EQ(h.options[0].gpu_hours, 1440);
  EXPECT_DOUBLE_EQ(h.options[0].energy_kwh_max, 1440 * 0.7);
  EXPECT_GT(h.options[1].max_concurrency, 2 * h.options[0].max_concurrency);
  EXPECT_GE(h.options[0].max_concurrency, big.concurrency);
  const ClassSizing l = SizeOnClass(big, kL40s);
  ASSERT_EQ(l.options.size(), 1u);  // a whole node of 4; no node has 8
  EXPECT_EQ(l.options[0].gpus, 4);
  Service huge = Eight();
  huge.params = 405e9;
  const ClassSizing none = SizeOnClass(huge, kL40s);
  EXPECT_TRUE(none.options.empty());
  EXPECT_NE(none.not_possible.find("even on a whole node of 4 l40s"), std::string::npos)
      << none.not_possible;
  ClassFacts gone = kH200;
  gone.gpus_total = 0;
  EXPECT_EQ(SizeOnClass(Eight(), gone).not_possible, "no GPU of class h200 is registered");
  huge.hours = 1.1;  // a quarter-hour up
  huge.precision = Precision::kInt4;
  EXPECT_EQ(SizeOnClass(huge, kH200).options.at(0).walltime_s, 4500);
}

}  // namespace
}  // namespace gpuaas::sizing
