#include "cmd/cli_input.h"

#include <algorithm>
#include <charconv>

#include "base/time.h"

namespace gpuaas::cli {
namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

// A non-negative decimal integer without sign, spaces or trailing junk.
bool ParseNonNegative(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out >= 0 && s[0] != '+';
}

}  // namespace

bool IsValidName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

Result<std::map<std::string, int64_t>> ParseQuotaSpec(std::string_view spec,
                                                      std::string_view flag) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(std::string(flag) + " " + Quote(spec) + ": " + why +
                           " (expected CLASS=N[,CLASS=N...], e.g. h200=8,l40s=4)");
  };
  if (spec.empty()) return bad("empty");
  std::map<std::string, int64_t> quota;
  for (std::string_view item : Split(spec, ',')) {
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return bad(Quote(item) + " has no '='");
    std::string_view cls = item.substr(0, eq);
    std::string_view count = item.substr(eq + 1);
    if (!IsValidName(cls)) return bad(Quote(cls) + " is not a GPU class name");
    int64_t n = 0;
    if (!ParseNonNegative(count, &n)) {
      return bad(Quote(count) + " is not a non-negative integer");
    }
    if (!quota.emplace(std::string(cls), n).second) return bad(Quote(cls) + " appears twice");
  }
  return quota;
}

Result<std::vector<std::string>> ParseGpuTypes(std::string_view spec, std::string_view flag) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(std::string(flag) + " " + Quote(spec) + ": " + why +
                           " (expected CLASS[,CLASS...], e.g. h200 or h200,l40s)");
  };
  if (spec.empty()) return bad("empty");
  std::vector<std::string> types;
  for (std::string_view item : Split(spec, ',')) {
    if (!IsValidName(item)) return bad(Quote(item) + " is not a GPU class name");
    if (std::find(types.begin(), types.end(), item) != types.end()) {
      return bad(Quote(item) + " appears twice");
    }
    types.emplace_back(item);
  }
  return types;
}

Result<int64_t> ParsePositiveInt(std::string_view s, std::string_view flag) {
  int64_t n = 0;
  if (!ParseNonNegative(s, &n) || n == 0) {
    return InvalidArgument(std::string(flag) + " must be a positive integer, got " + Quote(s));
  }
  return n;
}

Result<int64_t> ParseJobId(std::string_view s) {
  int64_t n = 0;
  if (!ParseNonNegative(s, &n) || n == 0) {
    return InvalidArgument("job ID must be a positive integer, got " + Quote(s));
  }
  return n;
}

Result<int64_t> ParsePositiveDuration(std::string_view s, std::string_view flag) {
  Result<int64_t> secs = ParseDurationSeconds(s);
  if (!secs.ok()) return InvalidArgument(std::string(flag) + ": " + secs.status().message());
  if (*secs <= 0) return InvalidArgument(std::string(flag) + " must be longer than 0s");
  return secs;
}

Status ValidateChoice(std::string_view value, std::string_view flag,
                      const std::vector<std::string_view>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return Status::Ok();
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  return InvalidArgument(std::string(flag) + " " + Quote(value) + " is not one of: " + list);
}

bool IsFinalState(std::string_view state) {
  return state != "queued" && state != "starting" && state != "running";
}

Status ValidateDate(std::string_view s, std::string_view flag) {
  Result<Millis> t = ParseRfc3339(s);
  if (!t.ok()) return InvalidArgument(std::string(flag) + ": " + t.status().message());
  return Status::Ok();
}

Status ValidateMonth(std::string_view s) {
  auto range = MonthRange(s);
  if (!range.ok()) return InvalidArgument("--month: " + range.status().message());
  return Status::Ok();
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += key + "=" + UrlEncode(value);
  }
  return out;
}

}  // namespace gpuaas::cli
