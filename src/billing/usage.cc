#include "billing/usage.h"

#include <algorithm>

#include "billing/invoice.h"

namespace gpuaas {

int64_t OverlapMillis(Millis start, Millis end, Millis from, Millis to) {
  Millis s = std::max(start, from), e = std::min(end, to);
  return e > s ? e - s : 0;
}

std::vector<EntityUsage> ComputeUsage(const std::vector<UsageRecord>& ledger,
                                      const std::vector<Allocation>& open, Millis from, Millis to,
                                      Millis now, const PriceBook& prices, EntityId only_entity,
                                      const MeasuredSoFar& so_far) {
  std::map<EntityId, EntityUsage> acc;
  auto add = [&](const UsageRecord& r) {
    if (only_entity != 0 && r.entity != only_entity) return;
    int64_t ms = OverlapMillis(r.start, r.end, from, to);
    if (ms <= 0) return;
    auto& eu = acc[r.entity];
    eu.entity = r.entity;
    ClassUsage& cu = eu.by_class[r.gpu_class];
    cu.gpu_millis += ms * r.gpus;
    // Billed as on the invoice: units starting in the window, at the rates in force.
    for (const InvoiceLine& l : LinesOf(r, {}, prices, from, to)) {
      cu.cost += l.amount;
      eu.energy_mwh += l.energy_mwh;
      eu.net_rx_bytes += l.net_rx_bytes;
      eu.net_tx_bytes += l.net_tx_bytes;
    }
  };
  for (const auto& r : ledger) add(r);
  for (const auto& a : open) {
    if (a.end != 0) continue;
    auto m = so_far.find(a.id);
    add(AsRecord(a, now, m != so_far.end() ? m->second : Measured{}));
  }
  std::vector<EntityUsage> out;
  out.reserve(acc.size());
  for (auto& [id, eu] : acc) {
    for (auto& [cls, cu] : eu.by_class) eu.cost += cu.cost;
    out.push_back(std::move(eu));
  }
  return out;
}

MicroEur IntervalCost(int gpus, Millis start, Millis end, const std::string& gpu_class,
                      const std::string& priority_class, const PriceBook& prices) {
  UsageRecord r;
  r.gpu_class = gpu_class;
  r.gpus = gpus;
  r.start = start;
  r.end = end;
  MicroEur sum = 0;
  for (const InvoiceLine& l : LinesOf(r, {"", priority_class}, prices, start, kForever))
    sum += l.amount;
  return sum;
}

}  // namespace gpuaas
