// Validation of the client CLI's inputs, before any request is sent: quota specs, GPU classes,
// counts, ids, roles, kinds, job states, dates and query strings. A bad input is an
// InvalidArgument Status whose message is meant for the user ("--gpus must be ...").
// Pure functions, no I/O; thread-safe. Candidates for a tested module (see the CLI report).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/url_encode.h"

namespace gpuaas::cli {

// A name as the API accepts it: 1-63 chars of [a-z0-9._-], starting with [a-z0-9].
bool IsValidName(std::string_view s);

// "h200=8,l40s=4" -> {{"h200", 8}, {"l40s", 4}}. Counts are non-negative integers; a class may
// appear once. `flag` names the option in messages ("--quota").
Result<std::map<std::string, int64_t>> ParseQuotaSpec(std::string_view spec,
                                                      std::string_view flag = "--quota");

// "h200" / "h200,l40s" -> {"h200", "l40s"} (order kept: it is the order of preference).
Result<std::vector<std::string>> ParseGpuTypes(std::string_view spec,
                                               std::string_view flag = "--gpu-type");

// A strictly positive decimal integer ("2"); rejects "0", "-1", "2.5", "2x", overflow.
Result<int64_t> ParsePositiveInt(std::string_view s, std::string_view flag);

// A job id: a positive integer.
Result<int64_t> ParseJobId(std::string_view s);

// A duration ("90s", "30m", "2h", "1d", bare seconds) that must be > 0.
Result<int64_t> ParsePositiveDuration(std::string_view s, std::string_view flag);

// One of the allowed words, e.g. ValidateChoice("x", "--role", {"member", ...}).
Status ValidateChoice(std::string_view value, std::string_view flag,
                      const std::vector<std::string_view>& allowed);

inline const std::vector<std::string_view>& Roles() {
  static const std::vector<std::string_view> k = {"member", "entity-admin", "platform-admin"};
  return k;
}
inline const std::vector<std::string_view>& Kinds() {
  static const std::vector<std::string_view> k = {"job", "notebook", "service", "allocation"};
  return k;
}
inline const std::vector<std::string_view>& JobStates() {
  static const std::vector<std::string_view> k = {"queued",    "starting",  "running",
                                                  "succeeded", "failed",    "cancelled",
                                                  "preempted", "timed_out", "lost"};
  return k;
}
// queued, starting and running are not final; every other state is.
bool IsFinalState(std::string_view state);

// "YYYY-MM-DD" or RFC 3339; returned unchanged when valid.
Status ValidateDate(std::string_view s, std::string_view flag);
// "YYYY-MM".
Status ValidateMonth(std::string_view s);

// "?a=1&b=x" from the non-empty values, in the given order; "" when all are empty.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace gpuaas::cli
