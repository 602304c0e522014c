#include "agent/net_counters.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace gpuaas {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<NetCounters> ParseProcNetDev(std::string_view text,
                                    const std::vector<std::string>& interfaces) {
  NetCounters sum;
  std::set<std::string> seen;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (++line_no <= 2 || Trim(line).empty()) continue;  // the two header lines
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("/proc/net/dev line " + std::to_string(line_no) + " has no ':'");
    }
    const std::string name(Trim(line.substr(0, colon)));
    std::string_view rest = line.substr(colon + 1);
    int64_t fields[16];
    for (int64_t& f : fields) {
      rest = Trim(rest);
      auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), f);
      if (ec != std::errc() || f < 0) {
        return InvalidArgument("/proc/net/dev line " + std::to_string(line_no) +
                               " does not have 16 counters");
      }
      rest.remove_prefix(static_cast<size_t>(p - rest.data()));
    }
    const bool wanted = interfaces.empty() ? name != "lo"
                                           : std::find(interfaces.begin(), interfaces.end(),
                                                       name) != interfaces.end();
    if (!wanted) continue;
    seen.insert(name);
    sum.rx_bytes += fields[0];  // receive bytes
    sum.tx_bytes += fields[8];  // transmit bytes
  }
  for (const std::string& want : interfaces) {
    if (!seen.count(want)) return NotFound("network interface '" + want + "' does not exist");
  }
  return sum;
}

Result<NetCounters> ReadNetCounters(const std::string& path,
                                    const std::vector<std::string>& interfaces) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseProcNetDev(text.str(), interfaces);
}

}  // namespace gpuaas
