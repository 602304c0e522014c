// Tests of the SQLite store: round trips of every row type, upserts, reopen, group commit under
// concurrency, isolation of a failing batch, migrations, close and overload behaviour.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <tuple>

#include "store/sqlite_db.h"
#include "store/sqlite_store.h"
#include "store/test_temp_dir.h"

namespace gpuaas {
namespace {

Status CommitSync(Store& store, std::vector<Mutation> batch) {
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

auto Tie(const Entity& e) {
  return std::tie(e.id, e.name, e.quota, e.created_at, e.guarantee, e.shares);
}
auto Tie(const User& u) { return std::tie(u.id, u.name, u.entity, u.role, u.created_at); }
auto Tie(const ApiToken& t) {
  return std::tie(t.id, t.user, t.hash_hex, t.created_at, t.expires_at);
}
auto Tie(const GpuDevice& d) {
  return std::tie(d.index, d.uuid, d.model, d.gpu_class, d.memory_mb, d.state);
}
auto Tie(const Node& n) {
  return std::tie(n.id, n.name, n.state, n.simulated, n.labels, n.registered_at, n.last_heartbeat);
}
auto Tie(const Job& j) {
  return std::tie(j.id, j.name, j.kind, j.entity, j.user, j.gpus, j.gpu_types, j.walltime_s,
                  j.command, j.environment, j.priority, j.state, j.submitted_at, j.started_at,
                  j.finished_at, j.exit_code, j.reason, j.cancel_requested, j.gpu_type, j.node,
                  j.gpu_ids, j.allocation, j.project, j.priority_class, j.requeue_on_preempt,
                  j.allow_fallback, j.node_selector, j.resubmitted_from, j.cpus, j.memory_gb);
}
auto Tie(const Allocation& a) {
  return std::tie(a.id, a.job, a.entity, a.user, a.node, a.gpu_class, a.devices, a.start, a.end);
}
auto Tie(const UsageRecord& u) {
  return std::tie(u.allocation, u.job, u.entity, u.user, u.gpu_class, u.gpus, u.start, u.end,
                  u.energy_mwh, u.idle_gpu_millis);
}

template <typename T>
void ExpectSameRows(const std::vector<T>& got, const std::vector<T>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(Tie(got[i]) == Tie(want[i])) << "row " << i;
}

void ExpectSameNodes(const std::vector<Node>& got, const std::vector<Node>& want) {
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

std::unique_ptr<SqliteStore> MustOpen(const std::string& path, StoreOptions options = {}) {
  auto r = SqliteStore::Open(path, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

Job MakeJob(JobId id) {
  Job j;
  j.id = id;
  j.name = "job-" + std::to_string(id);
  j.command = {"sleep", "1"};
  return j;
}

TEST(SqliteStoreTest, RoundTripsEveryTypeAndField) {
  TestTempDir dir;
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  auto empty = store->Load();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->jobs.empty());
  EXPECT_TRUE(empty->meta.empty());

  Sample sample;
  ASSERT_TRUE(CommitSync(*store, sample.Batch()).ok());
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  sample.ExpectLoaded(*loaded);
  EXPECT_FALSE(loaded->jobs[1].exit_code.has_value());          // null stays null...
  EXPECT_EQ(loaded->jobs[0].exit_code, std::optional<int>(0));  // ...and 0 stays 0
}

TEST(SqliteStoreTest, UpsertOverwritesAndDeleteTokenRemoves) {
  TestTempDir dir;
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  Sample sample;
  ASSERT_TRUE(CommitSync(*store, sample.Batch()).ok());

  Job changed = sample.jobs[0];
  changed.state = JobState::kSucceeded;
  changed.exit_code.reset();
  changed.gpu_ids = {};
  changed.reason = "done";
  Entity renamed = sample.entities[1];
  renamed.name = "retail-bank";
  renamed.quota = {{"l40s", 4}};
  Node node = sample.nodes[0];
  node.gpus.pop_back();
  node.labels.clear();
  node.state = NodeState::kReady;
  ASSERT_TRUE(CommitSync(*store, {changed, renamed, node, MetaKV{"next_job_id", "99"},
                                  DeleteToken{7}, DeleteToken{12345}})
                  .ok());

  sample.jobs[0] = changed;
  sample.entities[1] = renamed;
  sample.nodes[0] = node;
  sample.meta["next_job_id"] = "99";
  sample.tokens.pop_back();
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok());
  sample.ExpectLoaded(*loaded);
}

TEST(SqliteStoreTest, ReopenAfterCloseKeepsEverything) {
  TestTempDir dir;
  Sample sample;
  {
    auto store = MustOpen(dir.File("db.sqlite"));
    ASSERT_TRUE(store);
    ASSERT_TRUE(CommitSync(*store, sample.Batch()).ok());
    store->Close();
  }
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok());
  sample.ExpectLoaded(*loaded);
}

TEST(SqliteStoreTest, ConcurrentCommitsAllSucceedAndAreGrouped) {
  TestTempDir dir;
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  constexpr int kThreads = 8, kPerThread = 250;
  std::atomic<int> ok{0}, failed{0};
  WriterGate gate(*store);  // the writer waits while every thread queues its batches
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        store->Commit({MakeJob(1 + t * kPerThread + i)},
                      [&](Status st) { (st.ok() ? ok : failed).fetch_add(1); });
      }
    });
  }
  for (auto& th : threads) th.join();
  gate.Release();
  ASSERT_TRUE(store->Flush().ok());

  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->jobs.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < loaded->jobs.size(); ++i) {
    EXPECT_EQ(loaded->jobs[i].id, static_cast<JobId>(i + 1));
  }
  SqliteStoreStats stats = store->Stats();
  EXPECT_EQ(stats.batches_ok, kThreads * kPerThread + 1);  // + the gate
  EXPECT_EQ(stats.transactions, 2);  // the gate's, then every queued batch in one group
  EXPECT_LT(stats.transactions, stats.batches_ok);
}

TEST(SqliteStoreTest, GroupRespectsMaxBatchMutations) {
  TestTempDir dir;
  StoreOptions options;
  options.max_batch_mutations = 10;
  auto store = MustOpen(dir.File("db.sqlite"), options);
  ASSERT_TRUE(store);
  WriterGate gate(*store);
  for (int i = 0; i < 30; ++i) store->Commit({MakeJob(2 * i + 1), MakeJob(2 * i + 2)}, nullptr);
  gate.Release();
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->Stats().transactions, 1 + 6);  // 60 mutations, 10 per transaction
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->jobs.size(), 60u);
}

TEST(SqliteStoreTest, CallbacksRunInSubmissionOrder) {
  TestTempDir dir;
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  std::vector<int> order;  // touched by the writer thread only
  for (int i = 0; i < 500; ++i) {
    store->Commit({MakeJob(i + 1)}, [&order, i](Status st) {
      EXPECT_TRUE(st.ok());
      order.push_back(i);
    });
  }
  ASSERT_TRUE(store->Flush().ok());
  ASSERT_EQ(order.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(order[i], i);
}

TEST(SqliteStoreTest, FailingBatchIsIsolatedWithinItsGroup) {
  TestTempDir dir;
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  UsageRecord usage{41, 1, 1, 1, "h200", 1, 10, 20};
  ASSERT_TRUE(CommitSync(*store, {usage}).ok());

  std::vector<Status> results(3);
  std::vector<int> order;
  WriterGate gate(*store);
  store->Commit({MakeJob(10)}, [&](Status st) {
    results[0] = st;
    order.push_back(0);
  });
  UsageRecord duplicate = usage;
  duplicate.gpus = 8;
  store->Commit({MakeJob(11), duplicate, MakeJob(12)}, [&](Status st) {
    results[1] = st;
    order.push_back(1);
  });
  store->Commit({MakeJob(13), UsageRecord{42, 13, 1, 1, "l40s", 1, 30, 40}}, [&](Status st) {
    results[2] = st;
    order.push_back(2);
  });
  gate.Release();
  ASSERT_TRUE(store->Flush().ok());

  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(results[1].code(), Code::kConflict) << results[1].ToString();
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok());
  std::vector<JobId> ids;
  for (const Job& j : loaded->jobs) ids.push_back(j.id);
  EXPECT_EQ(ids, (std::vector<JobId>{10, 13}));  // nothing of the failing batch
  ASSERT_EQ(loaded->usage.size(), 2u);
  EXPECT_EQ(loaded->usage[0].gpus, 1);  // the original record, not the duplicate
  EXPECT_EQ(loaded->usage[1].allocation, 42);
  SqliteStoreStats stats = store->Stats();
  EXPECT_EQ(stats.retried_groups, 1);
  EXPECT_EQ(stats.transactions, 3);  // usage, gate, and the group (still one commit)
  EXPECT_EQ(stats.batches_failed, 1);
}

TEST(SqliteStoreTest, LoneFailingBatchAppliesNothing) {
  TestTempDir dir;
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  UsageRecord usage{1, 1, 1, 1, "h200", 1, 10, 20};
  ASSERT_TRUE(CommitSync(*store, {usage}).ok());
  Status st = CommitSync(*store, {MakeJob(5), usage});
  EXPECT_EQ(st.code(), Code::kConflict);
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->jobs.empty());
  EXPECT_EQ(loaded->usage.size(), 1u);
  EXPECT_TRUE(CommitSync(*store, {MakeJob(6)}).ok());  // the store still works
}

TEST(SqliteStoreTest, CommitAfterCloseIsUnavailable) {
  TestTempDir dir;
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  std::atomic<bool> queued_ok{false};
  store->Commit({MakeJob(1)}, [&](Status st) { queued_ok = st.ok(); });
  store->Close();  // drains what was queued
  EXPECT_TRUE(queued_ok.load());
  Status late;
  store->Commit({MakeJob(2)}, [&](Status st) { late = st; });
  EXPECT_EQ(late.code(), Code::kUnavailable);
  EXPECT_EQ(store->Load().status().code(), Code::kUnavailable);
  EXPECT_TRUE(store->Flush().ok());
  store->Close();  // idempotent

  auto reopened = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(reopened);
  auto loaded = reopened->Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->jobs.size(), 1u);
  EXPECT_EQ(loaded->jobs[0].id, 1);
}

TEST(SqliteStoreTest, FullQueueFailsFastAsOverloaded) {
  TestTempDir dir;
  StoreOptions options;
  options.max_queued_batches = 2;
  auto store = MustOpen(dir.File("db.sqlite"), options);
  ASSERT_TRUE(store);
  std::vector<Status> results(3, Internal("not called"));
  WriterGate gate(*store);
  for (int i = 0; i < 3; ++i) {
    store->Commit({MakeJob(i + 1)}, [&results, i](Status st) { results[i] = st; });
  }
  EXPECT_EQ(results[2].code(), Code::kUnavailable);  // rejected at once, before the release
  EXPECT_NE(results[2].message().find("overloaded"), std::string::npos);
  gate.Release();
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
}

TEST(SqliteStoreTest, LoadReportsCorruptRows) {
  TestTempDir dir;
  {
    auto store = MustOpen(dir.File("db.sqlite"));
    ASSERT_TRUE(store);
    Sample sample;
    ASSERT_TRUE(CommitSync(*store, sample.Batch()).ok());
  }
  {
    auto db = SqliteDb::Open(dir.File("db.sqlite"));
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        db->Exec("UPDATE nodes SET gpus_json = '[{\"index\":\"zero\"}]' WHERE id = 2").ok());
  }
  auto store = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(store);
  auto loaded = store->Load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kInternal);
  EXPECT_NE(loaded.status().message().find("nodes"), std::string::npos);
}

TEST(SqliteStoreTest, RejectsBadOptions) {
  TestTempDir dir;
  StoreOptions options;
  options.max_batch_mutations = 0;
  EXPECT_EQ(OpenSqliteStore(dir.File("db.sqlite"), options).status().code(),
            Code::kInvalidArgument);
}

}  // namespace
}  // namespace gpuaas
