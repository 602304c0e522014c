// Changing a user's role, disabling and enabling it (Platform::UpdateUser).
#include <gtest/gtest.h>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

class UserUpdateTest : public PlatformFixture {
 protected:
  void SetUp() override {
    PlatformFixture::SetUp();
    CreateEntity("risk");
    CreateEntity("retail");
  }
  Result<User> Update(const Principal& who, const std::string& name, std::optional<Role> role,
                      std::optional<bool> disabled) {
    auto changed = Change(who, name, UserUpdate{role, disabled});
    if (!changed.ok()) return changed.status();
    return changed->user;
  }
  Result<UserChanged> Change(const Principal& who, const std::string& name, UserUpdate update) {
    return Call<UserChanged>([&](auto done) { platform_->UpdateUser(who, name, update, done); });
  }
  Job Submit(const Principal& who, int gpus) {
    JobRequest req;
    req.gpus = gpus;
    req.gpu_types = {"h200"};
    req.command = {"sleep", "600"};
    auto j = TrySubmit(req, &who);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? *j : Job{};
  }
  std::string NewUser(const std::string& name, const std::string& entity,
                      Role role = Role::kMember) {
    UserRequest req{name, entity, role};
    return Must<UserWithToken>([&](auto done) { platform_->CreateUser(admin_, req, done); }).token;
  }
};

TEST_F(UserUpdateTest, ADisabledUserIsRefusedEverywhereUntilEnabledAndKeepsItsHistory) {
  const std::string token = NewUser("alice", "risk");
  ASSERT_TRUE(platform_->Authenticate(token).ok());
  auto off = Update(admin_, "alice", std::nullopt, true);
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->disabled_at, clock_.Now());
  auto refused = platform_->Authenticate(token);
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("user 'alice' is disabled"), std::string::npos);
  // No new token, no sign-in; kept over a restart.
  auto tok = Call<UserWithToken>(
      [&](auto done) { platform_->CreateToken(admin_, "alice", std::nullopt, done); });
  EXPECT_EQ(tok.status().code(), Code::kFailedPrecondition);
  auto sso = Call<UserWithToken>([&](auto done) {
    platform_->IssueSignInToken({"alice", {}}, 3600, done);
  });
  EXPECT_EQ(sso.status().code(), Code::kPermissionDenied);
  Restart();
  EXPECT_FALSE(platform_->Authenticate(token).ok());
  // Disabling again keeps the first time; enabling brings the same token back.
  clock_.Advance(60'000);
  EXPECT_EQ(Update(admin_, "alice", std::nullopt, true)->disabled_at, off->disabled_at);
  EXPECT_EQ(Update(admin_, "alice", std::nullopt, false)->disabled_at, 0);
  EXPECT_TRUE(platform_->Authenticate(token).ok());
}

// A leaver's work: disabling says how many of its jobs go on; with cancel_jobs they are
// cancelled in the same commit (queued ones at once, a running one stopped by its agent), and
// nobody else's are touched.
TEST_F(UserUpdateTest, DisablingTellsWhatGoesOnAndMayCancelItAll) {
  NodeReport r = Report(2);
  Beat(r);
  const Principal alice = platform_->Authenticate(NewUser("alice", "risk")).value();
  const Principal bob = platform_->Authenticate(NewUser("bob", "risk")).value();
  const Job running = Submit(alice, 2);
  const Job queued = Submit(alice, 2);
  const Job bobs = Submit(bob, 1);
  exec_->Drain();
  DesiredWorkloads d = Beat(r);
  ASSERT_EQ(d.workloads.size(), 1u);
  r.workloads = {{running.id, d.workloads[0].allocation, "running", std::nullopt, 0, false, false,
                  clock_.Now(), 0, ""}};
  Beat(r);
  ASSERT_EQ(Get(running.id).state, JobState::kRunning);
  ASSERT_EQ(Get(queued.id).state, JobState::kQueued);
  // cancel_jobs needs "disabled": true in the same request; refused, nothing changes.
  for (std::optional<bool> disabled : {std::optional<bool>(), std::optional<bool>(false)}) {
    auto refused = Change(admin_, "alice", UserUpdate{std::nullopt, disabled, true});
    EXPECT_EQ(refused.status().code(), Code::kFailedPrecondition);
  }
  EXPECT_EQ(Get(queued.id).state, JobState::kQueued);
  // Disabled without it: the answer counts the jobs that go on.
  auto off = Change(admin_, "alice", UserUpdate{std::nullopt, true});
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->unfinished_jobs, 2);
  EXPECT_TRUE(off->cancelled_jobs.empty());
  EXPECT_EQ(Get(queued.id).state, JobState::kQueued);
  // Already disabled, now with cancel_jobs: both cancelled, bob's untouched, and kept over a
  // restart; the running one is stopped by its agent.
  auto cut = Change(admin_, "alice", UserUpdate{std::nullopt, true, true});
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  EXPECT_EQ(cut->cancelled_jobs, (std::vector<JobId>{running.id, queued.id}));
  EXPECT_EQ(cut->unfinished_jobs, 0);
  EXPECT_EQ(cut->user.disabled_at, off->user.disabled_at);
  EXPECT_EQ(Get(queued.id).state, JobState::kCancelled);
  EXPECT_EQ(Get(queued.id).reason, "cancelled by admin: user alice disabled");
  EXPECT_EQ(Get(running.id).state, JobState::kCancelled);
  EXPECT_TRUE(platform_->IsReleasing(Get(running.id)));
  EXPECT_TRUE(Beat(r).stopping.count(Get(running.id).allocation));
  EXPECT_FALSE(IsFinal(Get(bobs.id).state));
  Restart();
  EXPECT_EQ(Get(queued.id).state, JobState::kCancelled);
  EXPECT_EQ(Get(running.id).state, JobState::kCancelled);
  // Nothing left to cancel: answered as it is.
  auto again = Change(admin_, "alice", UserUpdate{std::nullopt, true, true});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->cancelled_jobs.empty());
}

TEST_F(UserUpdateTest, RolesChangeWithinWhatTheCallerMayGive) {
  const Principal boss =
      platform_->Authenticate(NewUser("boss", "risk", Role::kEntityAdmin)).value();
  const std::string mo = NewUser("mo", "risk");
  NewUser("rita", "retail");
  auto up = Update(boss, "mo", Role::kEntityAdmin, std::nullopt);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(platform_->Authenticate(mo).value().role, Role::kEntityAdmin);  // at once
  EXPECT_EQ(Update(boss, "mo", Role::kPlatformAdmin, std::nullopt).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(Update(boss, "rita", std::nullopt, true).status().code(), Code::kNotFound);
  EXPECT_EQ(Update(boss, "admin", std::nullopt, true).status().code(), Code::kNotFound);
  const Principal member = platform_->Authenticate(NewUser("nia", "risk")).value();
  EXPECT_EQ(Update(member, "mo", std::nullopt, true).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(Update(boss, "mo", std::nullopt, std::nullopt).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Update(boss, "boss", std::nullopt, true).status().code(),
            Code::kFailedPrecondition);  // not oneself
  // A platform-admin makes anyone anything that has an entity.
  EXPECT_EQ(Update(admin_, "rita", Role::kPlatformAdmin, std::nullopt)->role, Role::kPlatformAdmin);
  EXPECT_EQ(Update(admin_, "admin", Role::kMember, std::nullopt).status().code(),
            Code::kFailedPrecondition);  // no entity
}

TEST_F(UserUpdateTest, ThePlatformKeepsAnActiveAdminAndDirectoryRolesStayTheDirectorys) {
  EXPECT_EQ(Update(admin_, "admin", std::nullopt, true).status().code(),
            Code::kFailedPrecondition);  // oneself
  const Principal root2 =
      platform_->Authenticate(NewUser("root2", "risk", Role::kPlatformAdmin)).value();
  ASSERT_TRUE(Update(root2, "admin", std::nullopt, true).ok());
  // root2 is now the only active platform-admin: it cannot be demoted.
  auto last = Update(admin_ /* disabled, but the principal was made before */, "root2",
                     Role::kMember, std::nullopt);
  EXPECT_EQ(last.status().code(), Code::kConflict);
  ASSERT_TRUE(Update(root2, "admin", std::nullopt, false).ok());
  EXPECT_TRUE(Update(admin_, "root2", Role::kMember, std::nullopt).ok());

  ASSERT_TRUE(Call<GroupMapping>([&](auto done) {
                platform_->CreateGroupMapping(admin_, {"risk-ml", "risk", Role::kMember}, done);
              }).ok());
  ASSERT_TRUE(Call<UserWithToken>([&](auto done) {
                platform_->IssueSignInToken({"dana", {"risk-ml"}}, 3600, done);
              }).ok());
  auto role = Update(admin_, "dana", Role::kEntityAdmin, std::nullopt);
  EXPECT_EQ(role.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(role.status().message().find("follows its directory groups"), std::string::npos);
  ASSERT_TRUE(Update(admin_, "dana", std::nullopt, true).ok());  // but it can be disabled
  EXPECT_EQ(Call<UserWithToken>([&](auto done) {
              platform_->IssueSignInToken({"dana", {"risk-ml"}}, 3600, done);
            })
                .status()
                .code(),
            Code::kPermissionDenied);
}

}  // namespace
}  // namespace gpuaas
