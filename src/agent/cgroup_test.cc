// Cgroups: the mountinfo parser and both drivers against plain directories standing in for the
// cgroup filesystems (what they write, what they read back), then the real thing on this
// machine's hierarchy (v1 here): the CPU quota as written, and a workload over its memory limit
// killed by the kernel's OOM killer and reported as such by the Supervisor.
#include "agent/cgroup.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "agent/supervisor.h"
#include "base/clock.h"

namespace gpuaas {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string TempDir() {
  char tmpl[] = "/tmp/gpuaas-cgroup-test-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl), nullptr);
  return tmpl;
}

bool WaitFor(const std::function<bool()>& cond, int timeout_ms = 30'000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// This machine's layout (hybrid: v1 controllers, an empty cgroup2 at /sys/fs/cgroup/unified).
constexpr char kHybrid[] =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr char kUnified[] =
    "24 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

TEST(CgroupMountsTest, FindsTheV1ControllersAndTheV2Mount) {
  const CgroupMounts h = ParseCgroupMounts(kHybrid);
  EXPECT_EQ(h.v1_memory, "/sys/fs/cgroup/memory");
  EXPECT_EQ(h.v1_cpu, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(h.v2, "/sys/fs/cgroup/unified");
  const CgroupMounts u = ParseCgroupMounts(kUnified);
  EXPECT_EQ(u.v2, "/sys/fs/cgroup");
  EXPECT_EQ(u.v1_memory, "");
  EXPECT_EQ(u.v1_cpu, "");
}

TEST(CgroupMountsTest, OpenRefusesARootOutsideTheHierarchy) {
  EXPECT_FALSE(OpenCgroups("../etc").ok());
  EXPECT_FALSE(OpenCgroups("/").ok());
}

TEST(CgroupFormatTest, MemoryLimitsReadLikeTheJobReason) {
  EXPECT_EQ(FormatMemoryLimit(int64_t{64} << 20), "64 MiB");
  EXPECT_EQ(FormatMemoryLimit(int64_t{2} << 30), "2 GiB");
  EXPECT_EQ(FormatMemoryLimit(int64_t{3} << 29), "1.5 GiB");
}

TEST(CgroupModeTest, ParsesTheThreeModes) {
  CgroupMode m = CgroupMode::kOff;
  EXPECT_TRUE(ParseCgroupMode("required", &m));
  EXPECT_EQ(m, CgroupMode::kRequired);
  EXPECT_TRUE(ParseCgroupMode("auto", &m));
  EXPECT_EQ(m, CgroupMode::kAuto);
  EXPECT_TRUE(ParseCgroupMode("off", &m));
  EXPECT_EQ(m, CgroupMode::kOff);
  EXPECT_FALSE(ParseCgroupMode("on", &m));
}

TEST(CgroupsV2Test, WritesTheLimitsAndReadsTheOomCountOfAStandIn) {
  const std::string root = TempDir();
  auto cg = MakeCgroupsV2(root + "/gpuaas");
  ASSERT_TRUE(fs::create_directories(root + "/gpuaas/a7"));
  Write(root + "/gpuaas/a7/memory.swap.max", "max\n");  // a kernel with swap accounting
  auto procs = cg->Create("a7", {int64_t{2} << 30, 1500});
  ASSERT_TRUE(procs.ok()) << procs.status().message();
  EXPECT_EQ(*procs, std::vector<std::string>{root + "/gpuaas/a7/cgroup.procs"});
  EXPECT_EQ(Read(root + "/gpuaas/a7/memory.max"), "2147483648");
  EXPECT_EQ(Read(root + "/gpuaas/a7/memory.swap.max"), "0");
  EXPECT_EQ(Read(root + "/gpuaas/a7/cpu.max"), "150000 100000");

  // No limits: "max" for both.
  ASSERT_TRUE(cg->Create("a8", {}).ok());
  EXPECT_EQ(Read(root + "/gpuaas/a8/memory.max"), "max");
  EXPECT_EQ(Read(root + "/gpuaas/a8/cpu.max"), "max 100000");

  Write(root + "/gpuaas/a7/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
  Write(root + "/gpuaas/a7/memory.peak", "2147483648\n");
  const CgroupOutcome o = cg->Inspect("a7");
  EXPECT_EQ(o.memory_limit_bytes, int64_t{2} << 30);
  EXPECT_EQ(o.oom_kills, 1);
  EXPECT_EQ(o.memory_failcnt, 12);
  EXPECT_EQ(o.peak_bytes, int64_t{2} << 30);
  EXPECT_TRUE(o.OomKilled(SIGKILL));

  Write(root + "/gpuaas/a8/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  EXPECT_FALSE(cg->Inspect("a8").OomKilled(SIGKILL));  // killed, but not by the OOM killer
  EXPECT_EQ(cg->Inspect("a8").memory_limit_bytes, 0);

  // A cgroup that still holds processes is not reused.
  Write(root + "/gpuaas/a8/cgroup.procs", "4242\n");
  EXPECT_FALSE(cg->Create("a8", {}).ok());
  fs::remove_all(root);
}

TEST(CgroupsV1Test, WritesTheLimitsInBothHierarchiesOfAStandIn) {
  const std::string root = TempDir();
  auto cg = MakeCgroupsV1(root + "/memory/gpuaas", root + "/cpu/gpuaas");
  ASSERT_TRUE(fs::create_directories(root + "/memory/gpuaas/a3"));
  ASSERT_TRUE(fs::create_directories(root + "/cpu/gpuaas/a3"));
  auto procs = cg->Create("a3", {int64_t{1} << 30, 2000});
  ASSERT_TRUE(procs.ok()) << procs.status().message();
  EXPECT_EQ(*procs, (std::vector<std::string>{root + "/memory/gpuaas/a3/cgroup.procs",
                                              root + "/cpu/gpuaas/a3/cgroup.procs"}));
  EXPECT_EQ(Read(root + "/memory/gpuaas/a3/memory.limit_in_bytes"), "1073741824");
  EXPECT_EQ(Read(root + "/cpu/gpuaas/a3/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Read(root + "/cpu/gpuaas/a3/cpu.cfs_quota_us"), "200000");

  // Kernels >= 4.13 count OOM kills in memory.oom_control.
  Write(root + "/memory/gpuaas/a3/memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  Write(root + "/memory/gpuaas/a3/memory.failcnt", "31\n");
  EXPECT_EQ(cg->Inspect("a3").oom_kills, 2);
  EXPECT_TRUE(cg->Inspect("a3").OomKilled(0));
  // Older ones do not: the limit was hit and the job died of SIGKILL.
  Write(root + "/memory/gpuaas/a3/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
  EXPECT_EQ(cg->Inspect("a3").oom_kills, -1);
  EXPECT_TRUE(cg->Inspect("a3").OomKilled(SIGKILL));
  EXPECT_FALSE(cg->Inspect("a3").OomKilled(SIGTERM));
  Write(root + "/memory/gpuaas/a3/memory.failcnt", "0\n");
  EXPECT_FALSE(cg->Inspect("a3").OomKilled(SIGKILL));
  fs::remove_all(root);
}

// ---- the real hierarchy of this machine (root needed; skipped, saying why, elsewhere) ----

class RealCgroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    relative_ = "gpuaas-test-" + std::to_string(getpid());
    auto cg = OpenCgroups(relative_);
    if (!cg.ok()) GTEST_SKIP() << "no writable cgroups here: " << cg.status().message();
    cg_ = std::shared_ptr<const Cgroups>(std::move(*cg));
    dir_ = TempDir();
  }
  void TearDown() override {
    if (sup_) {
      sup_->StopAll();
      WaitFor([&] {
        for (const auto& w : sup_->List()) {
          if (!w.final()) return false;
        }
        return true;
      });
      for (const auto& w : sup_->List()) (void)sup_->Forget(w.allocation);
      sup_.reset();
    }
    if (!dir_.empty()) fs::remove_all(dir_);
    // The test's root in every hierarchy (empty once the workloads are forgotten).
    std::ifstream in("/proc/self/mountinfo");
    std::ostringstream s;
    s << in.rdbuf();
    const CgroupMounts m = ParseCgroupMounts(s.str());
    for (const auto& mount : {m.v2, m.v1_memory, m.v1_cpu}) {
      if (!mount.empty()) rmdir((mount + "/" + relative_).c_str());
    }
  }

  Supervisor& Open() {
    SupervisorOptions o;
    o.state_dir = dir_;
    o.cgroups = cg_;
    sup_ = std::make_unique<Supervisor>(o, clock_);
    EXPECT_TRUE(sup_->Open().ok());
    return *sup_;
  }

  WorkloadStatus Run(AllocationId alloc, const std::string& script, int64_t memory_bytes) {
    WorkloadSpec s;
    s.job = 100 + alloc;
    s.allocation = alloc;
    s.command = {"sh", "-c", script};
    s.memory_bytes = memory_bytes;
    s.cpu_millis = 1000;
    s.grace_ms = 300;
    EXPECT_TRUE(sup_->Start(s).ok());
    EXPECT_TRUE(WaitFor([&] {
      auto st = sup_->Get(alloc);
      return st && st->final();
    }));
    return *sup_->Get(alloc);
  }

  std::string Log(AllocationId alloc) {
    auto log = sup_->ReadLog(alloc, 0, 1 << 20);
    return log.ok() ? *log : "";
  }

  std::string relative_;
  std::string dir_;
  std::shared_ptr<const Cgroups> cg_;
  SystemClock clock_;
  std::unique_ptr<Supervisor> sup_;
};

TEST_F(RealCgroupsTest, WritesTheCpuQuotaAndMemoryLimitTheKernelKeeps) {
  auto procs = cg_->Create("q1", {int64_t{256} << 20, 1500});
  ASSERT_TRUE(procs.ok()) << procs.status().message();
  const std::string mem = cg_->PathOf("q1");
  if (cg_->Describe().rfind("cgroup v1", 0) == 0) {
    ASSERT_EQ(procs->size(), 2u);
    const std::string cpu = fs::path((*procs)[1]).parent_path().string();
    EXPECT_EQ(Read(cpu + "/cpu.cfs_quota_us"), "150000\n");
    EXPECT_EQ(Read(cpu + "/cpu.cfs_period_us"), "100000\n");
    EXPECT_EQ(Read(mem + "/memory.limit_in_bytes"), "268435456\n");
  } else {
    EXPECT_EQ(Read(mem + "/cpu.max"), "150000 100000\n");
    EXPECT_EQ(Read(mem + "/memory.max"), "268435456\n");
  }
  EXPECT_EQ(cg_->Inspect("q1").memory_limit_bytes, int64_t{256} << 20);
  EXPECT_TRUE(cg_->Remove("q1").ok());
  EXPECT_FALSE(fs::exists(mem));
}

TEST_F(RealCgroupsTest, AJobOverItsMemoryLimitIsKilledAndReportedOutOfMemory) {
  Open();
  // 64 MiB limit, 512 MiB touched: the kernel's OOM killer ends it.
  const WorkloadStatus st =
      Run(1, "cat /proc/self/cgroup; exec python3 -c 'b = bytearray(512 << 20); print(len(b))'",
          int64_t{64} << 20);
  EXPECT_EQ(st.state, WorkloadState::kExited);
  EXPECT_EQ(st.signal, SIGKILL);
  EXPECT_EQ(st.exit_code, 128 + SIGKILL);
  EXPECT_EQ(st.message, "out of memory (limit 64 MiB)");
  // The job ran inside its cgroup from the start (its first process joined before execve).
  EXPECT_NE(Log(1).find(relative_ + "/a1"), std::string::npos) << Log(1);
  EXPECT_TRUE(cg_->Inspect("a1").OomKilled(SIGKILL));

  // The verdict is kept in the exit file: a restarted supervisor reports it the same.
  sup_->Close();
  sup_.reset();
  Open();
  auto again = sup_->Get(1);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->message, "out of memory (limit 64 MiB)");

  // Forgetting the workload removes its cgroup.
  const std::string path = cg_->PathOf("a1");
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(sup_->Forget(1).ok());
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(RealCgroupsTest, AJobWithinItsLimitOrKilledOtherwiseIsNotOutOfMemory) {
  Open();
  const WorkloadStatus ok =
      Run(2, "python3 -c 'b = bytearray(16 << 20); print(len(b))'", int64_t{128} << 20);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.message, "");
  EXPECT_NE(Log(2).find("16777216"), std::string::npos);
  const WorkloadStatus killed = Run(3, "kill -9 $$", int64_t{128} << 20);
  EXPECT_EQ(killed.signal, SIGKILL);
  EXPECT_EQ(killed.message, "");
}

TEST_F(RealCgroupsTest, WhatTheJobLeftInItsCgroupDiesWithIt) {
  Open();
  // A child that leaves the job's process group (setsid) still dies when the job ends.
  const std::string pidfile = dir_ + "/escaped.pid";
  const WorkloadStatus st =
      Run(4, "setsid sh -c 'echo $$ > " + pidfile + "; exec sleep 300' & sleep 0.3; exit 0", 0);
  EXPECT_EQ(st.exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return !Read(pidfile).empty(); }));
  const pid_t escaped = std::stoi(Read(pidfile));
  EXPECT_TRUE(WaitFor([&] {
    auto info = ReadProcInfo(escaped);
    return !info || info->state == 'Z';
  })) << "pid "
      << escaped << " survived its job";
}

}  // namespace
}  // namespace gpuaas
