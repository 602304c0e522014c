#include "agent/container_network.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace gpuaas {
namespace {

// The target of a /proc/.../ns/net link ("net:[4026531992]"), "" when unreadable.
std::string NamespaceOf(const std::string& link) {
  char buf[128];
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

Result<NetCounters> ReadContainerNetwork(const std::string& pidfile, const std::string& proc) {
  std::ifstream in(pidfile);
  if (!in) return NotFound("no container pid file " + pidfile + " (not started yet?)");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  long pid = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, pid);
  if (ec != std::errc() || pid <= 0 || (p != end && *p != '\n')) {
    return InvalidArgument("container pid file " + pidfile + " holds no pid");
  }
  const std::string dir = proc + "/" + std::to_string(pid);
  const std::string ns = NamespaceOf(dir + "/ns/net");
  if (ns.empty()) return NotFound("container process " + std::to_string(pid) + " is gone");
  if (ns == NamespaceOf(proc + "/self/ns/net")) {
    return FailedPrecondition("container process " + std::to_string(pid) +
                              " shares the agent's network namespace");
  }
  return ReadNetCounters(dir + "/net/dev", {});
}

}  // namespace gpuaas
