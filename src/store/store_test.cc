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
#include "store/store_test_support.h"
#include "store/test_temp_dir.h"

namespace gpuaas {
namespace {

using namespace store_test;  // NOLINT: the shared helpers of the store tests

std::unique_ptr<SqliteStore> MustOpen(const std::string& path, StoreOptions options = {}) {
  auto r = SqliteStore::Open(path, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
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

TEST(SqliteStoreTest, OneStorePerFileUntilItCloses) {
  TestTempDir dir;
  auto first = MustOpen(dir.File("db.sqlite"));
  ASSERT_TRUE(first);
  auto second = SqliteStore::Open(dir.File("db.sqlite"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use by another GPUaaS process (pid " +
                                           std::to_string(getpid()) + ")"),
            std::string::npos)
      << second.status().message();
  EXPECT_TRUE(SqliteStore::Open(dir.File("other.sqlite")).ok());  // another file is free
  first.reset();
  EXPECT_TRUE(MustOpen(dir.File("db.sqlite")));
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
