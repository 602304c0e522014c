// Helpers of the store tests (store_test.cc for SQLite, pg_store_test.cc for PostgreSQL): a
// synchronous commit, a gate that holds the writer so that batches group, a sample of every row
// type with every field set, and row comparisons. For the store's tests only.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "store/store.h"

namespace gpuaas::store_test {

inline Status CommitSync(Store& store, std::vector<Mutation> batch) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.Commit(std::move(batch), [&p](Status st) { p.set_value(std::move(st)); });
  return f.get();
}

// Holds the writer thread inside a callback until Release(), so that batches queued meanwhile
// are committed as one group: deterministic grouping without timing.
class WriterGate {
 public:
  explicit WriterGate(Store& store) {
    store.Commit({MetaKV{"gate", "x"}}, [this](Status) {
      entered_.set_value();
      release_.get_future().wait();
    });
    entered_.get_future().wait();
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> entered_, release_;
};

inline auto Tie(const Entity& e) {
  return std::tie(e.id, e.name, e.quota, e.created_at, e.guarantee, e.shares);
}
inline auto Tie(const User& u) { return std::tie(u.id, u.name, u.entity, u.role, u.created_at); }
inline auto Tie(const ApiToken& t) {
  return std::tie(t.id, t.user, t.hash_hex, t.created_at, t.expires_at);
}
inline auto Tie(const GpuDevice& d) {
  return std::tie(d.index, d.uuid, d.model, d.gpu_class, d.memory_mb, d.state);
}
inline auto Tie(const Node& n) {
  return std::tie(n.id, n.name, n.state, n.simulated, n.labels, n.registered_at, n.last_heartbeat);
}
inline auto Tie(const Job& j) {
  return std::tie(j.id, j.name, j.kind, j.entity, j.user, j.gpus, j.gpu_types, j.walltime_s,
                  j.command, j.environment, j.priority, j.state, j.submitted_at, j.started_at,
                  j.finished_at, j.exit_code, j.reason, j.cancel_requested, j.gpu_type, j.node,
                  j.gpu_ids, j.allocation, j.project, j.priority_class, j.requeue_on_preempt,
                  j.allow_fallback, j.node_selector, j.resubmitted_from, j.cpus, j.memory_gb);
}
inline auto Tie(const Allocation& a) {
  return std::tie(a.id, a.job, a.entity, a.user, a.node, a.gpu_class, a.devices, a.start, a.end);
}
inline auto Tie(const UsageRecord& u) {
  return std::tie(u.allocation, u.job, u.entity, u.user, u.gpu_class, u.gpus, u.start, u.end,
                  u.energy_mwh, u.idle_gpu_millis, u.net_rx_bytes, u.net_tx_bytes);
}

template <typename T>
void ExpectSameRows(const std::vector<T>& got, const std::vector<T>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(Tie(got[i]) == Tie(want[i])) << "row " << i;
}

inline void ExpectSameNodes(const std::vector<Node>& got, const std::vector<Node>& want) {
  ExpectSameRows(got, want);
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    ExpectSameRows(got[i].gpus, want[i].gpus);
  }
}

// A fixture of every type with every field set (and a second row with defaults/empties).
struct Sample {
  std::vector<Entity> entities;
  std::vector<User> users;
  std::vector<ApiToken> tokens;
  std::vector<Node> nodes;
  std::vector<Job> jobs;
  std::vector<Allocation> allocations;
  std::vector<UsageRecord> usage;
  std::map<std::string, std::string> meta;

  Sample() {
    entities.push_back({1, "équipe-日本 \"quoted\"", {{"h200", 8}, {"l40s", 0}}, 1700000000123});
    entities.push_back({2, "retail", {}, 0, {{"h200", 4}}, 3});
    users.push_back({1, "root", 0, Role::kPlatformAdmin, 5});
    users.push_back({2, "zoë", 1, Role::kEntityAdmin, 6});
    users.push_back({3, "bob", 2, Role::kMember, 7});
    tokens.push_back({1, 2, std::string(64, 'a'), 9, 1764700000123});
    tokens.push_back({7, 3, "00ff", 10});
    Node n1;
    n1.id = 1;
    n1.name = "gpu-01";
    n1.state = NodeState::kDraining;
    n1.simulated = false;
    n1.gpus = {{0, "GPU-abc", "NVIDIA H200", "h200", 143771, DeviceState::kHealthy},
               {1, "GPU-def", "NVIDIA H200", "h200.1g.18gb", 18000, DeviceState::kUnhealthy}};
    n1.labels = {{"rack", "r1"}, {"zone", "β"}};
    n1.registered_at = 100;
    n1.last_heartbeat = 200;
    Node n2;
    n2.id = 2;
    n2.name = "sim-01";
    n2.state = NodeState::kCordoned;
    n2.simulated = true;
    nodes = {n1, n2};
    Job j1;
    j1.id = 1;
    j1.name = "train «llm»";
    j1.kind = JobKind::kNotebook;
    j1.entity = 1;
    j1.user = 2;
    j1.gpus = 2;
    j1.gpu_types = {"h200", "l40s"};
    j1.walltime_s = 3600;
    j1.command = {"python", "-c", "print(\"hi\\n\")\n\ttab", ""};
    j1.environment = "pytorch";
    j1.priority = -3;
    j1.state = JobState::kFailed;
    j1.submitted_at = 1000;
    j1.started_at = 2000;
    j1.finished_at = 3000;
    j1.exit_code = 0;
    j1.reason = "exit code 0?";
    j1.cancel_requested = true;
    j1.gpu_type = "h200";
    j1.node = 1;
    j1.gpu_ids = {0, 1};
    j1.allocation = 5;
    j1.project = "fraud-detection";
    j1.priority_class = "best-effort";
    j1.requeue_on_preempt = true;
    j1.allow_fallback = false;
    j1.node_selector = {{"rack", "r1"}};
    j1.resubmitted_from = 9;
    j1.cpus = 16;
    j1.memory_gb = 128;
    Job j2;  // defaults: no exit code, empty vectors and strings
    j2.id = 2;
    Job j3 = j1;
    j3.id = 3;
    j3.exit_code = -9;
    j3.kind = JobKind::kService;
    j3.state = JobState::kTimedOut;
    jobs = {j1, j2, j3};
    allocations.push_back({5, 1, 1, 2, 1, "h200", {0, 1}, 2000, 3000});
    allocations.push_back({6, 3, 1, 2, 1, "l40s", {}, 2500, 0});
    usage.push_back({5, 1, 1, 2, "h200", 2, 2000, 3000, 1234, 567});
    usage.push_back({6, 3, 1, 2, "l40s", 0, 2500, 2600});
    meta = {{"next_job_id", "4"}, {"ünïcode", ""}};
  }

  // Every row as mutations, in reverse id order (Load must sort).
  std::vector<Mutation> Batch() const {
    std::vector<Mutation> b;
    for (auto it = usage.rbegin(); it != usage.rend(); ++it) b.push_back(*it);
    for (auto it = allocations.rbegin(); it != allocations.rend(); ++it) b.push_back(*it);
    for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) b.push_back(*it);
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) b.push_back(*it);
    for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) b.push_back(*it);
    for (auto it = users.rbegin(); it != users.rend(); ++it) b.push_back(*it);
    for (auto it = entities.rbegin(); it != entities.rend(); ++it) b.push_back(*it);
    for (const auto& [k, v] : meta) b.push_back(MetaKV{k, v});
    return b;
  }

  void ExpectLoaded(const StoredState& s) const {
    ExpectSameRows(s.entities, entities);
    ExpectSameRows(s.users, users);
    ExpectSameRows(s.tokens, tokens);
    ExpectSameNodes(s.nodes, nodes);
    ExpectSameRows(s.jobs, jobs);
    ExpectSameRows(s.allocations, allocations);
    ExpectSameRows(s.usage, usage);
    EXPECT_EQ(s.meta, meta);
  }
};

inline Job MakeJob(JobId id) {
  Job j;
  j.id = id;
  j.name = "job-" + std::to_string(id);
  j.command = {"sleep", "1"};
  return j;
}

}  // namespace gpuaas::store_test
