// Money is integer micro-euros (1 EUR = 1,000,000). Arithmetic never uses floating point, so
// that an invoice adds up to the micro-euro. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gpuaas {

using MicroEur = int64_t;
constexpr MicroEur kMicrosPerEur = 1'000'000;

// "12.34" (rounded half away from zero to cents) — the contract's display amount.
std::string FormatEurCents(MicroEur m);
// "12.345678": exact.
std::string FormatEurExact(MicroEur m);
// "3.5", "3.50", "1200" -> micro-euros; at most 6 decimals; rejects junk.
Result<MicroEur> ParseEur(std::string_view s);
// Cost of `gpu_millis` GPU-milliseconds at `rate_per_hour` micro-euros per GPU-hour, rounded
// half up to the micro-euro. Exact in 128-bit integer arithmetic.
MicroEur CostOf(int64_t gpu_millis, MicroEur rate_per_hour);

}  // namespace gpuaas
