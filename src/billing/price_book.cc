#include "billing/price_book.h"

#include <algorithm>

namespace gpuaas {

const char* BillingGranularityName(BillingGranularity g) {
  return g == BillingGranularity::kPerSecond ? "per-second" : "per-started-hour";
}

bool ParseBillingGranularity(const std::string& s, BillingGranularity* out) {
  if (s == "per-second") {
    *out = BillingGranularity::kPerSecond;
  } else if (s == "per-started-hour") {
    *out = BillingGranularity::kPerStartedHour;
  } else {
    return false;
  }
  return true;
}

PriceBook::PriceBook(const std::vector<GpuClass>& classes) {
  for (const auto& c : classes) SetRate(c.name, c.hourly_rate);
}

void PriceBook::Add(const PriceChange& change) { entries_.push_back(change); }

void PriceBook::SetRate(const std::string& gpu_class, MicroEur rate) {
  PriceChange c;
  c.gpu_class = gpu_class;
  c.rate = rate;
  c.effective_from = 0;
  Add(c);
}

int PriceBook::InForce(const std::string& gpu_class, const std::string& priority_class,
                       Millis t) const {
  int best = -1;
  for (int i = 0; i < static_cast<int>(entries_.size()); ++i) {
    const PriceChange& e = entries_[i];
    if (e.gpu_class != gpu_class || e.priority_class != priority_class || e.effective_from > t) {
      continue;
    }
    if (best < 0 || e.effective_from >= entries_[best].effective_from) best = i;
  }
  return best;
}

MicroEur PriceBook::RateAt(const std::string& gpu_class, const std::string& priority_class,
                           Millis t) const {
  int i = priority_class.empty() ? -1 : InForce(gpu_class, priority_class, t);
  if (i < 0) i = InForce(gpu_class, "", t);
  return i < 0 ? 0 : entries_[i].rate;
}

std::vector<Millis> PriceBook::ChangesIn(const std::string& gpu_class,
                                         const std::string& priority_class, Millis from,
                                         Millis to) const {
  std::vector<Millis> out;
  for (const PriceChange& e : entries_) {
    if (e.gpu_class != gpu_class) continue;
    if (!e.priority_class.empty() && e.priority_class != priority_class) continue;
    if (e.effective_from > from && e.effective_from < to) out.push_back(e.effective_from);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::map<std::string, MicroEur> PriceBook::rates() const {
  std::map<std::string, MicroEur> out;
  for (const PriceChange& e : entries_) out[e.gpu_class] = 0;
  for (auto& [cls, rate] : out) rate = HourlyRate(cls);
  return out;
}

}  // namespace gpuaas
