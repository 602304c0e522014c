#include "agent/run_as.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace gpuaas {

std::string EntityUserName(const std::string& pattern, const std::string& entity) {
  std::string out = pattern;
  const std::string key = "{entity}";
  for (size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + entity.size())) {
    out.replace(at, key.size(), entity);
  }
  return out;
}

Result<ShimLaunch::Credentials> EntityCredentials(const std::string& pattern,
                                                  const std::map<std::string, std::string>& env) {
  auto it = env.find("GPUAAS_ENTITY");
  if (it == env.end() || it->second.empty()) {
    return InvalidArgument("the job has no entity (GPUAAS_ENTITY) to choose its Unix user");
  }
  const std::string name = EntityUserName(pattern, it->second);
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  const int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return Internal("cannot look up user '" + name + "': " + strerror(rc));
  if (found == nullptr) {
    return FailedPrecondition("no Unix user '" + name + "' for entity " + it->second +
                              " on this node (agent --run-as-user " + pattern + ")");
  }
  if (pw.pw_uid == 0) {
    return FailedPrecondition("user '" + name + "' is root: entity users must not be");
  }
  ShimLaunch::Credentials c;
  c.uid = pw.pw_uid;
  c.gid = pw.pw_gid;
  int n = 64;
  for (int tries = 0; tries < 4; ++tries) {
    c.groups.resize(static_cast<size_t>(n));
    int got = n;
    if (getgrouplist(name.c_str(), pw.pw_gid, c.groups.data(), &got) >= 0) {
      c.groups.resize(static_cast<size_t>(got));
      return c;
    }
    n = got > n ? got : n * 2;
  }
  return Internal("too many groups for user '" + name + "'");
}

Status MakeTraversable(const std::string& dir, const std::string& top) {
  namespace fs = std::filesystem;
  const fs::path stop = fs::path(top).lexically_normal();
  for (fs::path p = fs::path(dir).lexically_normal(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) {
      return Internal("cannot stat " + p.string() + ": " + strerror(errno));
    }
    if ((st.st_mode & S_IXOTH) == 0 && chmod(p.c_str(), (st.st_mode & 07777) | S_IXOTH) != 0) {
      return Internal("cannot open " + p.string() + " to the job's user: " + strerror(errno));
    }
    if (p == stop || p == p.parent_path()) break;
  }
  return Status::Ok();
}

}  // namespace gpuaas
