// PlatformFixture: the base of the Platform tests. The real Platform on a real SQLite store in
// a temp dir, a manual clock and executor; agents are played by the test through the same
// Heartbeat() the HTTP API calls. A test class sets what it needs in Configure() (called at
// every Open, so a Restart() keeps it), and calls OpenPlatform() from its SetUp (the base
// SetUp only makes the directory) or lets the base SetUp open it (open_in_setup_).
// Test-only header (the state tests include it; nothing else does).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "state/platform.h"
#include "state/test_executor.h"

namespace gpuaas {

// The manual clock's start in the Platform tests (2026-11-18T19:33:20Z).
constexpr Millis kFixtureT0 = 1'795'000'000'000;

class PlatformFixture : public ::testing::Test {
 protected:
  explicit PlatformFixture(Millis t0 = kFixtureT0) : clock_(t0) {}

  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gpuaas-platform-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    if (open_in_setup_) OpenPlatform();
  }
  void TearDown() override {
    ClosePlatform();
    std::filesystem::remove_all(dir_);
  }
  // The test's configuration (schedule_min_interval_ms is already 0: the manual clock does not
  // move by itself).
  virtual void Configure(PlatformConfig&) {}

  // Opens the store and starts a Platform on it; the admin token of the first start is kept,
  // so admin_ is the same principal after a restart.
  void OpenPlatform() {
    auto s = OpenSqliteStore(dir_ + "/db.sqlite");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    exec_ = std::make_unique<TestExecutor>(clock_, *store_);
    PlatformConfig cfg;
    cfg.schedule_min_interval_ms = 0;
    Configure(cfg);
    platform_ = std::make_unique<Platform>(clock_, *exec_, *store_, cfg);
    auto admin = platform_->Start();
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    exec_->Drain();
    if (!admin->empty()) admin_token_ = *admin;
    admin_ = platform_->Authenticate(admin_token_).value();
  }
  void ClosePlatform() {
    platform_.reset();
    exec_.reset();
    if (store_) store_->Close();
    store_.reset();
  }
  // A server restart: a new Platform over the same database.
  void Restart() {
    ClosePlatform();
    OpenPlatform();
  }

  // Runs an asynchronous Platform call to its answer.
  template <typename T>
  Result<T> Call(std::function<void(Platform::Done<T>)> call) {
    std::optional<Result<T>> out;
    call([&](Result<T> r) { out = std::move(r); });
    exec_->Drain();
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : Result<T>(Internal("no answer"));
  }
  template <typename T>
  T Must(std::function<void(Platform::Done<T>)> call) {
    Result<T> r = Call<T>(std::move(call));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }

  void CreateEntity(const std::string& name) {
    EntityRequest er;
    er.name = name;
    Must<Entity>([&](auto done) { platform_->CreateEntity(admin_, er, done); });
  }
  // A new user of `entity` with `role`, signed in.
  Principal Member(const std::string& name, const std::string& entity, Role role = Role::kMember) {
    UserRequest req;
    req.name = name;
    req.entity = entity;
    req.role = role;
    auto u = Must<UserWithToken>([&](auto done) { platform_->CreateUser(admin_, req, done); });
    return platform_->Authenticate(u.token).value();
  }

  // A node's report with `n` healthy GPUs of `cls` (indexes 0..n-1).
  static NodeReport Report(int n, const std::string& node = "gpu-node-01",
                           const std::string& cls = "h200") {
    NodeReport r;
    r.node = node;
    const bool h200 = cls == "h200";
    for (int i = 0; i < n; ++i) {
      r.gpus.push_back({i, "GPU-" + node + "-" + std::to_string(i),
                        h200 ? "NVIDIA H200" : "NVIDIA L40S", cls, h200 ? 143771 : 46068,
                        DeviceState::kHealthy});
    }
    return r;
  }
  // One heartbeat of an agent: what the node should run.
  DesiredWorkloads Beat(const NodeReport& r) {
    Principal agent;
    agent.agent = true;
    auto d = Call<DesiredWorkloads>([&](auto done) { platform_->Heartbeat(agent, r, 0, done); });
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : DesiredWorkloads{};
  }
  Result<Job> TrySubmit(const JobRequest& req, const Principal* who = nullptr) {
    return Call<Job>([&](auto done) { platform_->SubmitJob(who ? *who : admin_, req, done); });
  }
  Job Get(JobId id) { return platform_->GetJob(admin_, id).value(); }

  bool open_in_setup_ = true;
  std::string dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TestExecutor> exec_;
  std::unique_ptr<Platform> platform_;
  std::string admin_token_;
  Principal admin_;
};

}  // namespace gpuaas
