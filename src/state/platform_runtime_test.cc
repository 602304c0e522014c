// Environments, workspaces and secrets through the real Platform on a real SQLite store: submit
// checks, what the node is told (image, workspace, secrets apart from env), who may manage
// secrets, and that a secret's value is only in the secret store (mode 0600, sealed) and the
// answer to the node — not in the job, the database, or the listings — across a restart.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <algorithm>

#include <filesystem>
#include <fstream>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

constexpr char kSecret[] = "tok-5e3a9c1b7d";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class RuntimeTest : public PlatformFixture {
 protected:
  RuntimeTest() : PlatformFixture(1'800'000'000'000) {}
  void Configure(PlatformConfig& cfg) override {
    cfg.heartbeat_timeout_ms = 3'600'000;
    cfg.billing.workspace_root = dir_ + "/ws";
    cfg.secrets_path = dir_ + "/secrets.json";
    cfg.environments["busybox"] = {"busybox", "localhost/busybox:test", "test"};
  }
  Result<Job> Submit(const Principal& p, const JobRequest& req) { return TrySubmit(req, &p); }
  DesiredWorkloads Beat() {
    NodeReport r;
    r.node = "n1";
    r.simulated = true;
    for (int i = 0; i < 4; ++i) {
      r.gpus.push_back(
          {i, "n1-gpu" + std::to_string(i), "model", "h200", 1000, DeviceState::kHealthy});
    }
    // The first report registers the node; the scheduler places on it; the next one is told.
    PlatformFixture::Beat(r);
    return PlatformFixture::Beat(r);
  }
  const Assignment* Find(const DesiredWorkloads& d, JobId job) {
    for (const auto& a : d.workloads) {
      if (a.job == job) return &a;
    }
    return nullptr;
  }
};

TEST_F(RuntimeTest, EnvironmentsAreCheckedAtSubmitAndChooseTheImage) {
  CreateEntity("acme");
  Principal alice = Member("alice", "acme", Role::kMember);
  std::set<std::string> names;
  for (const auto& e : platform_->ListEnvironments()) names.insert(e.name);
  EXPECT_TRUE(names.count("pytorch") && names.count("tensorflow") && names.count("busybox"));

  JobRequest req;
  req.gpus = 1;
  req.command = {"true"};
  req.environment = "nosuch";
  auto bad = Submit(alice, req);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find("unknown environment 'nosuch'"), std::string::npos);
  req.environment = "busybox";
  req.workspace_mode = "rwx";
  EXPECT_EQ(Submit(alice, req).status().code(), Code::kFailedPrecondition);

  req.workspace_mode = "ro";
  auto in_container = Submit(alice, req);
  ASSERT_TRUE(in_container.ok()) << in_container.status().ToString();
  JobRequest plain;
  plain.gpus = 1;
  plain.command = {"true"};
  plain.workspace_mode = "none";
  auto on_host = Submit(alice, plain);
  ASSERT_TRUE(on_host.ok());

  const DesiredWorkloads d = Beat();
  const Assignment* c = Find(d, in_container->id);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->image, "localhost/busybox:test");
  EXPECT_EQ(c->workspace, dir_ + "/ws/acme");
  EXPECT_EQ(c->workspace_mode, "ro");
  EXPECT_EQ(platform_->WorkspacePath(in_container->entity), dir_ + "/ws/acme");
  const Assignment* h = Find(d, on_host->id);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->image, "");  // the process runtime
  EXPECT_EQ(h->workspace, "");
  EXPECT_EQ(h->env.count("GPUAAS_WORKSPACE"), 0u);
}

TEST_F(RuntimeTest, ANotebookInAnEnvironmentListensOnItsContainersNetworkAndSavesInWorkspace) {
  CreateEntity("acme");
  Principal alice = Member("alice", "acme", Role::kMember);
  JobRequest req;
  req.kind = JobKind::kNotebook;
  req.gpus = 1;
  req.environment = "busybox";
  auto nb = Submit(alice, req);
  ASSERT_TRUE(nb.ok()) << nb.status().ToString();
  Beat();  // placed; its port and token are made durable before the agent is told
  const DesiredWorkloads d = Beat();
  const Assignment* a = Find(d, nb->id);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->image, "localhost/busybox:test");
  auto has = [&](const std::string& arg) {
    return std::find(a->command.begin(), a->command.end(), arg) != a->command.end();
  };
  // Jupyter listens on the container's interfaces (the agent publishes the port on the node's
  // loopback) and saves into the workspace's mount point, not the host path.
  EXPECT_TRUE(has("--ip=0.0.0.0"));
  EXPECT_FALSE(has("--ip=127.0.0.1"));
  EXPECT_TRUE(has("--notebook-dir=/workspace"));
  EXPECT_TRUE(has("--port=" + a->env.at("GPUAAS_NOTEBOOK_PORT")));
}

TEST_F(RuntimeTest, SecretsAreWriteOnlyAndReachOnlyTheNode) {
  CreateEntity("acme");
  CreateEntity("beta");
  Principal alice = Member("alice", "acme", Role::kMember);
  Principal boss = Member("boss", "acme", Role::kEntityAdmin);
  Principal other = Member("other", "beta", Role::kEntityAdmin);

  EXPECT_EQ(platform_->PutSecret(alice, "acme", "REG_TOKEN", kSecret).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(platform_->PutSecret(other, "acme", "REG_TOKEN", kSecret).status().code(),
            Code::kNotFound);
  EXPECT_EQ(platform_->PutSecret(boss, "acme", "LD_PRELOAD", "x").status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(platform_->PutSecret(boss, "acme", "lower", "x").status().code(),
            Code::kFailedPrecondition);
  auto put = platform_->PutSecret(boss, "acme", "REG_TOKEN", kSecret);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, static_cast<int64_t>(sizeof kSecret - 1));
  ASSERT_TRUE(platform_->PutSecret(admin_, "acme", "OTHER_KEY", "v").ok());
  auto list = platform_->ListSecrets(boss, "acme");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "OTHER_KEY");
  EXPECT_EQ((*list)[1].name, "REG_TOKEN");
  EXPECT_EQ(platform_->ListSecrets(alice, "acme").status().code(), Code::kPermissionDenied);
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/secrets.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  JobRequest req;
  req.gpus = 1;
  req.command = {"true"};
  req.secrets = {"MISSING"};
  EXPECT_EQ(Submit(alice, req).status().code(), Code::kFailedPrecondition);
  req.secrets = {"REG_TOKEN"};
  auto job = Submit(alice, req);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->secrets, std::vector<std::string>{"REG_TOKEN"});

  // Across a restart: the store keeps the secret, the job keeps the names.
  Restart();
  auto again = platform_->ListSecrets(admin_, "acme");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 2u);
  auto j = platform_->GetJob(admin_, job->id);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->secrets, std::vector<std::string>{"REG_TOKEN"});
  EXPECT_EQ(j->workspace_mode, "rw");

  const DesiredWorkloads d = Beat();
  const Assignment* a = Find(d, job->id);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->secret_env.at("REG_TOKEN"), kSecret);
  EXPECT_EQ(a->secret_env.count("OTHER_KEY"), 0u);               // only what the job asked for
  for (const auto& [k, v] : a->env) EXPECT_NE(v, kSecret) << k;  // apart from env
  EXPECT_EQ(a->env.at("GPUAAS_WORKSPACE"), dir_ + "/ws/acme");

  // No file holds the value in the clear: not the database, not the secrets file (sealed with
  // the key beside it, secrets.json.key: src/state/secret_store_test.cc).
  store_->Close();
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    if (!f.is_regular_file()) continue;
    EXPECT_EQ(ReadAll(f.path()).find(kSecret), std::string::npos) << f.path();
  }
  EXPECT_NE(ReadAll(dir_ + "/secrets.json").find("AES-256-GCM"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/secrets.json.key"));
}

TEST_F(RuntimeTest, DeletedSecretsAreRefusedAtSubmitAndAnUnreadableStoreStopsTheStart) {
  CreateEntity("acme");
  Principal boss = Member("boss", "acme", Role::kEntityAdmin);
  ASSERT_TRUE(platform_->PutSecret(boss, "acme", "REG_TOKEN", kSecret).ok());
  EXPECT_TRUE(platform_->DeleteSecret(boss, "acme", "REG_TOKEN").ok());
  EXPECT_EQ(platform_->DeleteSecret(boss, "acme", "REG_TOKEN").code(), Code::kNotFound);
  JobRequest req;
  req.gpus = 1;
  req.command = {"true"};
  req.secrets = {"REG_TOKEN"};
  EXPECT_EQ(Submit(boss, req).status().code(), Code::kFailedPrecondition);
  // A store others may read is refused rather than used.
  ASSERT_TRUE(platform_->PutSecret(boss, "acme", "REG_TOKEN", kSecret).ok());
  ClosePlatform();
  chmod((dir_ + "/secrets.json").c_str(), 0644);
  auto s = OpenSqliteStore(dir_ + "/db.sqlite");
  ASSERT_TRUE(s.ok());
  store_ = std::move(s).value();
  exec_ = std::make_unique<TestExecutor>(clock_, *store_);
  PlatformConfig cfg;
  cfg.secrets_path = dir_ + "/secrets.json";
  platform_ = std::make_unique<Platform>(clock_, *exec_, *store_, cfg);
  auto started = platform_->Start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find("chmod 600"), std::string::npos);
}

}  // namespace
}  // namespace gpuaas
