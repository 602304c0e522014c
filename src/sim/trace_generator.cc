#include "sim/trace_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/class_mix.h"

namespace gpuaas::sim {
namespace {

constexpr double kMedianS = 1800;
constexpr double kSigma = 1.4;
constexpr double kMinS = 60;
constexpr double kMaxS = 7 * 86400;
constexpr double kNotebookShare = 0.08;
constexpr double kNotebookMedianS = 7200;

// Expected GPU-seconds of one job (the clamps and notebooks' sizes ignored: an approximation).
double MeanGpuSeconds() {
  const double mean_batch = kMedianS * std::exp(kSigma * kSigma / 2);
  const double mean_notebook = kNotebookMedianS * std::exp(kSigma * kSigma / 2);
  const double mean_gpus = 0.55 * 1 + 0.15 * 2 + 0.15 * 4 + 0.15 * 8;
  return (1 - kNotebookShare) * mean_gpus * mean_batch + kNotebookShare * mean_notebook;
}

}  // namespace

Status ValidateGenerateOptions(const GenerateOptions& o) {
  if (o.jobs < 1 || o.jobs > 100'000'000) return InvalidArgument("--jobs must be 1..100000000");
  if (o.entities < 1 || o.entities > 1000) return InvalidArgument("--entities must be 1..1000");
  if (!(o.load > 0) || o.load > 100) return InvalidArgument("--load must be in (0, 100]");
  if (o.cluster_gpus < 1) return InvalidArgument("the reference cluster has no GPUs");
  return Status::Ok();
}

TraceGenerator::TraceGenerator(GenerateOptions options)
    : options_(std::move(options)), rng_(SeedFor(options_.seed, "trace-generator")) {
  mean_gap_s_ = MeanGpuSeconds() / (options_.load * options_.cluster_gpus);
  double total = 0;
  for (int i = 1; i <= options_.entities; ++i) total += 1.0 / i;
  double acc = 0;
  for (int i = 1; i <= options_.entities; ++i) {
    acc += 1.0 / i / total;
    entity_cdf_.push_back(acc);
  }
}

Result<bool> TraceGenerator::Next(TraceJob* job) {
  if (produced_ >= options_.jobs) return false;
  *job = TraceJob{};
  char id[32];
  std::snprintf(id, sizeof id, "g%08lld", static_cast<long long>(produced_ + 1));
  job->id = id;
  if (produced_ > 0) clock_s_ += rng_.Exponential(mean_gap_s_);
  ++produced_;
  job->submit_s = static_cast<int64_t>(clock_s_);

  const double pick = rng_.Uniform();
  size_t e = static_cast<size_t>(std::lower_bound(entity_cdf_.begin(), entity_cdf_.end(), pick) -
                                 entity_cdf_.begin());
  e = std::min(e, entity_cdf_.size() - 1);
  char entity[32];
  std::snprintf(entity, sizeof entity, "entity-%02zu", e + 1);
  job->entity = entity;

  const bool notebook = rng_.Uniform() < kNotebookShare;
  double median = kMedianS;
  if (notebook) {
    job->kind = "notebook";
    job->gpus = 1;
    median = kNotebookMedianS;
  } else {
    const double g = rng_.Uniform();
    job->gpus = g < 0.55 ? 1 : g < 0.70 ? 2 : g < 0.85 ? 4 : 8;
  }
  const double d = median * std::exp(kSigma * rng_.Normal());
  job->duration_s = static_cast<int64_t>(std::clamp(d, kMinS, kMaxS));
  if (rng_.Uniform() < 0.85) {
    const double w = static_cast<double>(job->duration_s) * rng_.Uniform(1.1, 4.0);
    job->walltime_s = static_cast<int64_t>(std::ceil(w / 900.0)) * 900;
  }
  job->priority = rng_.Uniform() < 0.10 ? 1 : 0;
  AssignClasses(job, options_.classes, options_.seed);
  return true;
}

Status WriteGeneratedTrace(const GenerateOptions& options, std::ostream& out) {
  if (Status s = ValidateGenerateOptions(options); !s.ok()) return s;
  TraceGenerator gen(options);
  WriteTraceHeader(out);
  TraceJob job;
  while (true) {
    auto more = gen.Next(&job);
    if (!more.ok()) return more.status();
    if (!*more) break;
    WriteTraceJob(out, job);
  }
  out.flush();
  if (!out) return InvalidArgument("write error");
  return Status::Ok();
}

}  // namespace gpuaas::sim
