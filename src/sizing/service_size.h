// Sizing an inference service before it is submitted: the GPUs of each class whose memory holds
// the model's weights, the KV cache of its concurrent requests and a prefill, tensor-parallel
// within one node; how many requests that memory holds at once; and the GPU-hours, euros and
// energy of running it so many hours. Throughput (tokens per second) is not estimated: it
// depends on the serving engine and the traffic. Rules in docs/sizing.md. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sizing/training_size.h"

namespace gpuaas::sizing {

// The weights' format: bf16 (2 bytes per parameter), fp8 (1) or int4 (0.53: each group's scale
// and zero point too).
enum class Precision { kBf16, kFp8, kInt4 };
std::optional<Precision> ParsePrecision(std::string_view name);
const char* PrecisionName(Precision p);

struct Service {
  double params = 0;  // the model's parameters
  Precision precision = Precision::kBf16;
  int context = 4096;    // tokens per request (prompt and answer)
  int concurrency = 16;  // requests served at once
  double hours = 720;    // how long it runs (30 days)
};

Status Validate(const Service& s);

// Bytes per GPU on `gpus` GPUs (tensor parallel: weights, KV cache and prefill split):
// states = the weights, activations = the KV cache of `concurrency` requests of `context` tokens
// plus one prefill of `context` tokens, overhead as for training.
Memory MemoryPerGpu(const Service& s, int gpus);

// How many requests of `context` tokens fit at once on `gpus` GPUs of `gpu_bytes` each (0 if not
// even one).
int MaxConcurrency(const Service& s, int gpus, double gpu_bytes);

// The fewest GPUs of one node that hold it, and twice that many if a node has them.
ClassSizing SizeOnClass(const Service& s, const ClassFacts& c);

// The rules above in words, for the answer.
std::vector<std::string> ServiceAssumptions();

}  // namespace gpuaas::sizing
