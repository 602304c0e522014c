#include "billing/price_book.h"

namespace gpuaas {

PriceBook::PriceBook(const std::vector<GpuClass>& classes) {
  for (const auto& c : classes) rates_[c.name] = c.hourly_rate;
}

MicroEur PriceBook::HourlyRate(const std::string& gpu_class) const {
  auto it = rates_.find(gpu_class);
  return it == rates_.end() ? 0 : it->second;
}

}  // namespace gpuaas
