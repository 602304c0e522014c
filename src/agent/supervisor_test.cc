#include "agent/supervisor.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace gpuaas {
namespace {

namespace fs = std::filesystem;

// Waits (bounded, generously) for a condition driven by real processes.
bool WaitFor(const std::function<bool()>& cond, int timeout_ms = 20'000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

bool ProcessGone(pid_t pid) {
  auto info = ReadProcInfo(pid);
  return !info || info->state == 'Z';
}

WorkloadSpec Spec(AllocationId alloc, std::string script) {
  WorkloadSpec s;
  s.job = 100 + alloc;
  s.allocation = alloc;
  s.command = {"sh", "-c", std::move(script)};
  s.grace_ms = 300;
  return s;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-supervisor-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (sup_) sup_->StopAll();
    if (sup_) {
      WaitFor([&] {
        for (const auto& w : sup_->List()) {
          if (!w.final()) return false;
        }
        return true;
      });
    }
    sup_.reset();
    fs::remove_all(dir_);
  }

  Supervisor& Open(const Clock& clock, int64_t log_cap = 8 << 20) {
    SupervisorOptions o;
    o.state_dir = dir_;
    o.log_cap_bytes = log_cap;
    o.on_final = [this] { ++finals_; };
    o.run_as_user = run_as_user_;
    sup_ = std::make_unique<Supervisor>(o, clock);
    EXPECT_TRUE(sup_->Open().ok());
    return *sup_;
  }

  WorkloadStatus WaitFinal(AllocationId alloc) {
    EXPECT_TRUE(WaitFor([&] {
      auto s = sup_->Get(alloc);
      return s && s->final();
    })) << "allocation "
        << alloc << " did not finish";
    return *sup_->Get(alloc);
  }

  std::string Log(AllocationId alloc) {
    auto log = sup_->ReadLog(alloc, 0, 1 << 24);
    EXPECT_TRUE(log.ok());
    return log.ok() ? *log : "";
  }

  std::string WorkFile(AllocationId alloc, const char* name) {
    return dir_ + "/workloads/" + std::to_string(alloc) + "/work/" + name;
  }

  std::string dir_;
  std::string run_as_user_;
  SystemClock system_clock_;
  ManualClock manual_clock_{1'000'000};
  std::atomic<int> finals_{0};
  std::unique_ptr<Supervisor> sup_;
};

TEST_F(SupervisorTest, LogsStdoutAndStderrWithTheJobEnvironment) {
  Supervisor& sup = Open(system_clock_);
  WorkloadSpec spec = Spec(1,
                           "echo out; echo err >&2; echo \"cvd=$CUDA_VISIBLE_DEVICES "
                           "job=$GPUAAS_JOB_ID ent=$GPUAAS_ENTITY\"; pwd");
  spec.gpu_ids = {0, 2};
  spec.env = {{"GPUAAS_ENTITY", "acme"}};
  ASSERT_TRUE(sup.Start(spec).ok());
  const WorkloadStatus st = WaitFinal(1);
  EXPECT_EQ(st.state, WorkloadState::kExited);
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_EQ(st.signal, 0);
  EXPECT_FALSE(st.stopped);
  EXPECT_FALSE(st.timed_out);
  EXPECT_EQ(st.job, 101);
  EXPECT_GE(st.finished_at, st.started_at);
  const std::string log = Log(1);
  EXPECT_NE(log.find("out\n"), std::string::npos) << log;
  EXPECT_NE(log.find("err\n"), std::string::npos) << log;
  EXPECT_NE(log.find("cvd=0,2 job=101 ent=acme\n"), std::string::npos) << log;
  EXPECT_NE(log.find("/workloads/1/work\n"), std::string::npos) << log;
  EXPECT_GE(finals_.load(), 1);
  // ReadLog pages through the same bytes.
  auto tail = sup.ReadLog(1, 4, 4);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, log.substr(4, 4));
  EXPECT_EQ(*sup.ReadLog(1, static_cast<int64_t>(log.size()), 100), "");
  EXPECT_FALSE(sup.ReadLog(99, 0, 10).ok());
}

// Root only (switching users needs it): a throwaway system user made for the test and removed
// after; the job runs as it, in a working directory it owns; a missing user is a clear failure.
TEST_F(SupervisorTest, RunsTheJobAsItsEntitysUser) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  if (std::system("command -v useradd >/dev/null 2>&1 && command -v userdel >/dev/null 2>&1")) {
    GTEST_SKIP() << "no useradd/userdel on this machine";
  }
  const std::string entity = "sup" + std::to_string(getpid());
  const std::string user = "gpuaas-" + entity;
  ASSERT_EQ(
      std::system(("useradd --system --no-create-home --shell /usr/sbin/nologin " + user).c_str()),
      0);
  struct RemoveUser {
    std::string name;
    ~RemoveUser() { (void)std::system(("userdel " + name + " 2>/dev/null").c_str()); }
  } remove{user};
  const passwd* pw = getpwnam(user.c_str());
  ASSERT_NE(pw, nullptr);
  const uid_t uid = pw->pw_uid;

  run_as_user_ = "gpuaas-{entity}";
  Supervisor& sup = Open(system_clock_);
  WorkloadSpec s = Spec(1, "id -u; echo hi > mine.txt && echo wrote");
  s.env["GPUAAS_ENTITY"] = entity;
  ASSERT_TRUE(sup.Start(s).ok());
  const WorkloadStatus st = WaitFinal(1);
  const std::string log = Log(1);
  EXPECT_EQ(st.exit_code, 0) << st.message << log;
  EXPECT_EQ(log, std::to_string(uid) + "\nwrote\n");
  struct stat f {};
  ASSERT_EQ(stat(WorkFile(1, "mine.txt").c_str(), &f), 0);
  EXPECT_EQ(f.st_uid, uid);

  WorkloadSpec missing = Spec(2, "true");
  missing.env["GPUAAS_ENTITY"] = "nobody-here";
  ASSERT_TRUE(sup.Start(missing).ok());
  const WorkloadStatus m = WaitFinal(2);
  EXPECT_EQ(m.state, WorkloadState::kFailedToStart);
  EXPECT_NE(m.message.find("no Unix user 'gpuaas-nobody-here'"), std::string::npos) << m.message;
}

TEST_F(SupervisorTest, RecordsExitCodes) {
  Supervisor& sup = Open(system_clock_);
  ASSERT_TRUE(sup.Start(Spec(1, "exit 0")).ok());
  ASSERT_TRUE(sup.Start(Spec(2, "exit 3")).ok());
  EXPECT_EQ(WaitFinal(1).exit_code, 0);
  const WorkloadStatus st = WaitFinal(2);
  EXPECT_EQ(st.state, WorkloadState::kExited);
  EXPECT_EQ(st.exit_code, 3);
  EXPECT_EQ(st.signal, 0);
  // Starting a known allocation again is a no-op.
  ASSERT_TRUE(sup.Start(Spec(2, "exit 5")).ok());
  EXPECT_EQ(sup.Get(2)->exit_code, 3);
  EXPECT_EQ(sup.List().size(), 2u);
}

TEST_F(SupervisorTest, StopKillsTheWholeProcessGroup) {
  Supervisor& sup = Open(system_clock_);
  ASSERT_TRUE(sup.Start(Spec(1,
                             "sleep 100 & echo $! >> pids; sleep 100 & echo $! >> pids; "
                             "echo ready >> pids; wait"))
                  .ok());
  std::vector<pid_t> pids;
  ASSERT_TRUE(WaitFor([&] {
    std::ifstream in(WorkFile(1, "pids"));
    std::string a, b, ready;
    if (!(in >> a >> b >> ready)) return false;
    pids = {std::stoi(a), std::stoi(b)};
    return true;
  }));
  EXPECT_FALSE(ProcessGone(pids[0]));
  EXPECT_FALSE(ProcessGone(pids[1]));
  sup.Stop(1);
  const WorkloadStatus st = WaitFinal(1);
  EXPECT_TRUE(st.stopped);
  EXPECT_FALSE(st.timed_out);
  EXPECT_EQ(st.signal, SIGTERM);
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(pids[0]) && ProcessGone(pids[1]); }));
}

TEST_F(SupervisorTest, KillsAJobThatIgnoresSigtermAfterItsGrace) {
  ManualClock& clock = manual_clock_;  // outlives the supervisor (TearDown uses it)
  Supervisor& sup = Open(clock);
  ASSERT_TRUE(sup.Start(Spec(1, "trap '' TERM; echo ready; while :; do sleep 0.05; done")).ok());
  ASSERT_TRUE(WaitFor([&] { return Log(1).find("ready") != std::string::npos; }));
  sup.Stop(1);
  // The grace has not passed on the clock: SIGTERM is ignored, so the job keeps running.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sup.PollOnce();
  EXPECT_FALSE(sup.Get(1)->final());
  clock.Advance(300);
  const WorkloadStatus st = WaitFinal(1);
  EXPECT_EQ(st.signal, SIGKILL);
  EXPECT_EQ(st.exit_code, 128 + SIGKILL);
  EXPECT_TRUE(st.stopped);
}

TEST_F(SupervisorTest, AStopWithItsOwnGraceOverridesTheSpecsGrace) {
  ManualClock& clock = manual_clock_;  // outlives the supervisor (TearDown uses it)
  Supervisor& sup = Open(clock);
  ASSERT_TRUE(sup.Start(Spec(1, "trap '' TERM; echo ready; while :; do sleep 0.05; done")).ok());
  ASSERT_TRUE(WaitFor([&] { return Log(1).find("ready") != std::string::npos; }));
  sup.Stop(1, /*grace_ms=*/5'000);  // e.g. a preemption grace; the spec says 300 ms
  sup.Stop(1, /*grace_ms=*/0);      // a repeated stop keeps the grace of the one under way
  clock.Advance(300);               // the spec's grace is over, this stop's is not
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  sup.PollOnce();
  EXPECT_FALSE(sup.Get(1)->final());
  clock.Advance(4'699);
  sup.PollOnce();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  sup.PollOnce();
  EXPECT_FALSE(sup.Get(1)->final());
  clock.Advance(1);
  const WorkloadStatus st = WaitFinal(1);
  EXPECT_EQ(st.signal, SIGKILL);
  EXPECT_TRUE(st.stopped);
}

TEST_F(SupervisorTest, AStopWithoutAGraceUsesTheSpecsGrace) {
  ManualClock& clock = manual_clock_;  // outlives the supervisor (TearDown uses it)
  Supervisor& sup = Open(clock);
  ASSERT_TRUE(sup.Start(Spec(1, "trap '' TERM; echo ready; while :; do sleep 0.05; done")).ok());
  ASSERT_TRUE(WaitFor([&] { return Log(1).find("ready") != std::string::npos; }));
  sup.Stop(1, /*grace_ms=*/-1);  // what the agent passes when the answer names no grace
  clock.Advance(299);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  sup.PollOnce();
  EXPECT_FALSE(sup.Get(1)->final());
  clock.Advance(1);
  EXPECT_EQ(WaitFinal(1).signal, SIGKILL);
}

TEST_F(SupervisorTest, WalltimeStopsTheJobAsTimedOut) {
  ManualClock& clock = manual_clock_;  // outlives the supervisor (TearDown uses it)
  Supervisor& sup = Open(clock);
  WorkloadSpec spec = Spec(1, "echo started; exec sleep 100");
  spec.walltime_s = 60;
  ASSERT_TRUE(sup.Start(spec).ok());
  ASSERT_TRUE(WaitFor([&] { return Log(1).find("started") != std::string::npos; }));
  clock.Advance(59'999);
  sup.PollOnce();
  EXPECT_FALSE(sup.Get(1)->final());
  clock.Advance(1);
  const WorkloadStatus st = WaitFinal(1);
  EXPECT_TRUE(st.timed_out);
  EXPECT_FALSE(st.stopped);
  EXPECT_EQ(st.signal, SIGTERM);
}

TEST_F(SupervisorTest, CapsTheLogAndCountsDroppedBytes) {
  Supervisor& sup = Open(system_clock_, /*log_cap=*/1000);
  ASSERT_TRUE(sup.Start(Spec(1, "head -c 5000 /dev/zero | tr '\\0' x")).ok());
  EXPECT_EQ(WaitFinal(1).exit_code, 0);
  EXPECT_EQ(Log(1), std::string(1000, 'x') + "\n[log truncated: 4000 bytes dropped]\n");
}

TEST_F(SupervisorTest, ReportsACommandThatCannotStart) {
  Supervisor& sup = Open(system_clock_);
  WorkloadSpec spec = Spec(1, "");
  spec.command = {"no-such-command-gpuaas", "x"};
  ASSERT_TRUE(sup.Start(spec).ok());
  const WorkloadStatus st = *sup.Get(1);
  EXPECT_EQ(st.state, WorkloadState::kFailedToStart);
  EXPECT_EQ(st.message, "command not found: no-such-command-gpuaas");
  EXPECT_EQ(finals_.load(), 1);
  const std::string plain = dir_ + "/plain.txt";  // exists, not executable
  std::ofstream(plain) << "just text\n";
  fs::permissions(plain, fs::perms::owner_read | fs::perms::owner_write);
  spec.allocation = 2;
  spec.command = {plain};
  ASSERT_TRUE(sup.Start(spec).ok());
  EXPECT_EQ(sup.Get(2)->state, WorkloadState::kFailedToStart);
  EXPECT_EQ(sup.Get(2)->message, "permission denied: " + plain);
  const std::string garbage = dir_ + "/garbage.bin";  // executable, but no format execve knows
  std::ofstream(garbage) << std::string("\x01\x02\x03\x04", 4);
  fs::permissions(garbage, fs::perms::owner_all);
  spec.allocation = 3;
  spec.command = {garbage};
  ASSERT_TRUE(sup.Start(spec).ok());
  EXPECT_EQ(sup.Get(3)->state, WorkloadState::kFailedToStart);
  EXPECT_EQ(sup.Get(3)->message, "cannot execute " + garbage + ": Exec format error");
  EXPECT_EQ(finals_.load(), 3);
  // The failure survives a restart.
  sup_.reset();
  Supervisor& again = Open(system_clock_);
  EXPECT_EQ(again.Get(1)->state, WorkloadState::kFailedToStart);
  EXPECT_EQ(again.Get(1)->message, "command not found: no-such-command-gpuaas");
}

TEST_F(SupervisorTest, ANewSupervisorAdoptsRunningWorkloads) {
  Open(system_clock_);
  ASSERT_TRUE(
      sup_->Start(Spec(1, "echo one; while [ ! -f go ]; do sleep 0.02; done; exit 7")).ok());
  ASSERT_TRUE(sup_->Start(Spec(2, "exec sleep 100")).ok());
  ASSERT_TRUE(WaitFor([&] { return Log(1).find("one") != std::string::npos; }));
  sup_.reset();  // the supervisor goes away, the shims do not

  Supervisor& sup = Open(system_clock_);
  ASSERT_EQ(sup.List().size(), 2u);
  sup.PollOnce();
  EXPECT_EQ(sup.Get(1)->state, WorkloadState::kRunning);
  EXPECT_EQ(sup.Get(2)->state, WorkloadState::kRunning);
  std::ofstream(WorkFile(1, "go")).put('\n');
  const WorkloadStatus st = WaitFinal(1);
  EXPECT_EQ(st.exit_code, 7);
  EXPECT_FALSE(st.stopped);
  EXPECT_EQ(Log(1), "one\n");
  sup.Stop(2);  // an adopted workload can be stopped like any other
  EXPECT_TRUE(WaitFinal(2).stopped);
}

TEST_F(SupervisorTest, ReportsAWorkloadThatFinishedWhileNoSupervisorRan) {
  Open(system_clock_);
  ASSERT_TRUE(sup_->Start(Spec(1, "while [ ! -f go ]; do sleep 0.02; done; exit 4")).ok());
  sup_.reset();
  std::ofstream(WorkFile(1, "go")).put('\n');
  const std::string exit_file = dir_ + "/workloads/1/exit";
  ASSERT_TRUE(WaitFor([&] { return fs::exists(exit_file); }));

  Supervisor& sup = Open(system_clock_);
  const WorkloadStatus st = *sup.Get(1);
  EXPECT_EQ(st.state, WorkloadState::kExited);
  EXPECT_EQ(st.exit_code, 4);
  EXPECT_EQ(st.job, 101);
}

TEST_F(SupervisorTest, ReportsAShimThatDiedWithoutAnExitFileAsLost) {
  Supervisor& sup = Open(system_clock_);
  ASSERT_TRUE(sup.Start(Spec(1, "exec sleep 100")).ok());
  std::ifstream in(dir_ + "/workloads/1/pid");
  pid_t shim = 0, pgid = 0;
  uint64_t start = 0;
  ASSERT_TRUE(in >> shim >> start >> pgid);
  ASSERT_EQ(kill(shim, SIGKILL), 0);
  const WorkloadStatus st = WaitFinal(1);
  EXPECT_EQ(st.message, "supervisor lost the process");
  kill(-pgid, SIGKILL);  // the orphaned job
}

// An agent killed after writing a spec and before any shim ran (or recorded) the job: the next
// agent waits a little for a record, then reports the job interrupted (it never ran).
TEST_F(SupervisorTest, AStartTheAgentDidNotFinishIsReportedInterruptedAfterAGrace) {
  const WorkloadDir dir(dir_ + "/workloads", 5);
  ASSERT_TRUE(dir.Create().ok());
  ASSERT_TRUE(dir.WriteSpec(Spec(5, "exit 0"), manual_clock_.Now()).ok());
  ManualClock& clock = manual_clock_;  // outlives the supervisor (TearDown uses it)
  Supervisor& sup = Open(clock);
  sup.PollOnce();
  EXPECT_EQ(sup.Get(5)->state, WorkloadState::kRunning);  // a shim may still record it
  clock.Advance(14'999);
  sup.PollOnce();
  EXPECT_EQ(sup.Get(5)->state, WorkloadState::kRunning);
  clock.Advance(1);
  sup.PollOnce();
  WorkloadStatus st = *sup.Get(5);
  EXPECT_EQ(st.state, WorkloadState::kFailedToStart);
  EXPECT_TRUE(st.interrupted);
  EXPECT_EQ(st.message, "the node's agent stopped before the job started");
  EXPECT_EQ(finals_.load(), 1);
  // Another restart says the same.
  Supervisor& again = Open(clock);
  st = *again.Get(5);
  EXPECT_EQ(st.state, WorkloadState::kFailedToStart);
  EXPECT_TRUE(st.interrupted);
}

// The shim of a start the agent did not finish records the job itself: the next agent adopts it
// when the record appears (and stops it if asked meanwhile), or reads its exit.
TEST_F(SupervisorTest, AStartTheAgentDidNotFinishIsAdoptedWhenItsShimRecordsIt) {
  const WorkloadDir dir(dir_ + "/workloads", 6);
  ASSERT_TRUE(dir.Create().ok());
  ASSERT_TRUE(dir.WriteSpec(Spec(6, "exec sleep 100"), manual_clock_.Now()).ok());
  const WorkloadDir done(dir_ + "/workloads", 7);
  ASSERT_TRUE(done.Create().ok());
  ASSERT_TRUE(done.WriteSpec(Spec(7, "exit 5"), manual_clock_.Now()).ok());
  ManualClock& clock = manual_clock_;
  Supervisor& sup = Open(clock);
  sup.Stop(6);  // asked before any record: kept, and done once the record appears

  ShimLaunch launch;
  launch.exec_path = "/bin/sleep";
  launch.argv = {"sleep", "100"};
  launch.work_dir = dir.File("work");
  launch.log_path = dir.File("log");
  launch.exit_path = dir.File("exit");
  launch.pid_path = dir.File("pid");
  auto shim = SpawnShim(launch);
  ASSERT_TRUE(shim.ok()) << shim.status().message();
  ASSERT_TRUE(done.WriteExit({5, 0, clock.Now(), ""}).ok());
  clock.Advance(1'000);
  sup.PollOnce();
  EXPECT_EQ(sup.Get(7)->state, WorkloadState::kExited);
  EXPECT_EQ(sup.Get(7)->exit_code, 5);
  EXPECT_FALSE(sup.Get(7)->interrupted);
  // The stop asked earlier reached the adopted job (SIGTERM ends sleep).
  ASSERT_TRUE(WaitFor([&] { return fs::exists(dir.File("exit")); }));
  sup.PollOnce();
  const WorkloadStatus st = *sup.Get(6);
  EXPECT_EQ(st.state, WorkloadState::kExited);
  EXPECT_TRUE(st.stopped);
  EXPECT_EQ(st.signal, SIGTERM);
  waitpid(shim->shim_pid, nullptr, 0);  // this test forked it, not the supervisor
}

// The shim writes the pid record before it answers: an agent killed right after the spawn
// (before it could write anything) leaves a job that its successor still finds.
TEST(SpawnShim, RecordsTheJobBeforeItAnswers) {
  char tmpl[] = "/tmp/gpuaas-shim-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string d = tmpl;
  ShimLaunch launch;
  launch.exec_path = "/bin/sleep";
  launch.argv = {"sleep", "100"};
  launch.work_dir = d;
  launch.log_path = d + "/log";
  launch.exit_path = d + "/exit";
  launch.pid_path = d + "/pid";
  auto shim = SpawnShim(launch);
  ASSERT_TRUE(shim.ok()) << shim.status().message();
  std::ifstream in(d + "/pid");
  pid_t shim_pid = 0, pgid = 0;
  uint64_t start = 0;
  ASSERT_TRUE(in >> shim_pid >> start >> pgid);
  EXPECT_EQ(shim_pid, shim->shim_pid);
  EXPECT_EQ(pgid, shim->job_pgid);
  ASSERT_TRUE(ReadProcInfo(shim_pid).has_value());
  EXPECT_EQ(start, ReadProcInfo(shim_pid)->start_time);
  EXPECT_FALSE(fs::exists(d + "/pid.tmp"));
  kill(-pgid, SIGKILL);
  waitpid(shim->shim_pid, nullptr, 0);
  fs::remove_all(d);
}

TEST_F(SupervisorTest, ForgetRemovesOnlyFinalWorkloads) {
  Supervisor& sup = Open(system_clock_);
  ASSERT_TRUE(sup.Start(Spec(1, "exit 0")).ok());
  ASSERT_TRUE(sup.Start(Spec(2, "exec sleep 100")).ok());
  WaitFinal(1);
  EXPECT_EQ(sup.Forget(2).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(sup.Forget(1).ok());
  EXPECT_FALSE(sup.Get(1).has_value());
  EXPECT_FALSE(fs::exists(dir_ + "/workloads/1"));
  EXPECT_TRUE(fs::exists(dir_ + "/workloads/2"));
}

TEST(ResolveCommand, SearchesPathLikeExecvp) {
  auto sh = ResolveCommand("sh", "/nonexistent:/usr/bin:/bin", "/tmp");
  ASSERT_TRUE(sh.ok());
  EXPECT_TRUE(*sh == "/usr/bin/sh" || *sh == "/bin/sh") << *sh;
  EXPECT_EQ(*ResolveCommand("/bin/sh", "", "/tmp"), "/bin/sh");
  EXPECT_EQ(ResolveCommand("nope-gpuaas", "/usr/bin", "/tmp").status().message(),
            "command not found: nope-gpuaas");
  EXPECT_EQ(ResolveCommand("./nope", "/usr/bin", "/tmp").status().message(),
            "command not found: ./nope");
  EXPECT_EQ(*ResolveCommand("../bin/sh", "", "/usr/lib"), "/usr/lib/../bin/sh");
}

TEST(ExitRecord, RoundTrips) {
  ExitRecord r{137, 9, 1234, "supervisor lost the process"};
  auto back = ParseExitRecord(FormatExitRecord(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->exit_code, 137);
  EXPECT_EQ(back->signal, 9);
  EXPECT_EQ(back->finished_at, 1234);
  EXPECT_EQ(back->message, r.message);
  EXPECT_EQ(ParseExitRecord("3 0 99\n")->message, "");
  EXPECT_FALSE(ParseExitRecord("garbage").has_value());
}

}  // namespace
}  // namespace gpuaas
