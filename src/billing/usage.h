// Usage from the ledger: GPU-time and cost per entity and class over a time window, computed
// from closed usage records plus still-open allocations (counted up to `now`). Nothing here is
// a stored counter: the ledger is the single source of truth. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/time.h"
#include "billing/invoice.h"
#include "billing/price_book.h"
#include "model/allocation.h"

namespace gpuaas {

struct ClassUsage {
  int64_t gpu_millis = 0;  // device-milliseconds
  MicroEur cost = 0;
};

struct EntityUsage {
  EntityId entity = 0;
  std::map<std::string, ClassUsage> by_class;
  MicroEur cost = 0;  // sum of by_class costs
  // Measured over each allocation (an open one: so far), shared over its billing units as on
  // invoices.
  int64_t energy_mwh = 0;
  int64_t net_rx_bytes = 0;
  int64_t net_tx_bytes = 0;
};

// Milliseconds of [start, end) inside [from, to).
int64_t OverlapMillis(Millis start, Millis end, Millis from, Millis to);

// Usage of every entity that has any allocation overlapping [from, to). Open allocations
// (end == 0) count up to `now`, with their measurements so far. `only_entity` = 0 means all
// entities. Result in entity-id order. Cost is billed as on invoices (billing/invoice.h: units
// starting in the window, at the general rates in force then); gpu_millis is the device-time
// inside the window.
std::vector<EntityUsage> ComputeUsage(const std::vector<UsageRecord>& ledger,
                                      const std::vector<Allocation>& open, Millis from, Millis to,
                                      Millis now, const PriceBook& prices, EntityId only_entity,
                                      const MeasuredSoFar& so_far = {});

// Cost of one allocation interval of `gpus` devices of `gpu_class` for a job of
// `priority_class` (rates in force with that class's rate or discount, billing units as on
// invoices): the running cost of a job, as its invoice line will say.
MicroEur IntervalCost(int gpus, Millis start, Millis end, const std::string& gpu_class,
                      const std::string& priority_class, const PriceBook& prices);

}  // namespace gpuaas
