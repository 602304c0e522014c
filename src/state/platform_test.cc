// Platform tests: the real Platform on a real SQLite store in a temp dir, a manual clock and
// executor; agents are played by the test through the same Heartbeat() the HTTP API calls.
#include "state/platform.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

constexpr Millis kT0 = kFixtureT0;

class PlatformTest : public PlatformFixture {
 protected:
  void Configure(PlatformConfig& cfg) override {
    cfg.heartbeat_timeout_ms = 30'000;
    cfg.log_dir = dir_;
    cfg.preemption_grace_s = preemption_grace_s_;
  }
  template <typename T>
  Status Fails(std::function<void(Platform::Done<T>)> call) {
    std::optional<Result<T>> out;
    call([&](Result<T> r) { out = std::move(r); });
    exec_->Drain();
    EXPECT_TRUE(out.has_value());
    EXPECT_FALSE(out->ok());
    return out->status();
  }

  void MakeEntity(const std::string& name, std::map<std::string, int> quota = {}) {
    Must<Entity>([&](auto done) { platform_->CreateEntity(admin_, {name, quota}, done); });
  }
  NodeReport Report(const std::string& node, const std::string& cls, int n) {
    NodeReport r;
    r.node = node;
    r.simulated = true;
    for (int i = 0; i < n; ++i) {
      r.gpus.push_back(
          {i, node + "-gpu" + std::to_string(i), "model", cls, 1000, DeviceState::kHealthy});
    }
    return r;
  }
  Job Submit(const Principal& who, int gpus, std::vector<std::string> types,
             std::vector<std::string> cmd = {"true"}) {
    JobRequest req;
    req.gpus = gpus;
    req.gpu_types = std::move(types);
    req.command = std::move(cmd);
    return Must<Job>([&](auto done) { platform_->SubmitJob(who, req, done); });
  }
  int64_t preemption_grace_s_ = PlatformConfig{}.preemption_grace_s;  // set, then Restart()
};

TEST_F(PlatformTest, JobRunsFinishesAndIsBilled) {
  MakeEntity("acme");
  Principal alice = Member("alice", "acme");
  NodeReport r = Report("n1", "h200", 8);
  Beat(r);
  Job j = Submit(alice, 2, {"h200"});
  EXPECT_EQ(j.state, JobState::kQueued);
  exec_->Drain();
  ASSERT_EQ(Get(j.id).state, JobState::kStarting);
  DesiredWorkloads d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 1u);
  const Assignment& w = d.workloads[0];
  EXPECT_EQ(w.gpu_ids.size(), 2u);
  EXPECT_EQ(w.env.at("GPUAAS_ENTITY"), "acme");
  EXPECT_EQ(w.env.at("CUDA_VISIBLE_DEVICES"), "0,1");
  EXPECT_FALSE(w.adopt_only);

  r.workloads = {{j.id, w.allocation, "running", std::nullopt, 0, false, false, kT0, 0, ""}};
  Beat(r);
  EXPECT_EQ(Get(j.id).state, JobState::kRunning);
  EXPECT_TRUE(Beat(r).workloads[0].adopt_only);

  clock_.Advance(10'000);
  r.workloads = {{j.id, w.allocation, "exited", 0, 0, false, false, kT0, kT0 + 10'000, ""}};
  r.logs = {{j.id, 0, "0,1\n"}};
  EXPECT_TRUE(Beat(r).workloads.empty());
  Job done = Get(j.id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_EQ(done.exit_code, 0);
  // 2 GPUs x 10 s at 3.50 EUR/h = 0.019444 EUR.
  EXPECT_EQ(platform_->JobCost(done), 19'444);
  auto usage = platform_->Usage(alice, 0, kT0 - 1000, kT0 + 100'000);
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].by_class.at("h200").gpu_millis, 20'000);
  EXPECT_EQ((*usage)[0].cost, 19'444);
}

TEST_F(PlatformTest, EightGpuJobsNeverOverlap) {
  MakeEntity("acme");
  Principal alice = Member("alice", "acme");
  NodeReport r = Report("n1", "h200", 8);
  Beat(r);
  std::vector<JobId> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(Submit(alice, 8, {"h200"}).id);
  exec_->Drain();
  EXPECT_EQ(Get(ids[0]).state, JobState::kStarting);
  EXPECT_EQ(Get(ids[1]).state, JobState::kQueued);
  const QueueInfo* q = platform_->GetQueueInfo(ids[2]);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->position, 2);
  EXPECT_FALSE(q->reason.empty());
  for (int k = 0; k < 3; ++k) {
    DesiredWorkloads d = Beat(r);
    ASSERT_EQ(d.workloads.size(), 1u) << "exactly one 8-GPU job at a time";
    EXPECT_EQ(d.workloads[0].job, ids[k]);
    clock_.Advance(1000);
    r.workloads = {{ids[k], d.workloads[0].allocation, "exited", 0, 0, false, false,
                    clock_.Now() - 1000, clock_.Now(), ""}};
    Beat(r);
    r.workloads.clear();
  }
  for (JobId id : ids) EXPECT_EQ(Get(id).state, JobState::kSucceeded);
}

TEST_F(PlatformTest, CancelHoldsGpusUntilTheAgentConfirms) {
  MakeEntity("acme");
  Principal alice = Member("alice", "acme");
  NodeReport r = Report("n1", "h200", 2);
  Beat(r);
  Job a = Submit(alice, 2, {"h200"});
  Job b = Submit(alice, 2, {"h200"});
  exec_->Drain();
  DesiredWorkloads d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 1u);
  r.workloads = {
      {a.id, d.workloads[0].allocation, "running", std::nullopt, 0, false, false, kT0, 0, ""}};
  Beat(r);
  Job c = Must<Job>([&](auto done) { platform_->CancelJob(alice, a.id, done); });
  EXPECT_EQ(c.state, JobState::kCancelled);
  EXPECT_TRUE(platform_->IsReleasing(Get(a.id)));
  // The agent still runs it: the GPUs stay held, b waits, and a is no longer desired.
  d = Beat(r);
  EXPECT_TRUE(d.workloads.empty());
  // A user cancel stops it with the configured stop grace.
  EXPECT_EQ(d.stopping, (std::map<int64_t, int64_t>{{c.allocation, PlatformConfig{}.grace_ms}}));
  EXPECT_EQ(Get(b.id).state, JobState::kQueued);
  clock_.Advance(500);
  r.workloads = {
      {a.id, c.allocation, "exited", std::nullopt, 15, false, true, kT0, clock_.Now(), ""}};
  Beat(r);
  EXPECT_EQ(Get(a.id).state, JobState::kCancelled);
  EXPECT_FALSE(platform_->IsReleasing(Get(a.id)));
  exec_->Drain();
  EXPECT_EQ(Get(b.id).state, JobState::kStarting);
  EXPECT_EQ(Fails<Job>([&](auto done) { platform_->CancelJob(alice, a.id, done); }).code(),
            Code::kConflict);
}

TEST_F(PlatformTest, SilentNodeLosesItsJobs) {
  MakeEntity("acme");
  Principal alice = Member("alice", "acme");
  NodeReport r = Report("n1", "l40s", 4);
  Beat(r);
  Job j = Submit(alice, 1, {"l40s"});
  exec_->Drain();
  DesiredWorkloads d = Beat(r);
  r.workloads = {
      {j.id, d.workloads[0].allocation, "running", std::nullopt, 0, false, false, kT0, 0, ""}};
  Beat(r);
  exec_->Advance(31'000);
  exec_->Advance(1'000);
  EXPECT_EQ(Get(j.id).state, JobState::kLost);
  EXPECT_EQ(platform_->ListNodes()[0].state, NodeState::kDown);
  // When it comes back, the stale workload is not desired (the agent stops it).
  EXPECT_TRUE(Beat(r).workloads.empty());
  EXPECT_EQ(platform_->ListNodes()[0].state, NodeState::kReady);
}

TEST_F(PlatformTest, EntitiesAreIsolated) {
  MakeEntity("a");
  MakeEntity("b");
  Principal alice = Member("alice", "a");
  Principal bob = Member("bob", "b");
  Beat(Report("n1", "h200", 8));
  Job j = Submit(alice, 1, {"h200"});
  EXPECT_EQ(platform_->GetJob(bob, j.id).status().code(), Code::kNotFound);
  EXPECT_EQ(Fails<Job>([&](auto done) { platform_->CancelJob(bob, j.id, done); }).code(),
            Code::kNotFound);
  bool more = false;
  EXPECT_TRUE(platform_->ListJobs(bob, std::nullopt, 0, 0, 100, &more).empty());
  EXPECT_EQ(platform_->ListJobs(alice, std::nullopt, 0, 0, 100, &more).size(), 1u);
  EXPECT_EQ(Fails<UserWithToken>([&](auto done) {
              platform_->CreateUser(alice, {"eve", "a", Role::kMember}, done);
            }).code(),
            Code::kPermissionDenied);
  EXPECT_FALSE(platform_->Authenticate("gpa_" + std::string(64, '0')).ok());
}

TEST_F(PlatformTest, TokensAreListedRevokedAndStayRevokedAfterARestart) {
  MakeEntity("a");
  MakeEntity("b");
  auto make = [&](const std::string& name, const std::string& entity, Role role) {
    return Must<UserWithToken>([&](auto done) {
      platform_->CreateUser(admin_, {name, entity, role}, done);
    });
  };
  UserWithToken alice = make("alice", "a", Role::kMember);
  UserWithToken boss = make("boss", "a", Role::kEntityAdmin);
  UserWithToken bob = make("bob", "b", Role::kMember);
  Principal alice_p = platform_->Authenticate(alice.token).value();
  Principal boss_p = platform_->Authenticate(boss.token).value();
  Principal bob_p = platform_->Authenticate(bob.token).value();
  UserWithToken second = Must<UserWithToken>(
      [&](auto done) { platform_->CreateToken(alice_p, "alice", std::nullopt, done); });
  EXPECT_GT(second.token_id, alice.token_id);

  auto listed = platform_->ListTokens(boss_p, "alice");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, alice.token_id);
  EXPECT_EQ((*listed)[1].id, second.token_id);
  EXPECT_EQ(platform_->ListTokens(bob_p, "alice").status().code(), Code::kNotFound);
  EXPECT_EQ(platform_->ListTokens(alice_p, "boss").status().code(), Code::kPermissionDenied);
  EXPECT_EQ(platform_->ListTokens(admin_, "nobody").status().code(), Code::kNotFound);

  auto revoke = [&](const Principal& who, const std::string& user, std::optional<TokenId> id) {
    return Call<int64_t>([&](auto done) { platform_->RevokeTokens(who, user, id, done); });
  };
  EXPECT_EQ(revoke(bob_p, "alice", std::nullopt).status().code(), Code::kNotFound);
  EXPECT_EQ(revoke(alice_p, "boss", std::nullopt).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(revoke(boss_p, "alice", 999).status().code(), Code::kNotFound);
  EXPECT_EQ(revoke(boss_p, "alice", bob.token_id).status().code(), Code::kNotFound);
  EXPECT_TRUE(platform_->Authenticate(alice.token).ok());  // nothing refused changed anything
  // Alice revokes her first token with her second; the first is refused at once.
  EXPECT_EQ(revoke(alice_p, "alice", alice.token_id).value(), 1);
  EXPECT_FALSE(platform_->Authenticate(alice.token).ok());
  EXPECT_TRUE(platform_->Authenticate(second.token).ok());
  // Her entity's admin revokes all she has left; nothing left is nothing to revoke.
  EXPECT_EQ(revoke(boss_p, "alice", std::nullopt).value(), 1);
  EXPECT_FALSE(platform_->Authenticate(second.token).ok());
  EXPECT_EQ(revoke(admin_, "alice", std::nullopt).value(), 0);
  EXPECT_TRUE(platform_->ListTokens(admin_, "alice")->empty());
  // The last token of the platform's admins cannot go; once another exists, it can.
  EXPECT_EQ(revoke(admin_, admin_.name, std::nullopt).status().code(), Code::kConflict);
  const TokenId first = platform_->ListTokens(admin_, admin_.name)->front().id;
  UserWithToken spare = Must<UserWithToken>(
      [&](auto done) { platform_->CreateToken(admin_, admin_.name, std::nullopt, done); });
  EXPECT_EQ(revoke(admin_, admin_.name, first).value(), 1);
  EXPECT_FALSE(platform_->Authenticate(admin_token_).ok());
  EXPECT_TRUE(platform_->Authenticate(spare.token).ok());
  admin_token_ = spare.token;  // the fixture signs in with it after the restart

  Restart();
  EXPECT_FALSE(platform_->Authenticate(alice.token).ok());
  EXPECT_FALSE(platform_->Authenticate(second.token).ok());
  EXPECT_TRUE(platform_->Authenticate(boss.token).ok());
  EXPECT_TRUE(platform_->ListTokens(admin_, "alice")->empty());
  EXPECT_EQ(platform_->ListTokens(admin_, admin_.name)->size(), 1u);
}

// Tokens under a maximum lifetime of 7 days ([auth] token_max_lifetime).
class TokenExpiryTest : public PlatformFixture {
 protected:
  void Configure(PlatformConfig& c) override { c.token_max_lifetime_ms = 7 * 86'400'000LL; }
};

TEST_F(TokenExpiryTest, TokensExpireAtTheirTimeAndTheMaximumBoundsThem) {
  CreateEntity("a");
  const Millis t0 = clock_.Now();
  auto made = Must<UserWithToken>([&](auto done) {
    platform_->CreateUser(admin_, {"alice", "a", Role::kMember}, done);
  });
  EXPECT_EQ(made.expires_at, t0 + 7 * 86'400'000LL);  // none asked: the maximum
  Principal alice = platform_->Authenticate(made.token).value();
  auto token = [&](std::optional<int64_t> s) {
    return Call<UserWithToken>([&](auto done) { platform_->CreateToken(alice, "alice", s, done); });
  };
  auto hour = token(3600);
  ASSERT_TRUE(hour.ok());
  EXPECT_EQ(hour->expires_at, t0 + 3'600'000);
  EXPECT_EQ(token(8 * 86400).status().code(), Code::kFailedPrecondition);  // over the maximum
  EXPECT_EQ(token(0).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(token(-5).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(platform_->ListTokens(admin_, "alice")->size(), 2u);  // the refused made nothing

  clock_.Advance(3'600'000 - 1);
  EXPECT_TRUE(platform_->Authenticate(hour->token).ok());
  clock_.Advance(1);
  auto refused = platform_->Authenticate(hour->token);
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("expired"), std::string::npos);
  EXPECT_TRUE(platform_->Authenticate(made.token).ok());

  Restart();  // expiries are kept
  EXPECT_FALSE(platform_->Authenticate(hour->token).ok());
  EXPECT_TRUE(platform_->Authenticate(made.token).ok());
  clock_.Advance(7 * 86'400'000LL);
  EXPECT_FALSE(platform_->Authenticate(made.token).ok());
  EXPECT_TRUE(platform_->Authenticate(admin_token_).ok());  // the first admin token never expires
  auto listed = platform_->ListTokens(admin_, "alice");
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].expires_at, t0 + 7 * 86'400'000LL);
  // An admin's expired token does not count as the admins' last one: the bootstrap token is.
  auto admin_hour = Must<UserWithToken>(
      [&](auto done) { platform_->CreateToken(admin_, admin_.name, 3600, done); });
  clock_.Advance(3'600'000);
  const TokenId first = platform_->ListTokens(admin_, admin_.name)->front().id;
  EXPECT_EQ(
      Call<int64_t>([&](auto done) { platform_->RevokeTokens(admin_, admin_.name, first, done); })
          .status()
          .code(),
      Code::kConflict);
  EXPECT_EQ(Call<int64_t>([&](auto done) {
              platform_->RevokeTokens(admin_, admin_.name, admin_hour.token_id, done);
            }).value(),
            1);
}

TEST_F(TokenExpiryTest, SignInTokensAreSessionsBoundedByTheMaximumAndEndAtSignOut) {
  CreateEntity("a");
  auto made = Must<UserWithToken>([&](auto done) {
    platform_->CreateUser(admin_, {"alice", "a", Role::kMember}, done);
  });
  const Millis t0 = clock_.Now();
  auto sso = Must<UserWithToken>([&](auto done) {
    platform_->IssueSignInToken({"alice", {}}, 30 * 86400, done);
  });
  EXPECT_EQ(sso.expires_at, t0 + 7 * 86'400'000LL);  // 30 days asked, the maximum is 7
  auto nobody = Call<UserWithToken>([&](auto done) {
    platform_->IssueSignInToken({"mallory", {}}, 3600, done);
  });
  EXPECT_EQ(nobody.status().code(), Code::kPermissionDenied);
  EXPECT_NE(nobody.status().message().find("no account"), std::string::npos);
  Restart();  // the session mark is kept
  auto listed = platform_->ListTokens(admin_, "alice");
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_FALSE((*listed)[0].session);
  EXPECT_TRUE((*listed)[1].session);
  // Signing out with the user's own API token leaves it; with the session, revokes it.
  EXPECT_FALSE(Must<bool>([&](auto done) { platform_->EndSession(made.token, done); }));
  EXPECT_TRUE(platform_->Authenticate(made.token).ok());
  EXPECT_TRUE(Must<bool>([&](auto done) { platform_->EndSession(sso.token, done); }));
  EXPECT_FALSE(platform_->Authenticate(sso.token).ok());
  Restart();
  EXPECT_FALSE(platform_->Authenticate(sso.token).ok());
  EXPECT_EQ(platform_->ListTokens(admin_, "alice")->size(), 1u);
}

TEST_F(PlatformTest, RejectedSubmitsChangeNothing) {
  MakeEntity("acme", {{"h200", 4}});
  Principal alice = Member("alice", "acme");
  Beat(Report("n1", "h200", 8));
  auto submit = [&](JobRequest req) {
    return Fails<Job>([&](auto done) { platform_->SubmitJob(alice, req, done); }).code();
  };
  JobRequest bad;
  bad.command = {"true"};
  bad.gpu_types = {"a100"};
  EXPECT_EQ(submit(bad), Code::kFailedPrecondition);
  bad.gpu_types = {"h200"};
  bad.gpus = 5;  // over the entity's quota of 4 h200
  EXPECT_EQ(submit(bad), Code::kFailedPrecondition);
  bad.gpus = 1;
  bad.command.clear();
  EXPECT_EQ(submit(bad), Code::kFailedPrecondition);
  bool more = false;
  EXPECT_TRUE(platform_->ListJobs(admin_, std::nullopt, 0, 0, 100, &more).empty());
}

TEST_F(PlatformTest, EverythingSurvivesARestart) {
  MakeEntity("acme");
  Principal alice = Member("alice", "acme");
  NodeReport r = Report("n1", "h200", 8);
  Beat(r);
  Job running = Submit(alice, 2, {"h200"});
  exec_->Drain();
  DesiredWorkloads d = Beat(r);
  r.workloads = {{running.id, d.workloads[0].allocation, "running", std::nullopt, 0, false, false,
                  kT0, 0, ""}};
  Beat(r);
  Job queued = Submit(alice, 8, {"h200"});
  std::string token = admin_token_;
  Restart();
  EXPECT_TRUE(platform_->Authenticate(token).ok());
  EXPECT_EQ(Get(running.id).state, JobState::kRunning);
  EXPECT_EQ(Get(queued.id).state, JobState::kQueued);
  // The agent reports what it runs; nothing is started twice, the queued job still waits.
  d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 1u);
  EXPECT_TRUE(d.workloads[0].adopt_only);
  exec_->Drain();
  EXPECT_EQ(Get(queued.id).state, JobState::kQueued);
  // A new job gets ids after the old ones.
  EXPECT_GT(Submit(alice, 1, {"h200"}).id, queued.id);
}

}  // namespace
}  // namespace gpuaas

namespace gpuaas {
namespace {

TEST_F(PlatformTest, GuaranteeReclaimsBorrowedGpus) {
  preemption_grace_s_ = 120;  // [scheduler] preemption_grace = "2m"
  Restart();
  Must<Entity>([&](auto done) {
    platform_->CreateEntity(admin_, {"owner", {{"h200", 8}}, {{"h200", 8}}, 1}, done);
  });
  MakeEntity("borrower");
  Principal o = Member("olga", "owner");
  Principal b = Member("bob", "borrower");
  NodeReport r = Report("n1", "h200", 8);
  Beat(r);
  JobRequest big;
  big.gpus = 8;
  big.gpu_types = {"h200"};
  big.command = {"sleep", "1000"};
  big.requeue_on_preempt = true;
  Job borrowed = Must<Job>([&](auto done) { platform_->SubmitJob(b, big, done); });
  exec_->Drain();
  DesiredWorkloads d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 1u);
  r.workloads = {{borrowed.id, d.workloads[0].allocation, "running", std::nullopt, 0, false, false,
                  kT0, 0, ""}};
  Beat(r);
  ASSERT_EQ(Get(borrowed.id).state, JobState::kRunning);

  Job mine = Submit(o, 4, {"h200"});
  exec_->Drain();
  Job victim = Get(borrowed.id);
  EXPECT_EQ(victim.state, JobState::kPreempted);
  EXPECT_NE(victim.reason.find("preempted"), std::string::npos) << victim.reason;
  EXPECT_TRUE(platform_->IsReleasing(victim));
  // It was asked to come back: a copy waits in the queue.
  bool more = false;
  auto queued = platform_->ListJobs(admin_, JobState::kQueued, 0, 0, 100, &more);
  ASSERT_EQ(queued.size(), 2u);
  EXPECT_EQ(queued[1].resubmitted_from, borrowed.id);
  // The owner's job waits until the agent has stopped the victim, then gets the GPUs.
  EXPECT_EQ(Get(mine.id).state, JobState::kQueued);
  DesiredWorkloads stop = Beat(r);
  EXPECT_TRUE(stop.workloads.empty());
  // The agent is told to stop it with the scheduling policy's preemption grace (2 min here),
  // not the 10 s stop grace of a cancel.
  EXPECT_EQ(stop.stopping, (std::map<int64_t, int64_t>{{d.workloads[0].allocation, 120'000}}));
  clock_.Advance(2'000);
  r.workloads = {{borrowed.id, d.workloads[0].allocation, "exited", std::nullopt, 15, false, true,
                  kT0, clock_.Now(), ""}};
  Beat(r);
  exec_->Drain();
  EXPECT_EQ(Get(mine.id).state, JobState::kStarting);
  EXPECT_EQ(Get(borrowed.id).state, JobState::kPreempted);
  EXPECT_FALSE(platform_->IsReleasing(Get(borrowed.id)));
  EXPECT_TRUE(Beat(r).stopping.empty());  // confirmed gone: nothing left to stop
}

}  // namespace
}  // namespace gpuaas
