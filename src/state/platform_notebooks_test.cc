// Notebooks in the Platform: the Jupyter command and env of a kind=notebook workload (a port
// per allocation from the configured range, a token per job, base_url /notebooks/ID/), the
// proxy's lookup (another entity 404, not running 409), and the idle reclaim decisions (warn,
// then cancel; a busy kernel or a busy GPU counts as activity), and ports and tokens that
// survive a restart of the server. Real SQLite store, manual clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class PlatformNotebooksTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    CreateEntity("acme");
    CreateEntity("other");
    stranger_ = Member("bob", "other");
  }
  // The config in the file, not the setter (so a restart keeps it).
  void Configure(PlatformConfig& cfg) override {
    cfg.heartbeat_timeout_ms = 3'600'000;  // the test advances minutes between beats
    cfg.notebooks.port_min = 20'000;
    cfg.notebooks.port_max = 20'001;
    cfg.notebooks.idle_timeout_ms = 400'000;
    cfg.billing.workspace_root = dir_ + "/ws";  // entity workspaces: ws/<entity>
  }
  // Places `n` notebooks and reports them running; their workloads.
  std::vector<Assignment> RunNotebooks(NodeReport& r, int n) {
    std::set<JobId> fresh;
    for (int i = 0; i < n; ++i) fresh.insert(SubmitNotebook().id);
    Beat(r);
    DesiredWorkloads d = Beat(r);
    std::vector<Assignment> out;
    r.workloads.clear();
    for (const auto& w : d.workloads) {
      if (fresh.count(w.job)) out.push_back(w);
      r.workloads.push_back(
          {w.job, w.allocation, "running", std::nullopt, 0, false, false, clock_.Now(), 0, ""});
    }
    EXPECT_EQ(out.size(), fresh.size());
    Beat(r);
    return out;
  }
  static NodeReport Report() { return PlatformFixture::Report(4); }
  Job SubmitNotebook() {
    JobRequest req;
    req.kind = JobKind::kNotebook;
    req.gpus = 1;
    req.gpu_types = {"h200"};
    req.entity = "acme";
    auto j = TrySubmit(req);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return *j;
  }

  Principal stranger_;
};

TEST_F(PlatformNotebooksTest, CommandPortsTokensLookupAndIdleReclaim) {
  NodeReport r = Report();
  Beat(r);
  Job a = SubmitNotebook();
  Job b = SubmitNotebook();
  // Not placed yet: the proxy says so (409), and hides it from another entity (404).
  EXPECT_EQ(platform_->NotebookFor(admin_, a.id).status().code(), Code::kConflict);
  // Placed: the first answer waits until their ports and tokens are durable, the next has them.
  DesiredWorkloads d = Beat(r);
  EXPECT_TRUE(d.workloads.empty());
  d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 2u);
  std::set<std::string> ports, tokens;
  for (const auto& w : d.workloads) {
    ASSERT_FALSE(w.command.empty());
    EXPECT_EQ(w.command[0], "jupyter-notebook");
    EXPECT_TRUE(Has(w.command, "--no-browser"));
    // Saved in the entity workspace, created if missing: the files outlive the job.
    EXPECT_TRUE(Has(w.command, "--notebook-dir=" + dir_ + "/ws/acme"));
    EXPECT_TRUE(std::filesystem::is_directory(dir_ + "/ws/acme"));
    EXPECT_TRUE(Has(w.command, "--ip=127.0.0.1"));
    EXPECT_TRUE(Has(w.command, "--NotebookApp.base_url=/notebooks/" + std::to_string(w.job) + "/"));
    const std::string port = w.env.at("GPUAAS_NOTEBOOK_PORT");
    EXPECT_TRUE(port == "20000" || port == "20001") << port;
    EXPECT_TRUE(Has(w.command, "--port=" + port));
    ports.insert(port);
    for (const auto& arg : w.command) {
      EXPECT_EQ(arg.find("token"), std::string::npos) << "no secret on the command line: " << arg;
    }
    tokens.insert(w.env.at("JUPYTER_TOKEN"));
    EXPECT_GE(w.env.at("JUPYTER_TOKEN").size(), 32u);
    EXPECT_EQ(w.env.at("CUDA_VISIBLE_DEVICES"), std::to_string(w.gpu_ids.at(0)));
  }
  EXPECT_EQ(ports.size(), 2u);
  EXPECT_EQ(tokens.size(), 2u);
  // The same answer again: the port and token stay.
  DesiredWorkloads again = Beat(r);
  ASSERT_EQ(again.workloads.size(), 2u);
  EXPECT_EQ(again.workloads[0].command, d.workloads[0].command);

  r.workloads.clear();
  for (const auto& w : d.workloads) {
    r.workloads.push_back(
        {w.job, w.allocation, "running", std::nullopt, 0, false, false, clock_.Now(), 0, ""});
  }
  Beat(r);
  auto t = platform_->NotebookFor(admin_, a.id);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(platform_->NotebookFor(stranger_, a.id).status().code(), Code::kNotFound);
  EXPECT_EQ(platform_->NotebookFor(admin_, 999).status().code(), Code::kNotFound);
  EXPECT_EQ(platform_->RunningNotebooks().size(), 2u);

  // a: idle since its start. b: a kernel is busy.
  clock_.Advance(350'000);  // within the warning window (the last quarter)
  platform_->ReportNotebookActivity(a.id, 0, false);
  platform_->ReportNotebookActivity(b.id, 0, true);
  exec_->Drain();
  EXPECT_EQ(Get(a.id).state, JobState::kRunning);
  EXPECT_NE(Get(a.id).reason.find("idle: no activity since"), std::string::npos)
      << Get(a.id).reason;
  EXPECT_EQ(Get(b.id).reason, "");
  clock_.Advance(60'000);  // a: 410 s idle; b: 60 s since it was busy
  platform_->ReportNotebookActivity(a.id, 0, false);
  platform_->ReportNotebookActivity(b.id, 0, false);
  exec_->Drain();
  Job stopped = Get(a.id);
  EXPECT_EQ(stopped.state, JobState::kCancelled);
  EXPECT_EQ(stopped.reason, "idle: no activity for 6m40s");
  EXPECT_EQ(Get(b.id).state, JobState::kRunning);
  // The agent is told to stop it: it leaves the desired set.
  DesiredWorkloads after = Beat(r);
  ASSERT_EQ(after.workloads.size(), 1u);
  EXPECT_EQ(after.workloads[0].job, b.id);
}

TEST_F(PlatformNotebooksTest, PortAndTokenSurviveARestart) {
  NodeReport r = Report();
  Beat(r);
  std::vector<Assignment> w = RunNotebooks(r, 1);
  ASSERT_EQ(w.size(), 1u);
  auto before = platform_->NotebookFor(admin_, w[0].job);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  Restart();
  // The agent adopts the running Jupyter; the proxy still knows where it is and its token.
  DesiredWorkloads d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 1u);
  EXPECT_TRUE(d.workloads[0].adopt_only);
  EXPECT_EQ(d.workloads[0].env.at("JUPYTER_TOKEN"), before->token);
  EXPECT_EQ(d.workloads[0].env.at("GPUAAS_NOTEBOOK_PORT"), std::to_string(before->port));
  auto after = platform_->NotebookFor(admin_, w[0].job);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->port, before->port);
  EXPECT_EQ(after->token, before->token);
  // A new notebook never gets the port of the one still open.
  std::vector<Assignment> more = RunNotebooks(r, 1);
  ASSERT_EQ(more.size(), 1u);
  EXPECT_NE(more[0].env.at("GPUAAS_NOTEBOOK_PORT"), std::to_string(before->port));
}

TEST_F(PlatformNotebooksTest, BusyGpusKeepAnIdleKernelNotebook) {
  NodeReport r = Report();
  Beat(r);
  std::vector<Assignment> w = RunNotebooks(r, 2);
  ASSERT_EQ(w.size(), 2u);
  // No kernel activity on either; w[0]'s GPU works (a script outside the kernel, say), w[1]'s
  // stays at 3 %, under the idle threshold (5 %).
  auto sample = [&](const Assignment& a, int util) {
    GpuSample s;
    s.index = a.gpu_ids.at(0);
    s.t = clock_.Now();
    s.util_pct = util;
    s.power_mw = 100'000;
    return s;
  };
  for (int minute = 0; minute < 7; ++minute) {
    clock_.Advance(60'000);
    r.samples = {sample(w[0], 80), sample(w[1], 3)};
    Beat(r);
    platform_->ReportNotebookActivity(w[0].job, 0, false);
    platform_->ReportNotebookActivity(w[1].job, 0, false);
    exec_->Drain();
  }
  EXPECT_EQ(Get(w[0].job).state, JobState::kRunning) << Get(w[0].job).reason;
  EXPECT_EQ(Get(w[0].job).reason, "");
  EXPECT_EQ(Get(w[1].job).state, JobState::kCancelled);
  // Then w[0]'s GPU goes quiet too: reclaimed idle_timeout after its last busy sample.
  r.samples.clear();
  clock_.Advance(350'000);
  platform_->ReportNotebookActivity(w[0].job, 0, false);
  exec_->Drain();
  EXPECT_EQ(Get(w[0].job).state, JobState::kRunning);
  EXPECT_NE(Get(w[0].job).reason.find("unless a kernel or its GPUs run"), std::string::npos);
  clock_.Advance(60'000);
  platform_->ReportNotebookActivity(w[0].job, 0, false);
  exec_->Drain();
  EXPECT_EQ(Get(w[0].job).state, JobState::kCancelled);
}

}  // namespace
}  // namespace gpuaas
