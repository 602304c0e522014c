// Time in GPUaaS is integer milliseconds since the Unix epoch, UTC (type Millis). Durations on
// the command line are "90s", "30m", "2h", "1d" or a bare number of seconds.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gpuaas {

using Millis = int64_t;

constexpr Millis kMillisPerSecond = 1000;
constexpr Millis kMillisPerHour = 3600 * kMillisPerSecond;

// "2026-11-24T09:43:27.123Z" (milliseconds shown only when non-zero).
std::string FormatRfc3339(Millis t);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ", with optional fraction and "+HH:MM" offset.
Result<Millis> ParseRfc3339(std::string_view s);
// "90s", "30m", "2h", "1d", "12w", "45" (seconds). Returns seconds; rejects negatives and overflow.
Result<int64_t> ParseDurationSeconds(std::string_view s);
// Inverse for humans: 5400 -> "1h30m".
std::string FormatDurationSeconds(int64_t seconds);
// First millisecond of the month "YYYY-MM", and of the month after it.
Result<std::pair<Millis, Millis>> MonthRange(std::string_view yyyy_mm);

}  // namespace gpuaas
