#include "base/money.h"

#include <cstdio>
#include <cstdlib>

namespace gpuaas {

std::string FormatEurCents(MicroEur m) {
  bool neg = m < 0;
  __int128 a = neg ? -static_cast<__int128>(m) : m;
  __int128 cents = (a + 5000) / 10000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", neg && cents != 0 ? "-" : "",
                static_cast<long long>(cents / 100), static_cast<long long>(cents % 100));
  return buf;
}

std::string FormatEurExact(MicroEur m) {
  bool neg = m < 0;
  __int128 a = neg ? -static_cast<__int128>(m) : m;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%lld.%06lld", neg ? "-" : "",
                static_cast<long long>(a / kMicrosPerEur),
                static_cast<long long>(a % kMicrosPerEur));
  return buf;
}

Result<MicroEur> ParseEur(std::string_view s) {
  auto bad = [&] { return InvalidArgument("'" + std::string(s) + "' is not an amount in euros"); };
  if (s.empty() || s.size() > 20) return bad();
  size_t i = 0;
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool any = false;
  for (; i < s.size() && s[i] != '.'; ++i) {
    if (s[i] < '0' || s[i] > '9') return bad();
    whole = whole * 10 + (s[i] - '0');
    any = true;
  }
  if (i < s.size()) {
    for (++i; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || frac_digits == 6) return bad();
      frac = frac * 10 + (s[i] - '0');
      ++frac_digits;
      any = true;
    }
  }
  if (!any || whole > 1'000'000'000'000LL) return bad();
  for (int k = frac_digits; k < 6; ++k) frac *= 10;
  return whole * kMicrosPerEur + frac;
}

MicroEur CostOf(int64_t gpu_millis, MicroEur rate_per_hour) {
  __int128 num = static_cast<__int128>(gpu_millis) * rate_per_hour;
  __int128 den = 3600 * 1000;
  __int128 q = num / den, r = num % den;
  if (r * 2 >= den) ++q;
  return static_cast<MicroEur>(q);
}

}  // namespace gpuaas
