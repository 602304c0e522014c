// Multi-node gangs in the Platform: a job larger than the nodes of its class holds one
// allocation per node, placed all or nothing; it runs once every part runs; a part that fails
// stops the others; a cancel stops every part; billing and usage count every GPU; a flexible job
// may be a gang on its smaller class while a notebook keeps to one node (docs/scheduling.md).
#include <gtest/gtest.h>

#include <set>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

constexpr Millis kT0 = kFixtureT0;

class PlatformGangTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    CreateEntity("acme");
    alice_ = Member("alice", "acme");
    n1_ = Report(8, "n1");
    n2_ = Report(8, "n2");
    Beat(n1_);
    Beat(n2_);
  }
  Job Submit(int gpus, JobKind kind = JobKind::kJob) {
    JobRequest req;
    req.gpus = gpus;
    req.gpu_types = {"h200"};
    req.kind = kind;
    if (kind != JobKind::kNotebook) req.command = {"train"};
    return Must<Job>([&](auto done) { platform_->SubmitJob(alice_, req, done); });
  }
  static WorkloadReport Running(const Assignment& w) {
    return {w.job, w.allocation, "running", std::nullopt, 0, false, false, kT0, 0, ""};
  }
  WorkloadReport Exited(JobId job, AllocationId alloc, std::optional<int> code, int signal = 0,
                        bool stopped = false) {
    return {job, alloc, "exited", code, signal, false, stopped, kT0, clock_.Now(), ""};
  }
  // A held long poll of a node (the answer lands in *out when the node is woken).
  void Poll(const NodeReport& r, std::optional<Result<DesiredWorkloads>>* out) {
    Principal agent;
    agent.agent = true;
    // A change not yet told to the node (node_dirty_) answers the first poll at once.
    for (int i = 0; i < 2; ++i) {
      out->reset();
      platform_->Heartbeat(agent, r, 60'000, [out](Result<DesiredWorkloads> d) { *out = d; });
      exec_->Drain();
      if (!out->has_value()) return;
    }
  }
  int HeldDevices() {
    int held = 0;
    for (const Node& n : platform_->ListNodes()) {
      for (const auto& g : n.gpus) held += platform_->DeviceHolder(n.id, g.index) != 0;
    }
    return held;
  }
  // Places a 12-GPU gang and starts both parts; returns the assignments (n1's, n2's).
  std::pair<Assignment, Assignment> StartGang(JobId id) {
    exec_->Drain();
    EXPECT_EQ(Get(id).state, JobState::kStarting);
    DesiredWorkloads d1 = Beat(n1_), d2 = Beat(n2_);
    EXPECT_EQ(d1.workloads.size(), 1u);
    EXPECT_EQ(d2.workloads.size(), 1u);
    if (d1.workloads.empty() || d2.workloads.empty()) return {};
    n1_.workloads = {Running(d1.workloads[0])};
    n2_.workloads = {Running(d2.workloads[0])};
    Beat(n1_);
    Beat(n2_);
    EXPECT_EQ(Get(id).state, JobState::kRunning);
    return {d1.workloads[0], d2.workloads[0]};
  }

  Principal alice_;
  NodeReport n1_, n2_;
};

TEST_F(PlatformGangTest, PlacedOnTwoNodesRunsWhenEveryPartRunsAndBillsEveryGpu) {
  Job j = Submit(12);
  exec_->Drain();
  Job placed = Get(j.id);
  ASSERT_EQ(placed.state, JobState::kStarting);
  std::vector<const Allocation*> parts = platform_->PartsOf(placed);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_NE(parts[0]->node, parts[1]->node);
  EXPECT_EQ(parts[0]->devices.size() + parts[1]->devices.size(), 12u);
  // The single-node fields are rank 0's.
  EXPECT_EQ(placed.node, parts[0]->node);
  EXPECT_EQ(placed.gpu_ids, parts[0]->devices);
  EXPECT_EQ(placed.allocation, parts[0]->id);
  EXPECT_EQ(HeldDevices(), 12);

  // Each node is told its part, with where it stands in the job.
  DesiredWorkloads d1 = Beat(n1_), d2 = Beat(n2_);
  ASSERT_EQ(d1.workloads.size(), 1u);
  ASSERT_EQ(d2.workloads.size(), 1u);
  const Node* rank0 = platform_->FindNodeById(parts[0]->node);
  ASSERT_NE(rank0, nullptr);
  std::set<std::string> ranks;
  for (const Assignment* w : {&d1.workloads[0], &d2.workloads[0]}) {
    EXPECT_EQ(w->job, j.id);
    EXPECT_EQ(w->env.at("GPUAAS_NUM_NODES"), "2");
    EXPECT_EQ(w->env.at("GPUAAS_MASTER_ADDR"), rank0->name);
    EXPECT_EQ(w->env.at("GPUAAS_NODES"), rank0->name == "n1" ? "n1,n2" : "n2,n1");
    EXPECT_EQ(w->env.at("GPUAAS_WORLD_GPUS"), "12");
    EXPECT_EQ(w->env.at("GPUAAS_GPUS_PER_NODE"), std::to_string(w->gpu_ids.size()));
    EXPECT_EQ(w->env.at("GPUAAS_MASTER_PORT"), d1.workloads[0].env.at("GPUAAS_MASTER_PORT"));
    ranks.insert(w->env.at("GPUAAS_NODE_RANK"));
  }
  EXPECT_EQ(ranks, (std::set<std::string>{"0", "1"}));
  EXPECT_EQ(d1.workloads[0].gpu_ids.size() + d2.workloads[0].gpu_ids.size(), 12u);

  // Running only once both parts run.
  n1_.workloads = {Running(d1.workloads[0])};
  Beat(n1_);
  EXPECT_EQ(Get(j.id).state, JobState::kStarting);
  n2_.workloads = {Running(d2.workloads[0])};
  Beat(n2_);
  EXPECT_EQ(Get(j.id).state, JobState::kRunning);

  // One part finishing leaves the job running; it succeeds when both have.
  clock_.Advance(10'000);
  n1_.workloads = {Exited(j.id, d1.workloads[0].allocation, 0)};
  Beat(n1_);
  EXPECT_EQ(Get(j.id).state, JobState::kRunning);
  EXPECT_TRUE(Beat(n2_).workloads.size() == 1u) << "the other part goes on";
  n2_.workloads = {Exited(j.id, d2.workloads[0].allocation, 0)};
  Beat(n2_);
  Job done = Get(j.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.exit_code, 0);
  EXPECT_EQ(HeldDevices(), 0);
  // 12 GPUs x 10 s at 3.50 EUR/h = 0.116667 EUR (each part rounded to the micro-euro); usage
  // counts every GPU of both nodes and bills the same.
  EXPECT_NEAR(platform_->JobCost(done), 116'667, 2);
  auto usage = platform_->Usage(alice_, 0, kT0 - 1000, kT0 + 100'000);
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].by_class.at("h200").gpu_millis, 120'000);
  EXPECT_EQ((*usage)[0].cost, platform_->JobCost(done));
}

TEST_F(PlatformGangTest, AllOrNothingWhenOneNodeLacksDevices) {
  Job small = Submit(1);
  exec_->Drain();
  ASSERT_EQ(Get(small.id).state, JobState::kStarting);
  // 15 GPUs are free over the two nodes: a 16-GPU gang holds nothing while it waits.
  Job big = Submit(16);
  exec_->Drain();
  EXPECT_EQ(Get(big.id).state, JobState::kQueued);
  EXPECT_TRUE(platform_->PartsOf(Get(big.id)).empty());
  EXPECT_EQ(HeldDevices(), 1);
  // Once the small job ends, the gang gets all 16.
  const Job s = Get(small.id);
  NodeReport& r = platform_->FindNodeById(s.node)->name == "n1" ? n1_ : n2_;
  r.workloads = {Exited(small.id, s.allocation, 0)};
  Beat(r);
  r.workloads.clear();
  exec_->Drain();
  EXPECT_EQ(Get(big.id).state, JobState::kStarting);
  EXPECT_EQ(platform_->PartsOf(Get(big.id)).size(), 2u);
  EXPECT_EQ(HeldDevices(), 16);
}

TEST_F(PlatformGangTest, APartThatFailsStopsTheOthersAndFailsTheJob) {
  Job j = Submit(12);
  auto [w1, w2] = StartGang(j.id);
  // n1 holds a long poll; n2's part dies: n1 is told at once to stop its part.
  std::optional<Result<DesiredWorkloads>> held;
  Poll(n1_, &held);
  ASSERT_FALSE(held.has_value());
  clock_.Advance(5'000);
  n2_.workloads = {Exited(j.id, w2.allocation, 3)};
  Beat(n2_);
  ASSERT_TRUE(held.has_value()) << "the other node is woken";
  ASSERT_TRUE(held->ok());
  EXPECT_TRUE((*held)->workloads.empty());
  EXPECT_EQ((*held)->stopping.count(w1.allocation), 1u);
  Job failed = Get(j.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_NE(failed.reason.find("node n2 (rank "), std::string::npos) << failed.reason;
  EXPECT_NE(failed.reason.find("exited with code 3"), std::string::npos) << failed.reason;
  // n1's devices stay held until its agent confirms the part is gone; its exit (SIGTERM) does
  // not change the outcome.
  EXPECT_TRUE(platform_->IsReleasing(failed));
  EXPECT_EQ(HeldDevices(), static_cast<int>(w1.gpu_ids.size()));
  clock_.Advance(1'000);
  n1_.workloads = {Exited(j.id, w1.allocation, std::nullopt, 15, true)};
  Beat(n1_);
  Job over = Get(j.id);
  EXPECT_EQ(over.state, JobState::kFailed);
  EXPECT_EQ(over.exit_code, 3);
  EXPECT_FALSE(platform_->IsReleasing(over));
  EXPECT_EQ(HeldDevices(), 0);
}

TEST_F(PlatformGangTest, APartThatFailsToStartFailsTheJobBeforeItRuns) {
  Job j = Submit(12);
  exec_->Drain();
  DesiredWorkloads d1 = Beat(n1_), d2 = Beat(n2_);
  ASSERT_EQ(d1.workloads.size(), 1u);
  ASSERT_EQ(d2.workloads.size(), 1u);
  n1_.workloads = {Running(d1.workloads[0])};
  Beat(n1_);
  n2_.workloads = {{j.id, d2.workloads[0].allocation, "failed_to_start", std::nullopt, 0, false,
                    false, 0, clock_.Now(), "no such program"}};
  Beat(n2_);
  Job failed = Get(j.id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_NE(failed.reason.find("failed to start: no such program"), std::string::npos)
      << failed.reason;
  DesiredWorkloads again = Beat(n1_);
  EXPECT_TRUE(again.workloads.empty());
  EXPECT_EQ(again.stopping.count(d1.workloads[0].allocation), 1u);
}

TEST_F(PlatformGangTest, CancelStopsEveryPartAndFreesEveryDevice) {
  Job j = Submit(12);
  auto [w1, w2] = StartGang(j.id);
  std::optional<Result<DesiredWorkloads>> held1, held2;
  Poll(n1_, &held1);
  Poll(n2_, &held2);
  clock_.Advance(20'000);
  Job c = Must<Job>([&](auto done) { platform_->CancelJob(alice_, j.id, done); });
  EXPECT_EQ(c.state, JobState::kCancelled);
  ASSERT_TRUE(held1.has_value() && held1->ok());
  ASSERT_TRUE(held2.has_value() && held2->ok());
  EXPECT_EQ((*held1)->stopping.count(w1.allocation), 1u);
  EXPECT_EQ((*held2)->stopping.count(w2.allocation), 1u);
  EXPECT_EQ(HeldDevices(), 12) << "held (and billed) until the agents confirm";
  n1_.workloads = {Exited(j.id, w1.allocation, std::nullopt, 15, true)};
  n2_.workloads = {Exited(j.id, w2.allocation, std::nullopt, 15, true)};
  Beat(n1_);
  EXPECT_TRUE(platform_->IsReleasing(Get(j.id)));
  Beat(n2_);
  EXPECT_FALSE(platform_->IsReleasing(Get(j.id)));
  EXPECT_EQ(Get(j.id).state, JobState::kCancelled);
  EXPECT_EQ(HeldDevices(), 0);
  // 12 GPUs x 20 s.
  auto usage = platform_->Usage(alice_, 0, kT0 - 1000, kT0 + 100'000);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ((*usage)[0].by_class.at("h200").gpu_millis, 240'000);
}

TEST_F(PlatformGangTest, ALostNodeEndsTheGangAndSurvivesARestart) {
  Job j = Submit(12);
  auto [w1, w2] = StartGang(j.id);
  Restart();  // the parts are found again from the stored allocations
  EXPECT_EQ(platform_->PartsOf(Get(j.id)).size(), 2u);
  EXPECT_EQ(Beat(n1_).workloads.at(0).env.at("GPUAAS_NUM_NODES"), "2");
  // n2's agent no longer has its part (the node restarted): the job is lost, n1 stops its part.
  Beat(n2_);
  n2_.workloads.clear();
  Beat(n2_);
  EXPECT_EQ(Get(j.id).state, JobState::kLost);
  DesiredWorkloads d = Beat(n1_);
  EXPECT_TRUE(d.workloads.empty());
  EXPECT_EQ(d.stopping.count(w1.allocation), 1u);
}

TEST_F(PlatformGangTest, TelemetryCoversEveryNode) {
  Job j = Submit(12);
  auto [w1, w2] = StartGang(j.id);
  // 3 samples 1 s apart on every device of each part: 2 s covered per device, 90 % busy.
  for (int k = 0; k < 3; ++k) {
    clock_.Advance(1000);
    for (auto [r, w] : {std::pair{&n1_, &w1}, std::pair{&n2_, &w2}}) {
      r->samples.clear();
      for (int d : w->gpu_ids) {
        GpuSample s;
        s.index = d;
        s.t = clock_.Now();
        s.util_pct = 90;
        s.mem_used_mb = r == &n1_ ? 1000 : 2000;
        s.power_mw = 500'000;
        r->samples.push_back(s);
      }
      Beat(*r);
    }
  }
  auto t = platform_->JobTelemetryOf(Get(j.id));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->samples, 36);
  EXPECT_EQ(t->covered_ms, 12 * 2000);
  EXPECT_EQ(t->peak_mem_mb, 2000);
  EXPECT_NEAR(t->avg_util_pct(), 90.0, 1e-9);
  EXPECT_EQ(t->energy_uj, 12LL * 500 * 2 * 1'000'000);  // 12 devices x 500 W x 2 s
}

TEST_F(PlatformGangTest, PreemptionStopsEveryPartAndRequeues) {
  Must<Entity>([&](auto done) {
    platform_->CreateEntity(admin_, {"owner", {{"h200", 8}}, {{"h200", 8}}, 1}, done);
  });
  Principal olga = Member("olga", "owner");
  JobRequest req;
  req.gpus = 12;
  req.gpu_types = {"h200"};
  req.command = {"train"};
  req.requeue_on_preempt = true;
  Job gang = Must<Job>([&](auto done) { platform_->SubmitJob(alice_, req, done); });
  auto [w1, w2] = StartGang(gang.id);
  std::optional<Result<DesiredWorkloads>> held1, held2;
  Poll(n1_, &held1);
  Poll(n2_, &held2);
  // The owner needs 8 of its guaranteed GPUs: only 4 are free, so the borrowing gang goes.
  req.gpus = 8;
  req.requeue_on_preempt = false;
  Job mine = Must<Job>([&](auto done) { platform_->SubmitJob(olga, req, done); });
  exec_->Drain();
  Job victim = Get(gang.id);
  ASSERT_EQ(victim.state, JobState::kPreempted) << victim.reason;
  ASSERT_TRUE(held1.has_value() && held1->ok());
  ASSERT_TRUE(held2.has_value() && held2->ok());
  EXPECT_EQ((*held1)->stopping.count(w1.allocation), 1u);
  EXPECT_EQ((*held2)->stopping.count(w2.allocation), 1u);
  bool more = false;
  auto queued = platform_->ListJobs(admin_, JobState::kQueued, 0, 0, 100, &more);
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued[0].id, mine.id);
  EXPECT_EQ(queued[1].resubmitted_from, gang.id);
  // Both parts stop; then the owner's job gets its GPUs.
  clock_.Advance(1000);
  n1_.workloads = {Exited(gang.id, w1.allocation, std::nullopt, 15, true)};
  n2_.workloads = {Exited(gang.id, w2.allocation, std::nullopt, 15, true)};
  Beat(n1_);
  Beat(n2_);
  exec_->Drain();
  EXPECT_EQ(Get(gang.id).state, JobState::kPreempted);
  EXPECT_FALSE(platform_->IsReleasing(Get(gang.id)));
  EXPECT_EQ(Get(mine.id).state, JobState::kStarting);
}

TEST_F(PlatformGangTest, SubmitRefusesOnlyWhatTheWholeClusterCannotHold) {
  Job ok = Submit(16);
  EXPECT_EQ(ok.state, JobState::kQueued);
  JobRequest req;
  req.gpus = 17;
  req.gpu_types = {"h200"};
  req.command = {"train"};
  Result<Job> r = TrySubmit(req, &alice_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("the cluster has 16 GPUs of class h200"), std::string::npos)
      << r.status().message();
  // A notebook keeps to one node.
  req.gpus = 12;
  req.kind = JobKind::kNotebook;
  req.command.clear();
  r = TrySubmit(req, &alice_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("a notebook runs on one node"), std::string::npos)
      << r.status().message();
}

TEST_F(PlatformGangTest, AFlexibleJobTakesTwoSmallerNodesButANotebookKeepsToOne) {
  // Both H200 nodes busy; four 4-GPU L40S nodes free.
  Submit(8);
  Submit(8);
  exec_->Drain();
  for (const char* name : {"l1", "l2", "l3", "l4"}) Beat(Report(4, name, "l40s"));
  JobRequest req;
  req.gpus = 8;
  // L40S first: stated on it, its run there ends before an H200 frees up and runs it.
  req.gpu_types = {"l40s", "h200"};
  req.kind = JobKind::kNotebook;
  Job notebook = Must<Job>([&](auto done) { platform_->SubmitJob(alice_, req, done); });
  req.kind = JobKind::kJob;
  req.command = {"train"};
  Job flexible = Must<Job>([&](auto done) { platform_->SubmitJob(alice_, req, done); });
  exec_->Drain();
  // The job: two whole L40S nodes, as an L40S-only job would get (docs/adr/0012).
  Job placed = Get(flexible.id);
  ASSERT_EQ(placed.state, JobState::kStarting) << placed.reason;
  EXPECT_EQ(placed.gpu_type, "l40s");
  std::vector<const Allocation*> parts = platform_->PartsOf(placed);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_NE(parts[0]->node, parts[1]->node);
  // The notebook, ahead of it in the queue, waits for an H200 node rather than span the two
  // L40S nodes still free.
  EXPECT_EQ(Get(notebook.id).state, JobState::kQueued);
  EXPECT_EQ(HeldDevices(), 8 + 8 + 8);
}

}  // namespace
}  // namespace gpuaas
