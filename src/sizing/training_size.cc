#include "sizing/training_size.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace gpuaas::sizing {
namespace {

// Bytes per parameter of the model's states.
constexpr double kFullBytesPerParam = 16;       // bf16 weights 2 + grads 2 + fp32 master 4 + Adam 8
constexpr double kFrozenBf16BytesPerParam = 2;  // LoRA: the frozen weights in bf16
constexpr double kNf4BytesPerParam = 0.516;     // QLoRA: 4 bits + double-quantised constants
constexpr double kAdapterBytesPerParam = 16;    // adapters train like full weights
// LoRA adapters of rank 16 on the 7 linear layers of a block, about 2 x 16 x hidden each.
constexpr double kAdapterParamsPerHiddenLayer = 7 * 2 * 16;
// Activation checkpointing, bf16: each layer keeps its input (2 bytes x s x b x d) and one layer
// at a time is recomputed whole (kLayerActivationBytes s b d).
constexpr double kLogitBytes = 6;  // bf16 logits and their fp32 copy for the loss
constexpr double kOneNodeEfficiency = 0.95;
constexpr double kMultiNodeEfficiency = 0.85;
constexpr double kWalltimeMargin = 1.2;
constexpr int64_t kWalltimeExtraS = 900;
constexpr size_t kMaxOptions = 4;
// Longer than this is no plan (and keeps walltimes and costs far from integer overflow).
constexpr double kMaxHours = 1e7;

}  // namespace

std::string FormatGb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  return buf;
}

int64_t QuarterHoursUp(double seconds) {
  constexpr double kQuarterHourS = 900;
  return static_cast<int64_t>(std::ceil(seconds / kQuarterHourS) * kQuarterHourS);
}

Status ValidateModel(double params, int seq_len) {
  if (!(params >= 1e6 && params <= 1e13)) {
    return InvalidArgument("params must be between 1M and 10T parameters");
  }
  if (seq_len < 1 || seq_len > 1'048'576) {
    return InvalidArgument("seq_len must be between 1 and 1048576 tokens");
  }
  return Status::Ok();
}

std::string NoGpuReason(const ClassFacts& c) {
  if (c.gpus_per_node >= 1 && c.gpus_total >= 1) return "";
  return "no GPU of class " + c.name + " is registered";
}

std::optional<Method> ParseMethod(std::string_view name) {
  if (name == "full") return Method::kFull;
  if (name == "lora") return Method::kLora;
  if (name == "qlora") return Method::kQlora;
  return std::nullopt;
}

const char* MethodName(Method m) {
  switch (m) {
    case Method::kFull:
      return "full";
    case Method::kLora:
      return "lora";
    case Method::kQlora:
      return "qlora";
  }
  return "full";
}

Status Validate(const Workload& w) {
  GPUAAS_RETURN_IF_ERROR(ValidateModel(w.params, w.seq_len));
  if (!(w.tokens >= 1 && w.tokens <= 1e15)) {
    return InvalidArgument("tokens must be between 1 and 1e15");
  }
  if (w.epochs < 1 || w.epochs > 1000) return InvalidArgument("epochs must be between 1 and 1000");
  if (w.micro_batch < 1 || w.micro_batch > 4096) {
    return InvalidArgument("micro_batch must be between 1 and 4096 sequences");
  }
  if (!(w.mfu >= 0.01 && w.mfu <= 1)) return InvalidArgument("mfu must be between 0.01 and 1");
  return Status::Ok();
}

Shape ShapeOf(double params) {
  // params = 12 L d^2 and d = 128 L, so d^3 = 128 x params / 12.
  Shape s;
  s.hidden = std::max<int64_t>(128, std::llround(std::cbrt(128.0 * params / 12.0)));
  s.layers = std::max<int64_t>(1, std::llround(params / (12.0 * static_cast<double>(s.hidden) *
                                                         static_cast<double>(s.hidden))));
  return s;
}

Memory MemoryPerGpu(const Workload& w, int gpus) {
  const Shape shape = ShapeOf(w.params);
  const double d = static_cast<double>(shape.hidden);
  const double layers = static_cast<double>(shape.layers);
  const double adapters = kAdapterParamsPerHiddenLayer * d * layers;
  double states = 0;
  switch (w.method) {
    case Method::kFull:
      states = kFullBytesPerParam * w.params;
      break;
    case Method::kLora:
      states = kFrozenBf16BytesPerParam * w.params + kAdapterBytesPerParam * adapters;
      break;
    case Method::kQlora:
      states = kNf4BytesPerParam * w.params + kAdapterBytesPerParam * adapters;
      break;
  }
  Memory m;
  m.states = states / std::max(1, gpus);
  const double tokens = static_cast<double>(w.seq_len) * w.micro_batch;
  m.activations = tokens * d * (2 * layers + kLayerActivationBytes) +
                  tokens * static_cast<double>(shape.vocab) * kLogitBytes;
  m.overhead = kOverheadBytes + kOverheadSlack * (m.states + m.activations);
  return m;
}

double TrainingFlops(const Workload& w) {
  const Shape shape = ShapeOf(w.params);
  const double passes = w.method == Method::kFull ? 3 : 2;
  const double per_token =
      passes * (2 * w.params + 2 * static_cast<double>(shape.layers) * w.seq_len *
                                   static_cast<double>(shape.hidden));
  return per_token * w.tokens * w.epochs;
}

ClassSizing SizeOnClass(const Workload& w, const ClassFacts& c) {
  ClassSizing out;
  out.gpu_class = c.name;
  out.not_possible = NoGpuReason(c);
  if (!out.not_possible.empty()) return out;
  const double available = static_cast<double>(c.memory_mb) * 1024 * 1024;
  // 1, 2, 4... up to a node, then whole nodes doubling, within the class's GPUs.
  std::vector<int> counts;
  for (int g = 1; g <= c.gpus_total;) {
    counts.push_back(g);
    if (g < c.gpus_per_node) {
      g = std::min(2 * g, c.gpus_per_node);
    } else {
      g *= 2;
    }
  }
  const double per_gpu_flops = kReferencePeakTflops * 1e12 * c.speed * w.mfu;
  const double flops = TrainingFlops(w);
  bool too_long = false;  // some GPU counts hold it but would run for more than kMaxHours
  for (int g : counts) {
    if (out.options.size() >= kMaxOptions) break;
    const Memory m = MemoryPerGpu(w, g);
    if (m.total() > available) continue;
    Option o;
    o.gpus = g;
    o.nodes = g <= c.gpus_per_node ? 1 : (g + c.gpus_per_node - 1) / c.gpus_per_node;
    o.memory = m;
    o.efficiency = g == 1 ? 1.0 : o.nodes == 1 ? kOneNodeEfficiency : kMultiNodeEfficiency;
    o.hours = flops / (g * per_gpu_flops * o.efficiency) / 3600;
    if (!(o.hours <= kMaxHours)) {
      too_long = true;
      continue;
    }
    const double limit_s = o.hours * 3600 * kWalltimeMargin + kWalltimeExtraS;
    o.walltime_s = QuarterHoursUp(limit_s);
    o.gpu_hours = g * o.hours;
    o.energy_kwh_max = o.gpu_hours * c.max_watts / 1000;
    out.options.push_back(o);
  }
  if (out.options.empty() && too_long) {
    out.not_possible = "would run for more than " +
                       std::to_string(static_cast<int64_t>(kMaxHours)) + " hours even on all " +
                       std::to_string(counts.back()) + " GPUs of class " + c.name;
  } else if (out.options.empty()) {
    const Memory all = MemoryPerGpu(w, counts.back());
    const Memory unsharded_part{0, all.activations,
                                kOverheadBytes + kOverheadSlack * all.activations};
    if (unsharded_part.total() > available) {
      out.not_possible = "one micro-batch of " + std::to_string(w.micro_batch) + " x " +
                         std::to_string(w.seq_len) + " tokens needs " +
                         FormatGb(unsharded_part.total()) + " per GPU, more than the " +
                         FormatGb(available) + " of a " + c.name +
                         ": lower the micro-batch or the sequence length";
    } else {
      out.not_possible = "needs " + FormatGb(all.total()) + " per GPU even on all " +
                         std::to_string(counts.back()) + " GPUs of class " + c.name + " (" +
                         FormatGb(available) + " each)";
    }
  }
  return out;
}

std::vector<std::string> Assumptions(Method m) {
  std::vector<std::string> out;
  switch (m) {
    case Method::kFull:
      out.push_back(
          "full training: 16 bytes per parameter (bf16 weights and gradients, fp32 "
          "master weights and AdamW moments), 3 passes per token (6 N FLOPs)");
      break;
    case Method::kLora:
      out.push_back(
          "LoRA: frozen bf16 weights (2 bytes per parameter) and rank-16 adapters on "
          "the 7 linear layers of each block, 2 passes per token (4 N FLOPs)");
      break;
    case Method::kQlora:
      out.push_back(
          "QLoRA: frozen 4-bit NF4 weights (0.516 bytes per parameter) and rank-16 "
          "adapters on the 7 linear layers of each block, 2 passes per token (4 N "
          "FLOPs; dequantisation counted in the MFU)");
      break;
  }
  out.push_back(
      "a Llama-like shape: hidden = 128 x layers, 12 x layers x hidden^2 parameters, a "
      "vocabulary of 128,256; attention adds 2 x layers x sequence x hidden FLOPs per "
      "token and pass");
  out.push_back(
      "the model's states are sharded over the job's GPUs (FSDP or DeepSpeed ZeRO-3); "
      "activation checkpointing and flash attention; 1.5 GB + 10 % per GPU for the "
      "CUDA context, buffers and slack");
  out.push_back(
      "peak dense BF16: 989.4 TFLOPS for a class of speed 1 (H200), the class's speed "
      "times it otherwise; scaling: 95 % within a node, 85 % across nodes");
  out.push_back(
      "walltime: the expected hours + 20 % + 15 minutes, in quarter-hours; energy at "
      "the board's power limit (an upper bound)");
  return out;
}

Result<double> ParseCount(std::string_view text, std::string_view what) {
  auto bad = [&]() {
    return InvalidArgument(std::string(what) + ": expected a positive number such as 7B, 500M or " +
                           "3e9, got \"" + std::string(text) + "\"");
  };
  if (text.empty() || text.size() > 32) return bad();
  double scale = 1;
  std::string_view digits = text;
  switch (std::tolower(static_cast<unsigned char>(text.back()))) {
    case 'k':
      scale = 1e3;
      break;
    case 'm':
      scale = 1e6;
      break;
    case 'b':
      scale = 1e9;
      break;
    case 't':
      scale = 1e12;
      break;
    default:
      break;
  }
  if (scale != 1) digits.remove_suffix(1);
  double n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size() ||
      !std::isfinite(n) || !(n > 0)) {
    return bad();
  }
  return n * scale;
}

}  // namespace gpuaas::sizing
