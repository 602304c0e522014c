#include "sizing/training_size.h"

#include <gtest/gtest.h>

namespace gpuaas::sizing {
namespace {

// The catalogue's classes (model/gpu_class.cc) on a cluster of 2 H200 nodes of 8 and 4 L40S
// nodes of 4.
const ClassFacts kH200{"h200", 143771, 1.0, 700, 8, 16};
const ClassFacts kL40s{"l40s", 46068, 0.4, 350, 4, 16};

Workload Seven(Method m) {
  Workload w;
  w.method = m;
  w.params = 7e9;
  w.tokens = 1e9;
  return w;
}

TEST(TrainingSize, ParsesCountsWithSuffixes) {
  EXPECT_DOUBLE_EQ(*ParseCount("7B", "params"), 7e9);
  EXPECT_DOUBLE_EQ(*ParseCount("1.5t", "tokens"), 1.5e12);
  EXPECT_DOUBLE_EQ(*ParseCount("500M", "tokens"), 5e8);
  EXPECT_DOUBLE_EQ(*ParseCount("12k", "tokens"), 12e3);
  EXPECT_DOUBLE_EQ(*ParseCount("3e9", "tokens"), 3e9);
  for (const char* bad : {"", "B", "-1", "0", "7X", "nan", "inf", "1e400", "7 B", "0x10"}) {
    Result<double> r = ParseCount(bad, "--params");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--params: expected a positive number"), std::string::npos);
  }
  EXPECT_EQ(ParseMethod("qlora"), Method::kQlora);
  EXPECT_EQ(ParseMethod("LoRA"), std::nullopt);
  EXPECT_STREQ(MethodName(Method::kLora), "lora");
}

TEST(TrainingSize, ValidatesEveryField) {
  EXPECT_TRUE(Validate(Seven(Method::kFull)).ok());
  auto with = [](auto change) {
    Workload w = Seven(Method::kFull);
    change(w);
    return Validate(w).message();
  };
  EXPECT_NE(with([](Workload& w) { w.params = 1e5; }).find("params"), std::string::npos);
  EXPECT_NE(with([](Workload& w) { w.tokens = 0; }).find("tokens"), std::string::npos);
  EXPECT_NE(with([](Workload& w) { w.epochs = 1001; }).find("epochs"), std::string::npos);
  EXPECT_NE(with([](Workload& w) { w.seq_len = 0; }).find("seq_len"), std::string::npos);
  EXPECT_NE(with([](Workload& w) { w.micro_batch = 5000; }).find("micro_batch"), std::string::npos);
  EXPECT_NE(with([](Workload& w) { w.mfu = 0.005; }).find("mfu"), std::string::npos);
  EXPECT_NE(with([](Workload& w) { w.mfu = 1.5; }).find("mfu"), std::string::npos);
}

TEST(TrainingSize, ShapeLikeLlama) {
  // d = cbrt(128 x 7e9 / 12) = 4210.9; L = 7e9 / (12 x 4211^2) = 32.9.
  const Shape s = ShapeOf(7e9);
  EXPECT_EQ(s.hidden, 4211);
  EXPECT_EQ(s.layers, 33);
  EXPECT_EQ(s.vocab, 128256);
}

TEST(TrainingSize, MemoryByHand) {
  // Activations: 4096 tokens x 4211 x (2 x 33 + 34) + 4096 x 128256 x 6 = 4,876,845,056 bytes.
  const double activations = 4096.0 * 4211 * 100 + 4096.0 * 128256 * 6;
  const Memory full = MemoryPerGpu(Seven(Method::kFull), 1);
  EXPECT_DOUBLE_EQ(full.states, 16 * 7e9);
  EXPECT_DOUBLE_EQ(full.activations, activations);
  EXPECT_DOUBLE_EQ(full.overhead, 1.5e9 + 0.1 * (112e9 + activations));
  EXPECT_NEAR(full.total(), 130.06e9, 0.01e9);
  // Sharded over 4: the states only.
  const Memory four = MemoryPerGpu(Seven(Method::kFull), 4);
  EXPECT_DOUBLE_EQ(four.states, 28e9);
  EXPECT_DOUBLE_EQ(four.activations, activations);
  // LoRA: frozen bf16 weights and adapters of 7 x 2 x 16 x 4211 x 33 parameters at 16 bytes.
  const double adapters = 7.0 * 2 * 16 * 4211 * 33;
  EXPECT_DOUBLE_EQ(MemoryPerGpu(Seven(Method::kLora), 1).states, 2 * 7e9 + 16 * adapters);
  EXPECT_DOUBLE_EQ(MemoryPerGpu(Seven(Method::kQlora), 2).states,
                   (0.516 * 7e9 + 16 * adapters) / 2);
  // Twice the micro-batch, twice the activations.
  Workload two = Seven(Method::kLora);
  two.micro_batch = 2;
  EXPECT_DOUBLE_EQ(MemoryPerGpu(two, 1).activations, 2 * activations);
}

TEST(TrainingSize, FlopsByHand) {
  // Per token: m x (2 x 7e9 + 2 x 33 x 4096 x 4211); m = 3 full, 2 LoRA.
  const double attention = 2.0 * 33 * 4096 * 4211;
  EXPECT_DOUBLE_EQ(TrainingFlops(Seven(Method::kFull)), 3 * (14e9 + attention) * 1e9);
  EXPECT_DOUBLE_EQ(TrainingFlops(Seven(Method::kLora)), 2 * (14e9 + attention) * 1e9);
  Workload three = Seven(Method::kQlora);
  three.epochs = 3;
  EXPECT_DOUBLE_EQ(TrainingFlops(three), 3 * 2 * (14e9 + attention) * 1e9);
}

TEST(TrainingSize, OptionsOnAFastAndASlowClass) {
  const Workload w = Seven(Method::kFull);
  const ClassSizing h = SizeOnClass(w, kH200);
  EXPECT_EQ(h.not_possible, "");
  ASSERT_EQ(h.options.size(), 4u);  // 1, 2, 4, 8 (16 is a 5th)
  EXPECT_EQ(h.options[0].gpus, 1);
  EXPECT_EQ(h.options[3].gpus, 8);
  EXPECT_EQ(h.options[3].nodes, 1);
  // 3 x (14e9 + attention) x 1e9 FLOPs at 989.4 TFLOPS x 0.35 on one GPU.
  const double flops = TrainingFlops(w);
  const double one_gpu_h = flops / (989.4e12 * 0.35) / 3600;
  EXPECT_NEAR(one_gpu_h, 36.43, 0.01);
  EXPECT_DOUBLE_EQ(h.options[0].hours, one_gpu_h);
  EXPECT_DOUBLE_EQ(h.options[1].hours, one_gpu_h / (2 * 0.95));
  EXPECT_DOUBLE_EQ(h.options[1].gpu_hours, 2 * h.options[1].hours);
  EXPECT_DOUBLE_EQ(h.options[0].energy_kwh_max, one_gpu_h * 0.7);
  // The limit: hours + 20 % + 15 min, up to the quarter-hour: 36.43 h -> 43.97 h -> 44 h.
  EXPECT_EQ(h.options[0].walltime_s, 44 * 3600);

  // 48 GB L40S: the states need 4 of them; 4 is one node, 8 and 16 are 2 and 4 nodes.
  const ClassSizing l = SizeOnClass(w, kL40s);
  ASSERT_EQ(l.options.size(), 3u);
  EXPECT_EQ(l.options[0].gpus, 4);
  EXPECT_EQ(l.options[1].nodes, 2);
  EXPECT_EQ(l.options[2].nodes, 4);
  EXPECT_DOUBLE_EQ(l.options[0].efficiency, 0.95);
  EXPECT_DOUBLE_EQ(l.options[1].efficiency, 0.85);
  // At speed 0.4 on 4 GPUs: 1 / (4 x 0.4 x 0.95) of one H200's hours.
  EXPECT_DOUBLE_EQ(l.options[0].hours, flops / (4 * 989.4e12 * 0.4 * 0.35 * 0.95) / 3600);
}

TEST(TrainingSize, SaysWhyNothingFits) {
  Workload big = Seven(Method::kFull);
  big.params = 405e9;  // 16 x 405e9 / 16 = 405 GB per GPU of states alone
  const ClassSizing h = SizeOnClass(big, kH200);
  EXPECT_TRUE(h.options.empty());
  EXPECT_NE(h.not_possible.find("even on all 16 GPUs of class h200 (150.8 GB each)"),
            std::string::npos)
      << h.not_possible;
  // QLoRA makes the same model fit: 0.516 x 405e9 / 16 + activations.
  big.method = Method::kQlora;
  EXPECT_FALSE(SizeOnClass(big, kH200).options.empty());

  Workload longer = Seven(Method::kLora);
  longer.seq_len = 131072;
  longer.micro_batch = 8;
  const ClassSizing l = SizeOnClass(longer, kL40s);
  EXPECT_TRUE(l.options.empty());
  EXPECT_NE(l.not_possible.find("one micro-batch of 8 x 131072 tokens needs"), std::string::npos)
      << l.not_possible;

  // The largest run allowed at the lowest MFU on a slow class: no option, no overflow.
  Workload huge = Seven(Method::kFull);
  huge.params = 1e13;
  huge.tokens = 1e15;
  huge.epochs = 1000;
  huge.mfu = 0.01;
  huge.method = Method::kQlora;
  ClassFacts slow = kL40s;
  slow.memory_mb = 1 << 30;
  slow.speed = 0.001;
  const ClassSizing h2 = SizeOnClass(huge, slow);
  EXPECT_TRUE(h2.options.empty());
  EXPECT_EQ(h2.not_possible,
            "would run for more than 10000000 hours even on all 16 GPUs of class l40s");

  ClassFacts none = kH200;
  none.gpus_total = 0;
  EXPECT_EQ(SizeOnClass(Seven(Method::kLora), none).not_possible,
            "no GPU of class h200 is registered");
}

}  // namespace
}  // namespace gpuaas::sizing
