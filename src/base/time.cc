#include "base/time.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>

namespace gpuaas {
namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm): no locale, no timezone.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yy + (*m <= 2);
}

bool ReadInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::string FormatRfc3339(Millis t) {
  int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
  int ms = static_cast<int>(t - secs * 1000);
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[40];
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                  static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60), ms);
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m,
                  d, static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                  static_cast<int>(rem % 60));
  }
  return buf;
}

Result<Millis> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    return InvalidArgument("'" + std::string(s) +
                           "' is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
  };
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (s.size() < 10 || !ReadInt(s, 0, 4, &y) || s[4] != '-' || !ReadInt(s, 5, 2, &mo) ||
      s[7] != '-' || !ReadInt(s, 8, 2, &d))
    return bad();
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, mo)) return bad();
  size_t pos = 10;
  int ms = 0;
  int64_t offset_min = 0;
  if (pos < s.size()) {
    if ((s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') || !ReadInt(s, pos + 1, 2, &h) ||
        s.size() < pos + 9 || s[pos + 3] != ':' || !ReadInt(s, pos + 4, 2, &mi) ||
        s[pos + 6] != ':' || !ReadInt(s, pos + 7, 2, &se))
      return bad();
    if (h > 23 || mi > 59 || se > 60) return bad();
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 3) ms = ms * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return bad();
      for (int i = digits; i < 3; ++i) ms *= 10;
    }
    if (pos >= s.size()) return bad();
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!ReadInt(s, pos + 1, 2, &oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
          !ReadInt(s, pos + 4, 2, &om))
        return bad();
      offset_min = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
      pos += 6;
    } else {
      return bad();
    }
    if (pos != s.size()) return bad();
  }
  int64_t days = DaysFromCivil(y, mo, d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60;
  return secs * 1000 + ms;
}

Result<int64_t> ParseDurationSeconds(std::string_view s) {
  auto bad = [&] {
    return InvalidArgument(
        "'" + std::string(s) +
        "' is not a duration (use e.g. 90s, 30m, 2h, 1d or a number of seconds)");
  };
  if (s.empty()) return bad();
  int64_t mult = 1;
  std::string_view num = s;
  switch (s.back()) {
    case 's':
      mult = 1;
      num.remove_suffix(1);
      break;
    case 'm':
      mult = 60;
      num.remove_suffix(1);
      break;
    case 'h':
      mult = 3600;
      num.remove_suffix(1);
      break;
    case 'd':
      mult = 86400;
      num.remove_suffix(1);
      break;
    case 'w':
      mult = 7 * 86400;
      num.remove_suffix(1);
      break;
    default:
      break;
  }
  if (num.empty()) return bad();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || p != num.data() + num.size() || v < 0) return bad();
  if (v > std::numeric_limits<int64_t>::max() / 1000 / mult) return bad();
  return v * mult;
}

std::string FormatDurationSeconds(int64_t s) {
  if (s < 60) return std::to_string(s) + "s";
  std::string out;
  if (s >= 86400) out += std::to_string(s / 86400) + "d", s %= 86400;
  if (s >= 3600) out += std::to_string(s / 3600) + "h", s %= 3600;
  if (s >= 60) out += std::to_string(s / 60) + "m", s %= 60;
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

Result<std::pair<Millis, Millis>> MonthRange(std::string_view ym) {
  int y, m;
  if (ym.size() != 7 || !ReadInt(ym, 0, 4, &y) || ym[4] != '-' || !ReadInt(ym, 5, 2, &m) || m < 1 ||
      m > 12)
    return InvalidArgument("'" + std::string(ym) + "' is not a month (expected YYYY-MM)");
  Millis start = DaysFromCivil(y, m, 1) * 86400 * 1000;
  int ny = m == 12 ? y + 1 : y;
  unsigned nm = m == 12 ? 1 : m + 1;
  Millis end = DaysFromCivil(ny, nm, 1) * 86400 * 1000;
  return std::make_pair(start, end);
}

}  // namespace gpuaas
