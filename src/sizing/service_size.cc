#include "sizing/service_size.h"

#include <algorithm>
#include <cmath>

namespace gpuaas::sizing {
namespace {

// Grouped-query attention as Llama 3 at every size (and Mistral): 8 KV heads of 128, so the KV
// cache holds 2 (K and V) x layers x 1024 values per token, in bf16; a model narrower than
// that, its hidden size.
constexpr double kKvWidth = 1024;
constexpr double kKvBytes = 2;

double WeightBytesPerParam(Precision p) {
  switch (p) {
    case Precision::kBf16:
      return 2;
    case Precision::kFp8:
      return 1;
    case Precision::kInt4:
      return 0.53;  // 4 bits, and a 16-bit scale and zero point per group of 128 (AWQ, GPTQ)
  }
  return 2;
}

// Bytes of the whole service (not yet split over GPUs): weights, KV cache, one prefill.
struct Parts {
  double weights = 0;
  double kv_per_request = 0;
  double prefill = 0;
};

Parts PartsOf(const Service& s) {
  const Shape shape = ShapeOf(s.params);
  const double d = static_cast<double>(shape.hidden);
  Parts p;
  p.weights = WeightBytesPerParam(s.precision) * s.params;
  p.kv_per_request = 2 * static_cast<double>(shape.layers) * std::min(kKvWidth, d) * kKvBytes *
                     static_cast<double>(s.context);
  p.prefill = static_cast<double>(s.context) * d * kLayerActivationBytes;
  return p;
}

}  // namespace

std::optional<Precision> ParsePrecision(std::string_view name) {
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp8") return Precision::kFp8;
  if (name == "int4") return Precision::kInt4;
  return std::nullopt;
}

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp8:
      return "fp8";
    case Precision::kInt4:
      return "int4";
  }
  return "bf16";
}

Status Validate(const Service& s) {
  GPUAAS_RETURN_IF_ERROR(ValidateModel(s.params, s.context));
  if (s.concurrency < 1 || s.concurrency > 100'000) {
    return InvalidArgument("concurrency must be between 1 and 100000 requests");
  }
  if (!(s.hours >= 0.25 && s.hours <= 100'000)) {
    return InvalidArgument("hours must be between 0.25 and 100000");
  }
  return Status::Ok();
}

Memory MemoryPerGpu(const Service& s, int gpus) {
  const Parts p = PartsOf(s);
  const double g = std::max(1, gpus);
  Memory m;
  m.states = p.weights / g;
  m.activations = (p.kv_per_request * s.concurrency + p.prefill) / g;
  m.overhead = kOverheadBytes + kOverheadSlack * (m.states + m.activations);
  return m;
}

int MaxConcurrency(const Service& s, int gpus, double gpu_bytes) {
  // (1 + slack) (W + K c + P) / G + overhead <= memory, for the largest whole c.
  const Parts p = PartsOf(s);
  const double room = (gpu_bytes - kOverheadBytes) * std::max(1, gpus) / (1 + kOverheadSlack) -
                      p.weights - p.prefill;
  if (!(room >= p.kv_per_request)) return 0;
  return static_cast<int>(std::min(1e9, std::floor(room / p.kv_per_request)));
}

ClassSizing SizeOnClass(const Service& s, const ClassFacts& c) {
  ClassSizing out;
  out.gpu_class = c.name;
  out.not_possible = NoGpuReason(c);
  if (!out.not_possible.empty()) return out;
  const double available = static_cast<double>(c.memory_mb) * 1024 * 1024;
  // 1, 2, 4... up to a node; the first that holds it, and the next (more GPUs hold more
  // requests; the memory per GPU only falls).
  std::vector<int> counts;
  for (int g = 1;; g = std::min(2 * g, c.gpus_per_node)) {
    counts.push_back(g);
    if (g == c.gpus_per_node) break;
  }
  for (int g : counts) {
    if (out.options.size() == 2) break;
    const Memory m = MemoryPerGpu(s, g);
    if (m.total() > available) continue;
    Option o;
    o.gpus = g;
    o.nodes = 1;
    o.memory = m;
    o.hours = s.hours;
    o.walltime_s = QuarterHoursUp(s.hours * 3600);
    o.gpu_hours = g * s.hours;
    o.energy_kwh_max = o.gpu_hours * c.max_watts / 1000;
    o.max_concurrency = MaxConcurrency(s, g, available);
    out.options.push_back(o);
  }
  if (out.options.empty()) {
    out.not_possible = "needs " + FormatGb(MemoryPerGpu(s, c.gpus_per_node).total()) +
                       " per GPU even on a whole node of " + std::to_string(c.gpus_per_node) + " " +
                       c.name + " (" + FormatGb(available) +
                       " each; a service is tensor-parallel within one node): fewer concurrent "
                       "requests, a shorter context or a smaller precision";
  }
  return out;
}

std::vector<std::string> ServiceAssumptions() {
  return {
      "weights: 2 bytes per parameter in bf16, 1 in fp8, 0.53 in int4 (4 bits, and a 16-bit scale "
      "and zero point per group of 128)",
      "KV cache in bf16: 2 x layers x 1024 values per token (grouped-query attention, 8 KV heads "
      "of 128, as Llama 3 at every size), for every concurrent request's whole context; one "
      "prefill of a context at a time",
      "a Llama-like shape: hidden = 128 x layers, 12 x layers x hidden^2 parameters",
      "tensor-parallel within one node: weights, KV cache and prefill split over its GPUs; 1.5 GB "
      "+ 10 % per GPU for the CUDA context, buffers and slack",
      "throughput (tokens per second) is not estimated: it depends on the serving engine and the "
      "traffic; energy at the board's power limit (an upper bound)",
  };
}

}  // namespace gpuaas::sizing
