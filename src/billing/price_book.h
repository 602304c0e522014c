// PriceBook: the hourly rate of a device class, per priority class, with effective dates, in
// micro-euros per device-hour, and the billing unit (per second, default, or per started hour).
//
// Rules (docs/billing.md):
//  * The rate of (class, priority class) at time t is the rate of the entry of that priority
//    class with the latest effective_from <= t; if that priority class has no entry in force,
//    the same for the general entries (priority_class ""). Ties on effective_from: the entry
//    added last wins. No entry: 0 (an unknown class is refused at submit).
//  * Billing units (a second, or an hour) are counted from the allocation's start; a unit is
//    billed at the rate in force at its start and belongs to the month in which it starts. An
//    allocation of duration d bills ceil(d / unit) units. A price change therefore never touches
//    a unit that started before it, and never a past invoice.
// Thread-safety: a value; const methods are thread-safe, mutation is not.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/time.h"
#include "model/billing.h"
#include "model/gpu_class.h"

namespace gpuaas {

enum class BillingGranularity { kPerSecond, kPerStartedHour };
const char* BillingGranularityName(BillingGranularity g);  // "per-second", "per-started-hour"
bool ParseBillingGranularity(const std::string& s, BillingGranularity* out);

constexpr Millis kForever = std::numeric_limits<Millis>::max() / 4;

class PriceBook {
 public:
  PriceBook() = default;
  // General rates of the catalogue, in force since the epoch.
  explicit PriceBook(const std::vector<GpuClass>& classes);

  // Adds an entry (any order).
  void Add(const PriceChange& change);
  // Compatibility: sets the general rate of a class in force since the epoch.
  void SetRate(const std::string& gpu_class, MicroEur rate);

  MicroEur RateAt(const std::string& gpu_class, const std::string& priority_class, Millis t) const;
  // The latest announced general rate of a class (what a price list shows).
  MicroEur HourlyRate(const std::string& gpu_class) const {
    return RateAt(gpu_class, "", kForever);
  }
  // Instants in (from, to) at which the rate of (class, priority class) may change, ascending.
  std::vector<Millis> ChangesIn(const std::string& gpu_class, const std::string& priority_class,
                                Millis from, Millis to) const;
  // Every entry, in the order added.
  const std::vector<PriceChange>& entries() const { return entries_; }
  // Latest announced general rate per class.
  std::map<std::string, MicroEur> rates() const;

  void set_granularity(BillingGranularity g) { granularity_ = g; }
  BillingGranularity granularity() const { return granularity_; }
  Millis unit_ms() const {
    return granularity_ == BillingGranularity::kPerSecond ? kMillisPerSecond : kMillisPerHour;
  }

 private:
  // Index into entries_ of the entry in force, or -1.
  int InForce(const std::string& gpu_class, const std::string& priority_class, Millis t) const;

  std::vector<PriceChange> entries_;
  BillingGranularity granularity_ = BillingGranularity::kPerSecond;
};

}  // namespace gpuaas
