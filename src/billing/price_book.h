// PriceBook: hourly rate per device class, in micro-euros per device-hour. First version: one
// rate per class in force for all time (effective dates come with the billing issue).
// Thread-safety: immutable after construction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/money.h"
#include "model/gpu_class.h"

namespace gpuaas {

class PriceBook {
 public:
  PriceBook() = default;
  explicit PriceBook(const std::vector<GpuClass>& classes);
  // Rate of a class; 0 for an unknown class (an unknown class is refused at submit).
  MicroEur HourlyRate(const std::string& gpu_class) const;
  void SetRate(const std::string& gpu_class, MicroEur rate) { rates_[gpu_class] = rate; }
  const std::map<std::string, MicroEur>& rates() const { return rates_; }

 private:
  std::map<std::string, MicroEur> rates_;
};

}  // namespace gpuaas
