// Sizing a training run or an inference service on this platform: the memory, FLOPs and hours
// of sizing/ on the classes configured (their memory, speed and power) and the nodes
// registered, each option then estimated as a job of that shape (Platform::Estimate: when it
// would start and end, at what cost). Nothing is changed (see platform.h for the threading
// contract).
#include <algorithm>
#include <cmath>
#include <map>

#include "base/time.h"
#include "state/platform.h"

namespace gpuaas {

Result<SizingResult> Platform::Size(const Principal& p, const SizingRequest& req) {
  GPUAAS_ASSIGN_OR_RETURN(const EntityId entity, EstimateEntity(p, req.entity));
  const Status valid =
      req.service ? sizing::Validate(*req.service) : sizing::Validate(req.workload);
  if (!valid.ok()) return FailedPrecondition(valid.message());
  std::vector<std::string> classes = req.gpu_types;
  if (classes.empty()) {
    for (const auto& c : config_.classes) classes.push_back(c.name);
  }
  if (classes.size() > config_.classes.size()) {
    return FailedPrecondition("gpu_types lists more classes than the platform has");
  }
  // Every class's GPUs: in all and on its largest node.
  std::map<std::string, std::pair<int, int>> gpus;  // class -> (total, largest node)
  for (const auto& [id, node] : nodes_) {
    std::map<std::string, int> on_node;
    for (const GpuDevice& d : node.gpus) ++on_node[d.gpu_class];
    for (const auto& [c, n] : on_node) {
      gpus[c].first += n;
      gpus[c].second = std::max(gpus[c].second, n);
    }
  }

  SizingResult out;
  out.entity = entity;
  out.flops = req.service ? 0 : sizing::TrainingFlops(req.workload);
  out.shape = sizing::ShapeOf(req.service ? req.service->params : req.workload.params);
  for (size_t i = 0; i < classes.size(); ++i) {
    const std::string& name = classes[i];
    if (std::find(classes.begin(), classes.begin() + static_cast<std::ptrdiff_t>(i), name) !=
        classes.begin() + static_cast<std::ptrdiff_t>(i)) {
      return FailedPrecondition("gpu_types lists '" + name + "' twice");
    }
    auto c = std::find_if(config_.classes.begin(), config_.classes.end(),
                          [&](const GpuClass& k) { return k.name == name; });
    if (c == config_.classes.end()) return FailedPrecondition("unknown GPU class '" + name + "'");
    sizing::ClassFacts facts{c->name,      c->memory_mb,      c->speed,
                             c->max_watts, gpus[name].second, gpus[name].first};
    sizing::ClassSizing sized = req.service ? sizing::SizeOnClass(*req.service, facts)
                                            : sizing::SizeOnClass(req.workload, facts);
    if (sized.options.empty()) {
      out.not_possible.push_back(std::move(sized));
      continue;
    }
    for (const sizing::Option& o : sized.options) {
      SizedOption so{name, o, {}, prices_.HourlyRate(name), 0, ""};
      so.expected_cost =
          CostOf(static_cast<int64_t>(std::ceil(o.gpu_hours * 3'600'000)), so.hourly_rate);
      JobRequest job;
      job.kind = req.service ? JobKind::kService : JobKind::kJob;
      job.gpus = o.gpus;
      job.gpu_types = {name};
      job.allow_fallback = false;
      job.walltime_s = o.walltime_s;
      job.entity = req.entity;
      if (o.walltime_s > config_.max_walltime_s) {
        so.error = "its walltime would be over the platform's limit of " +
                   FormatDurationSeconds(config_.max_walltime_s) +
                   (req.service ? std::string(": ask for fewer hours and renew it")
                                : std::string(": checkpoint and resubmit, or use more GPUs"));
      } else if (Result<JobEstimate> e = Estimate(p, job); e.ok()) {
        so.estimate = e->options.at(e->best);
      } else {
        so.error = e.status().message();
      }
      out.options.push_back(std::move(so));
    }
  }
  // The fastest: the earliest estimated end, then the fewest GPU-hours. The cheapest: the lowest
  // expected cost, then the earliest end. Options without an estimate are neither.
  for (size_t i = 0; i < out.options.size(); ++i) {
    const SizedOption& o = out.options[i];
    if (!o.error.empty() || o.estimate.end == 0) continue;
    auto earlier = [&](size_t j) {
      const SizedOption& b = out.options[j];
      return o.estimate.end < b.estimate.end ||
             (o.estimate.end == b.estimate.end && o.option.gpu_hours < b.option.gpu_hours);
    };
    auto cheaper = [&](size_t j) {
      const SizedOption& b = out.options[j];
      return o.expected_cost < b.expected_cost ||
             (o.expected_cost == b.expected_cost && o.estimate.end < b.estimate.end);
    };
    if (!out.fastest || earlier(*out.fastest)) out.fastest = i;
    if (!out.cheapest || cheaper(*out.cheapest)) out.cheapest = i;
  }
  return out;
}

}  // namespace gpuaas
