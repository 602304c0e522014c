#include "sim/metrics.h"

#include <algorithm>
#include <cmath>

namespace gpuaas::sim {
namespace {

double AvgSeconds(int64_t sum_ms, int64_t n) {
  return n == 0 ? 0.0 : static_cast<double>(sum_ms) / 1000.0 / static_cast<double>(n);
}

}  // namespace

double PercentileSeconds(std::vector<int64_t>& values, double p) {
  if (values.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank - 1), values.end());
  return static_cast<double>(values[rank - 1]) / 1000.0;
}

MetricsBuilder::MetricsBuilder(std::vector<std::string> classes, PriceBook prices, int total_gpus)
    : classes_(std::move(classes)), prices_(std::move(prices)), total_gpus_(total_gpus) {}

MetricsBuilder::PerEntity& MetricsBuilder::Entity(int entity) {
  if (static_cast<size_t>(entity) >= entities_.size()) entities_.resize(entity + 1);
  PerEntity& e = entities_[entity];
  if (e.gpu_ms_by_class.size() < classes_.size()) e.gpu_ms_by_class.resize(classes_.size());
  return e;
}

void MetricsBuilder::AddSubmitted(int entity, Millis submit) {
  ++Entity(entity).jobs;
  if (!any_submit_ || submit < first_submit_) first_submit_ = submit;
  any_submit_ = true;
}

void MetricsBuilder::AddFinished(const JobOutcome& o) {
  PerEntity& e = Entity(o.entity);
  const int64_t jct = o.end - o.submit;
  const int64_t wait = o.start - o.submit;
  ++e.finished;
  e.jct_sum_ms += jct;
  e.wait_sum_ms += wait;
  e.waits_ms.push_back(wait);
  e.gpu_ms_by_class[o.gpu_class] += (o.end - o.start) * o.gpus;
  jcts_ms_.push_back(jct);
  waits_ms_.push_back(wait);
  if (o.timed_out) ++timed_out_;
  last_end_ = std::max(last_end_, o.end);
}

PolicyMetrics MetricsBuilder::Finish(const std::string& policy,
                                     const std::vector<std::string>& entity_names) {
  PolicyMetrics m;
  m.policy = policy;
  m.finished = static_cast<int64_t>(jcts_ms_.size());
  m.timed_out = timed_out_;
  int64_t jct_sum = 0, wait_sum = 0, gpu_ms = 0;
  for (int64_t v : jcts_ms_) jct_sum += v;
  for (int64_t v : waits_ms_) wait_sum += v;
  m.avg_jct_s = AvgSeconds(jct_sum, m.finished);
  m.avg_wait_s = AvgSeconds(wait_sum, m.finished);
  m.p50_jct_s = PercentileSeconds(jcts_ms_, 50);
  m.p95_jct_s = PercentileSeconds(jcts_ms_, 95);
  m.p50_wait_s = PercentileSeconds(waits_ms_, 50);
  m.p95_wait_s = PercentileSeconds(waits_ms_, 95);
  m.p99_wait_s = PercentileSeconds(waits_ms_, 99);
  for (size_t i = 0; i < entities_.size(); ++i) {
    PerEntity& e = entities_[i];
    EntityMetrics em;
    em.name = i < entity_names.size() ? entity_names[i] : "entity-" + std::to_string(i);
    em.jobs = e.jobs;
    m.jobs += e.jobs;
    em.avg_jct_s = AvgSeconds(e.jct_sum_ms, e.finished);
    em.avg_wait_s = AvgSeconds(e.wait_sum_ms, e.finished);
    em.p95_wait_s = PercentileSeconds(e.waits_ms, 95);
    int64_t entity_gpu_ms = 0;
    for (size_t c = 0; c < e.gpu_ms_by_class.size(); ++c) {
      entity_gpu_ms += e.gpu_ms_by_class[c];
      em.cost += CostOf(e.gpu_ms_by_class[c], prices_.HourlyRate(classes_[c]));
    }
    em.gpu_seconds = static_cast<double>(entity_gpu_ms) / 1000.0;
    gpu_ms += entity_gpu_ms;
    m.cost += em.cost;
    m.entities.push_back(std::move(em));
  }
  std::sort(m.entities.begin(), m.entities.end(),
            [](const EntityMetrics& a, const EntityMetrics& b) { return a.name < b.name; });
  if (m.finished > 0 && last_end_ > first_submit_) {
    const int64_t makespan_ms = last_end_ - first_submit_;
    m.makespan_s = static_cast<double>(makespan_ms) / 1000.0;
    if (total_gpus_ > 0) {
      m.gpu_utilization = static_cast<double>(gpu_ms) /
                          (static_cast<double>(total_gpus_) * static_cast<double>(makespan_ms));
    }
  }
  return m;
}

}  // namespace gpuaas::sim
