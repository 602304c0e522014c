#include "agent/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include "base/log.h"

namespace gpuaas {
namespace {

constexpr int64_t kCpuPeriodUs = 100'000;  // the kernel's default CFS period (100 ms)
constexpr int64_t kProbeBytes = 64 << 20;

std::string Errno(const std::string& what, int err) { return what + ": " + strerror(err); }

Status WriteValue(const std::string& path, const std::string& value) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal(Errno("cannot open " + path, errno));
  ssize_t n;
  while ((n = write(fd, value.data(), value.size())) < 0 && errno == EINTR) {
  }
  const int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return Internal(Errno("cannot write '" + value + "' to " + path, err));
  }
  return Status::Ok();
}

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<int64_t> ReadInt(const std::string& path) {
  auto text = ReadText(path);
  if (!text) return std::nullopt;
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The value of "KEY VALUE" in a flat keyed file (memory.events, memory.oom_control).
std::optional<int64_t> ReadKeyed(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::vector<pid_t> ReadPids(const std::string& procs) {
  std::vector<pid_t> out;
  std::ifstream in(procs);
  pid_t p = 0;
  while (in >> p) out.push_back(p);
  return out;
}

Status MakeDirs(const std::string& path) {
  std::string cur;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    cur = path.substr(0, slash);
    start = slash + 1;
    if (cur.empty()) continue;
    if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
      return Internal(Errno("cannot create " + cur, errno));
    }
  }
  return Status::Ok();
}

// A cgroup directory must not hold processes before a workload is started in it.
Status EnsureEmptyCgroup(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Internal(Errno("cannot create cgroup " + dir, errno));
  }
  if (!ReadPids(dir + "/cgroup.procs").empty()) {
    return FailedPrecondition("cgroup " + dir + " still has processes");
  }
  return Status::Ok();
}

Status RemoveDir(const std::string& dir, const std::function<void()>& kill_all) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return Status::Ok();
    if (errno != EBUSY) return Internal(Errno("cannot remove cgroup " + dir, errno));
    kill_all();  // processes left (e.g. escaped the job's process group): they die with it
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Internal("cannot remove cgroup " + dir + ": it keeps processes");
}

void KillPids(const std::vector<std::string>& procs_files) {
  for (const auto& f : procs_files) {
    for (pid_t p : ReadPids(f)) {
      if (p > 0) kill(p, SIGKILL);
    }
  }
}

std::string Join(const std::string& root, const std::string& name) {
  return root.empty() || root.back() == '/' ? root + name : root + "/" + name;
}

class CgroupsV2 final : public Cgroups {
 public:
  CgroupsV2(std::string root, std::string mount)
      : root_(std::move(root)), mount_(std::move(mount)) {}

  std::string Describe() const override { return "cgroup v2 (" + root_ + ")"; }

  Status Check() const override {
    GPUAAS_RETURN_IF_ERROR(MakeDirs(root_));
    // The memory and cpu controllers must be enabled on every level down to the root's
    // children: each parent lists them in cgroup.subtree_control.
    std::vector<std::string> levels{root_};
    std::string dir = root_.substr(0, root_.rfind('/'));
    while (!mount_.empty() && dir.size() > mount_.size() && dir.rfind(mount_, 0) == 0) {
      levels.insert(levels.begin(), dir);
      dir = dir.substr(0, dir.rfind('/'));
    }
    if (!mount_.empty()) levels.insert(levels.begin(), mount_);
    for (const auto& level : levels) {
      if (Status st = WriteValue(level + "/cgroup.subtree_control", "+memory +cpu"); !st.ok()) {
        return FailedPrecondition(st.message() +
                                  " (a cgroup with processes cannot delegate controllers: "
                                  "give the agent a root of its own, see docs/agent.md)");
      }
    }
    return Probe();
  }

  Result<std::vector<std::string>> Create(const std::string& name,
                                          const CgroupLimits& l) const override {
    const std::string dir = Join(root_, name);
    GPUAAS_RETURN_IF_ERROR(EnsureEmptyCgroup(dir));
    GPUAAS_RETURN_IF_ERROR(WriteValue(dir + "/memory.max",
                                      l.memory_bytes > 0 ? std::to_string(l.memory_bytes) : "max"));
    if (l.memory_bytes > 0) {
      // Without swap a job over its limit is OOM-killed instead of paging; a kernel without
      // swap accounting has no such file.
      if (access((dir + "/memory.swap.max").c_str(), F_OK) == 0) {
        GPUAAS_RETURN_IF_ERROR(WriteValue(dir + "/memory.swap.max", "0"));
      }
    }
    GPUAAS_RETURN_IF_ERROR(WriteValue(
        dir + "/cpu.max", (l.cpu_millis > 0 ? std::to_string(l.cpu_millis * kCpuPeriodUs / 1000)
                                            : std::string("max")) +
                              " " + std::to_string(kCpuPeriodUs)));
    return std::vector<std::string>{dir + "/cgroup.procs"};
  }

  CgroupOutcome Inspect(const std::string& name) const override {
    const std::string dir = Join(root_, name);
    CgroupOutcome o;
    o.memory_limit_bytes = ReadInt(dir + "/memory.max").value_or(0);  // "max" reads as 0
    o.oom_kills = ReadKeyed(dir + "/memory.events", "oom_kill").value_or(0);
    o.memory_failcnt = ReadKeyed(dir + "/memory.events", "max").value_or(0);
    o.peak_bytes = ReadInt(dir + "/memory.peak").value_or(0);
    return o;
  }

  void KillAll(const std::string& name) const override {
    const std::string dir = Join(root_, name);
    if (access((dir + "/cgroup.kill").c_str(), F_OK) == 0 &&
        WriteValue(dir + "/cgroup.kill", "1").ok()) {
      return;
    }
    KillPids({dir + "/cgroup.procs"});  // kernels before 5.14
  }

  Status Remove(const std::string& name) const override {
    return RemoveDir(Join(root_, name), [&] { KillAll(name); });
  }

  std::string PathOf(const std::string& name) const override { return Join(root_, name); }

 private:
  Status Probe() const {
    const std::string probe = "probe-" + std::to_string(getpid());
    auto files = Create(probe, {kProbeBytes, 1000});
    Status removed = Remove(probe);
    if (!files.ok()) return files.status();
    return removed;
  }

  const std::string root_;
  const std::string mount_;
};

class CgroupsV1 final : public Cgroups {
 public:
  CgroupsV1(std::string memory_root, std::string cpu_root)
      : memory_root_(std::move(memory_root)), cpu_root_(std::move(cpu_root)) {}

  std::string Describe() const override {
    return "cgroup v1 (memory " + memory_root_ + ", cpu " + cpu_root_ + ")";
  }

  Status Check() const override {
    GPUAAS_RETURN_IF_ERROR(MakeDirs(memory_root_));
    GPUAAS_RETURN_IF_ERROR(MakeDirs(cpu_root_));
    const std::string probe = "probe-" + std::to_string(getpid());
    auto files = Create(probe, {kProbeBytes, 1000});
    Status removed = Remove(probe);
    if (!files.ok()) return files.status();
    return removed;
  }

  Result<std::vector<std::string>> Create(const std::string& name,
                                          const CgroupLimits& l) const override {
    const std::string mem = Join(memory_root_, name);
    const std::string cpu = Join(cpu_root_, name);
    GPUAAS_RETURN_IF_ERROR(EnsureEmptyCgroup(mem));
    GPUAAS_RETURN_IF_ERROR(EnsureEmptyCgroup(cpu));
    const std::string limit = l.memory_bytes > 0 ? std::to_string(l.memory_bytes) : "-1";
    // memsw (memory + swap) must stay >= the memory limit: open it, set the limit, then close
    // it to the same value so that the job cannot swap its way past the limit. Kernels without
    // swap accounting have no memsw files.
    const bool memsw = access((mem + "/memory.memsw.limit_in_bytes").c_str(), F_OK) == 0;
    if (memsw) (void)WriteValue(mem + "/memory.memsw.limit_in_bytes", "-1");
    GPUAAS_RETURN_IF_ERROR(WriteValue(mem + "/memory.limit_in_bytes", limit));
    if (memsw && l.memory_bytes > 0) {
      (void)WriteValue(mem + "/memory.memsw.limit_in_bytes", limit);
    }
    GPUAAS_RETURN_IF_ERROR(WriteValue(cpu + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs)));
    GPUAAS_RETURN_IF_ERROR(
        WriteValue(cpu + "/cpu.cfs_quota_us",
                   l.cpu_millis > 0 ? std::to_string(l.cpu_millis * kCpuPeriodUs / 1000) : "-1"));
    return std::vector<std::string>{mem + "/cgroup.procs", cpu + "/cgroup.procs"};
  }

  CgroupOutcome Inspect(const std::string& name) const override {
    const std::string mem = Join(memory_root_, name);
    CgroupOutcome o;
    const int64_t limit = ReadInt(mem + "/memory.limit_in_bytes").value_or(0);
    // "No limit" reads as a huge page-rounded number (PAGE_COUNTER_MAX pages).
    o.memory_limit_bytes = limit > 0 && limit < (int64_t{1} << 60) ? limit : 0;
    o.oom_kills = ReadKeyed(mem + "/memory.oom_control", "oom_kill").value_or(-1);
    o.memory_failcnt = ReadInt(mem + "/memory.failcnt").value_or(0);
    o.peak_bytes = ReadInt(mem + "/memory.max_usage_in_bytes").value_or(0);
    return o;
  }

  void KillAll(const std::string& name) const override {
    KillPids({Join(memory_root_, name) + "/cgroup.procs", Join(cpu_root_, name) + "/cgroup.procs"});
  }

  Status Remove(const std::string& name) const override {
    auto kill = [&] { KillAll(name); };
    Status a = RemoveDir(Join(memory_root_, name), kill);
    Status b = RemoveDir(Join(cpu_root_, name), kill);
    return a.ok() ? b : a;
  }

  std::string PathOf(const std::string& name) const override { return Join(memory_root_, name); }

 private:
  const std::string memory_root_;
  const std::string cpu_root_;
};

bool HasWord(const std::string& list, const std::string& word, char sep) {
  std::stringstream s(list);
  std::string item;
  while (std::getline(s, item, sep)) {
    if (item == word) return true;
  }
  return false;
}

}  // namespace

bool CgroupOutcome::OomKilled(int signal) const {
  if (oom_kills >= 0) return oom_kills > 0;
  return signal == SIGKILL && memory_failcnt > 0;
}

std::unique_ptr<Cgroups> MakeCgroupsV2(std::string root) {
  return std::make_unique<CgroupsV2>(std::move(root), "");
}

std::unique_ptr<Cgroups> MakeCgroupsV1(std::string memory_root, std::string cpu_root) {
  return std::make_unique<CgroupsV1>(std::move(memory_root), std::move(cpu_root));
}

CgroupMounts ParseCgroupMounts(const std::string& mountinfo) {
  CgroupMounts m;
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, dev, root, mount_point;
    if (!(head >> id >> parent >> dev >> root >> mount_point)) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype, source, super;
    if (!(tail >> fstype >> source >> super)) continue;
    if (fstype == "cgroup2") {
      if (m.v2.empty()) m.v2 = mount_point;
    } else if (fstype == "cgroup") {
      if (HasWord(super, "memory", ',') && m.v1_memory.empty()) m.v1_memory = mount_point;
      if (HasWord(super, "cpu", ',') && m.v1_cpu.empty()) m.v1_cpu = mount_point;
    }
  }
  return m;
}

Result<std::unique_ptr<Cgroups>> OpenCgroups(const std::string& relative_root,
                                             const std::string& mountinfo_path) {
  std::string rel = relative_root;
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (rel.empty() || rel.find("..") != std::string::npos) {
    return InvalidArgument("cgroup root '" + relative_root +
                           "' must be a relative path like gpuaas/node-1");
  }
  auto text = ReadText(mountinfo_path);
  if (!text) return FailedPrecondition("cannot read " + mountinfo_path);
  const CgroupMounts m = ParseCgroupMounts(*text);
  std::unique_ptr<Cgroups> cg;
  std::string missing;
  if (!m.v2.empty()) {
    const std::string controllers = ReadText(m.v2 + "/cgroup.controllers").value_or("");
    std::string words = controllers;
    for (char& c : words) {
      if (c == '\n') c = ' ';
    }
    if (HasWord(words, "memory", ' ') && HasWord(words, "cpu", ' ')) {
      cg = std::make_unique<CgroupsV2>(Join(m.v2, rel), m.v2);
    } else {
      missing = "the cgroup2 mount " + m.v2 + " has no memory/cpu controllers (hybrid layout)";
    }
  }
  if (!cg && !m.v1_memory.empty() && !m.v1_cpu.empty()) {
    cg = MakeCgroupsV1(Join(m.v1_memory, rel), Join(m.v1_cpu, rel));
  }
  if (!cg) {
    if (!missing.empty()) missing += "; ";
    missing += m.v1_memory.empty() || m.v1_cpu.empty()
                   ? "no cgroup v1 memory and cpu hierarchies are mounted"
                   : "";
    return FailedPrecondition("no usable cgroup hierarchy: " + missing);
  }
  if (Status st = cg->Check(); !st.ok()) {
    return FailedPrecondition(cg->Describe() + " is not usable: " + st.message());
  }
  return cg;
}

bool ParseCgroupMode(const std::string& text, CgroupMode* mode) {
  if (text == "off") {
    *mode = CgroupMode::kOff;
  } else if (text == "auto") {
    *mode = CgroupMode::kAuto;
  } else if (text == "required") {
    *mode = CgroupMode::kRequired;
  } else {
    return false;
  }
  return true;
}

Result<std::shared_ptr<const Cgroups>> CgroupsForMode(CgroupMode mode,
                                                      const std::string& relative_root,
                                                      const std::string& who) {
  if (mode == CgroupMode::kOff) {
    GLOG_WARN("agent {}: cgroups are off: workloads run WITHOUT memory and CPU limits", who);
    return std::shared_ptr<const Cgroups>();
  }
  auto cg = OpenCgroups(relative_root);
  if (cg.ok()) {
    GLOG_INFO("agent {}: workload memory/CPU limits through {}", who, (*cg)->Describe());
    return std::shared_ptr<const Cgroups>(std::move(*cg));
  }
  if (mode == CgroupMode::kRequired) {
    return FailedPrecondition(
        "cgroups are required for workload limits but " + cg.status().message() +
        " (run the agent as root with the memory and cpu controllers available, or give "
        "--cgroup-root a delegated subtree; --cgroups=auto runs without limits instead)");
  }
  GLOG_WARN(
      "agent {}: cgroups are not usable ({}): workloads run WITHOUT memory and CPU limits "
      "(cgroups=auto)",
      who, cg.status().message());
  return std::shared_ptr<const Cgroups>();
}

std::string FormatMemoryLimit(int64_t bytes) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  constexpr int64_t kGiB = int64_t{1} << 30;
  char buf[48];
  if (bytes >= kGiB) {
    if (bytes % kGiB == 0) {
      std::snprintf(buf, sizeof buf, "%lld GiB", static_cast<long long>(bytes / kGiB));
    } else {
      std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / kGiB);
    }
  } else {
    std::snprintf(buf, sizeof buf, "%lld MiB", static_cast<long long>((bytes + kMiB - 1) / kMiB));
  }
  return buf;
}

}  // namespace gpuaas
