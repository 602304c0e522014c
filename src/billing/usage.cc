#include "billing/usage.h"

#include <algorithm>

namespace gpuaas {

int64_t OverlapMillis(Millis start, Millis end, Millis from, Millis to) {
  Millis s = std::max(start, from), e = std::min(end, to);
  return e > s ? e - s : 0;
}

std::vector<EntityUsage> ComputeUsage(const std::vector<UsageRecord>& ledger,
                                      const std::vector<Allocation>& open, Millis from, Millis to,
                                      Millis now, const PriceBook& prices, EntityId only_entity) {
  std::map<EntityId, EntityUsage> acc;
  auto add = [&](EntityId entity, const std::string& cls, int gpus, Millis s, Millis e) {
    if (only_entity != 0 && entity != only_entity) return;
    int64_t ms = OverlapMillis(s, e, from, to);
    if (ms <= 0) return;
    auto& eu = acc[entity];
    eu.entity = entity;
    eu.by_class[cls].gpu_millis += ms * gpus;
  };
  for (const auto& r : ledger) add(r.entity, r.gpu_class, r.gpus, r.start, r.end);
  for (const auto& a : open) {
    if (a.end != 0) continue;
    add(a.entity, a.gpu_class, static_cast<int>(a.devices.size()), a.start, std::max(now, a.start));
  }
  std::vector<EntityUsage> out;
  out.reserve(acc.size());
  for (auto& [id, eu] : acc) {
    for (auto& [cls, cu] : eu.by_class) {
      cu.cost = CostOf(cu.gpu_millis, prices.HourlyRate(cls));
      eu.cost += cu.cost;
    }
    out.push_back(std::move(eu));
  }
  return out;
}

MicroEur IntervalCost(int gpus, Millis start, Millis end, const std::string& gpu_class,
                      const PriceBook& prices) {
  if (end <= start) return 0;
  return CostOf((end - start) * gpus, prices.HourlyRate(gpu_class));
}

}  // namespace gpuaas
