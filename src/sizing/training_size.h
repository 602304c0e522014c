// Sizing a training or fine-tuning run before it is submitted: how much GPU memory it needs,
// how many GPUs of each class it takes at the least, and how many hours (so GPU-hours, euros and
// energy) it should run on 1x, 2x, 4x... that many. The rules of thumb the field uses
// (EleutherAI's "Transformer Math 101", Kaplan et al.'s 6·N·D, the LoRA and QLoRA papers), each
// written in docs/sizing.md and returned with every answer so that a user can check them.
// Pure functions of their inputs; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gpuaas::sizing {

// full = every weight trained (AdamW, bf16 with fp32 master weights); lora = frozen bf16
// weights and small trained adapters; qlora = the same on 4-bit (NF4) frozen weights.
enum class Method { kFull, kLora, kQlora };
std::optional<Method> ParseMethod(std::string_view name);
const char* MethodName(Method m);

// The stated peak dense BF16 tensor throughput of a class of speed 1.0 (an H200 SXM, 989.4
// TFLOPS); a class of speed s is counted at s times it, the speed the scheduler and the portal
// state for its slowdown.
inline constexpr double kReferencePeakTflops = 989.4;
// Per GPU: the CUDA context and communication buffers, and the allocator's slack on the rest.
inline constexpr double kOverheadBytes = 1.5e9;
inline constexpr double kOverheadSlack = 0.10;
// Bytes per token and hidden unit of one layer's activations computed whole (Korthikanti et al.
// 2022, with flash attention).
inline constexpr double kLayerActivationBytes = 34;

struct Workload {
  Method method = Method::kFull;
  double params = 0;    // the model's parameters (7e9 for a 7B model)
  double tokens = 0;    // training tokens in one pass over the data
  int epochs = 1;       // passes over the data
  int seq_len = 4096;   // tokens per sequence
  int micro_batch = 1;  // sequences per GPU per step
  double mfu = 0.35;    // model FLOPs utilisation: achieved / peak throughput (0.01 to 1)
};

// Limits on every field (a clear error names the field); every later function assumes it passed.
Status Validate(const Workload& w);

// A dense decoder's shape guessed from its size, as Llama-like models are built: a width of 128
// per layer (hidden = 128 x layers) and about 12 x layers x hidden^2 parameters; the vocabulary
// of Llama 3 (128,256 tokens).
struct Shape {
  int64_t layers = 0;
  int64_t hidden = 0;
  int64_t vocab = 128256;
};
Shape ShapeOf(double params);

// Bytes per GPU when the model's states are sharded over `gpus` GPUs (FSDP, DeepSpeed ZeRO-3).
struct Memory {
  double states = 0;       // weights, gradients and optimiser states, this GPU's part
  double activations = 0;  // one micro-batch, with activation checkpointing
  double overhead = 0;     // CUDA context and communication buffers, allocator slack
  double total() const { return states + activations + overhead; }
};
Memory MemoryPerGpu(const Workload& w, int gpus);

// Model FLOPs of the whole run: per token m x (2 N + 2 L s d) (Kaplan et al.: the weights'
// multiply-adds and attention over the sequence), m = 3 for full training (forward, backward to
// the activations, backward to the weights) and 2 for LoRA and QLoRA (frozen weights get no
// gradient); times tokens x epochs.
double TrainingFlops(const Workload& w);

// What the platform knows of a class: its GPUs' memory, speed and power, and its nodes.
struct ClassFacts {
  std::string name;
  int64_t memory_mb = 0;
  double speed = 1.0;
  double max_watts = 0;
  int gpus_per_node = 0;  // the largest node of the class
  int gpus_total = 0;     // every GPU of the class
};

struct Option {
  int gpus = 0;
  int nodes = 0;              // whole nodes when more than one
  Memory memory;              // per GPU
  double efficiency = 1.0;    // scaling: 1 GPU 1, one node 0.95, several nodes 0.85
  double hours = 0;           // expected run time
  int64_t walltime_s = 0;     // the limit to ask for: hours + 20 % + 15 min, in quarter-hours
  double gpu_hours = 0;       // gpus x hours
  double energy_kwh_max = 0;  // at the board's power limit (an upper bound)
  int max_concurrency = 0;    // an inference service: the requests its memory holds at once
};

struct ClassSizing {
  std::string gpu_class;
  std::vector<Option> options;  // the fewest GPUs that hold it, then 2x, 4x, 8x (at most 4)
  std::string not_possible;     // why there is none ("" when there are options)
};

// The options on one class: GPU counts of 1, 2, 4... up to a node, then whole nodes 2x, 4x...,
// from the first whose memory per GPU fits, within the class's GPUs; none that would run for
// more than 10 million hours.
ClassSizing SizeOnClass(const Workload& w, const ClassFacts& c);

// What training runs and services share: "12.3 GB"; seconds rounded up to the quarter-hour (a
// walltime); the checks of a model's size and sequence length (a clear error naming the field);
// why a class has no option when it has no GPU ("" when it has).
std::string FormatGb(double bytes);
int64_t QuarterHoursUp(double seconds);
Status ValidateModel(double params, int seq_len);
std::string NoGpuReason(const ClassFacts& c);

// The rules above in words, for the answer (those of `m` only).
std::vector<std::string> Assumptions(Method m);

// "7B", "1.5T", "500M", "12k", "3e9", "7000000000" (a positive number with an optional k, M, B
// or T suffix, case-insensitive).
Result<double> ParseCount(std::string_view text, std::string_view what);

}  // namespace gpuaas::sizing
