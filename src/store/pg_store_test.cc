// Tests of the PostgreSQL store against a real PostgreSQL server started for this test binary
// (pg_test_server.h): the same row mapping and group commit as SQLite (store_test.cc) on every
// row type and field, upserts and deletes, reopen, a failing batch isolated within its group,
// billing rows and a month closed once, migrations recorded once, a database newer than the code
// refused, and a server that cannot be reached.
#include <gtest/gtest.h>

#include "store/pg_db.h"
#include "store/pg_store.h"
#include "store/pg_test_server.h"
#include "store/sqlite_schema.h"
#include "store/store_test_support.h"

namespace gpuaas {
namespace {

using namespace store_test;  // NOLINT: the shared helpers of the store tests

PgTestServer* server = nullptr;

class PgServerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { server = SharedPgServer(); }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PgServerEnvironment);

std::string FreshDatabase() { return FreshPgDatabase(*server); }

std::unique_ptr<PgStore> MustOpen(const std::string& conninfo, StoreOptions options = {}) {
  auto r = PgStore::Open(conninfo, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

TEST(PgStoreTest, RoundTripsEveryTypeAndField) {
  ASSERT_NE(server, nullptr);
  auto store = MustOpen(FreshDatabase());
  ASSERT_TRUE(store);
  auto empty = store->Load();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->jobs.empty());
  Sample sample;
  ASSERT_TRUE(CommitSync(*store, sample.Batch()).ok());
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  sample.ExpectLoaded(*loaded);
  EXPECT_FALSE(loaded->jobs[1].exit_code.has_value());          // null stays null...
  EXPECT_EQ(loaded->jobs[0].exit_code, std::optional<int>(0));  // ...and 0 stays 0
}

TEST(PgStoreTest, UpsertOverwritesDeleteTokenRemovesAndReopenKeepsEverything) {
  ASSERT_NE(server, nullptr);
  const std::string db = FreshDatabase();
  Sample sample;
  {
    auto store = MustOpen(db);
    ASSERT_TRUE(store);
    ASSERT_TRUE(CommitSync(*store, sample.Batch()).ok());
    Job changed = sample.jobs[0];
    changed.state = JobState::kSucceeded;
    changed.exit_code.reset();
    changed.reason = "done";
    Entity renamed = sample.entities[1];
    renamed.name = "retail-bank";
    ASSERT_TRUE(CommitSync(*store, {changed, renamed, MetaKV{"next_job_id", "99"}, DeleteToken{7},
                                    DeleteToken{12345}})
                    .ok());
    sample.jobs[0] = changed;
    sample.entities[1] = renamed;
    sample.meta["next_job_id"] = "99";
    sample.tokens.pop_back();
    store->Close();
  }
  auto store = MustOpen(db);  // the migrations are not applied twice
  ASSERT_TRUE(store);
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  sample.ExpectLoaded(*loaded);
  auto check = PgDb::Open(db);
  ASSERT_TRUE(check.ok());
  auto versions = check->QueryText("SELECT COUNT(*) || '/' || MAX(version) FROM schema_migrations");
  ASSERT_TRUE(versions.ok());
  const std::string latest = std::to_string(LatestSqliteSchemaVersion());
  EXPECT_EQ(versions->value_or(""), latest + "/" + latest);
}

TEST(PgStoreTest, FailingBatchIsIsolatedWithinItsGroup) {
  ASSERT_NE(server, nullptr);
  auto store = MustOpen(FreshDatabase());
  ASSERT_TRUE(store);
  UsageRecord usage{41, 1, 1, 1, "h200", 1, 10, 20};
  ASSERT_TRUE(CommitSync(*store, {usage}).ok());
  std::vector<Status> results(3);
  WriterGate gate(*store);
  store->Commit({MakeJob(10)}, [&](Status st) { results[0] = st; });
  UsageRecord duplicate = usage;
  duplicate.gpus = 8;
  store->Commit({MakeJob(11), duplicate, MakeJob(12)}, [&](Status st) { results[1] = st; });
  store->Commit({MakeJob(13), UsageRecord{42, 13, 1, 1, "l40s", 1, 30, 40}},
                [&](Status st) { results[2] = st; });
  gate.Release();
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(results[1].code(), Code::kConflict) << results[1].ToString();
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.ok());
  std::vector<JobId> ids;
  for (const Job& j : loaded->jobs) ids.push_back(j.id);
  EXPECT_EQ(ids, (std::vector<JobId>{10, 13}));  // nothing of the failing batch
  ASSERT_EQ(loaded->usage.size(), 2u);
  EXPECT_EQ(loaded->usage[0].gpus, 1);
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.retried_groups, 1);
  EXPECT_EQ(stats.transactions, 3);
  EXPECT_EQ(stats.batches_failed, 1);
  // A lone failing batch applies nothing, and the store still works.
  EXPECT_EQ(CommitSync(*store, {MakeJob(5), usage}).code(), Code::kConflict);
  EXPECT_TRUE(CommitSync(*store, {MakeJob(6)}).ok());
  EXPECT_EQ(store->Load()->jobs.size(), 3u);
}

TEST(PgStoreTest, BillingRowsRoundTripAndAMonthClosesOnce) {
  ASSERT_NE(server, nullptr);
  auto store = MustOpen(FreshDatabase());
  ASSERT_TRUE(store);
  ClosedInvoice inv;
  inv.entity = 1;
  inv.month = "2026-10";
  inv.closed_at = 1'800'000'000'000;
  for (int i = 0; i < 2; ++i) {
    InvoiceLine l;
    l.job = 10 + i;
    l.allocation = 20 + i;
    l.user = 3;
    l.project = "p," + std::to_string(i);
    l.gpu_class = "h200";
    l.gpus = i + 1;
    l.start = 1000 * i;
    l.end = 1000 * i + 500;
    l.rate = 3'500'000;
    l.amount = 972 + i;
    l.net_rx_bytes = (int64_t{1} << 40) + i;  // BIGINT, not INTEGER
    l.net_tx_bytes = 5 + i;
    inv.lines.push_back(l);
  }
  ASSERT_TRUE(
      CommitSync(*store, {PriceChange{1, "h200", "best-effort", 1'000'000, 2'000, 901},
                          Budget{1, 500'000'000, BudgetPolicy::kBestEffortOnly, 77},
                          BillingEvent{1, 1, "2026-11", "budget_80", 55, "80 % «reached»"}, inv,
                          CreditNote{1, 1, "2026-10", 1'500'000, "node failure", 2, 66},
                          StorageQuota{1, 300'000'000'000, 5}})
          .ok());
  ASSERT_TRUE(CommitSync(*store, {Budget{1, 600'000'000, BudgetPolicy::kRefuse, 78}}).ok());
  EXPECT_EQ(CommitSync(*store, {inv}).code(), Code::kConflict);  // a month closes once
  auto st = store->Load();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->prices.size(), 1u);
  EXPECT_EQ(st->prices[0].priority_class, "best-effort");
  ASSERT_EQ(st->budgets.size(), 1u);
  EXPECT_EQ(st->budgets[0].monthly, 600'000'000);
  EXPECT_EQ(st->budgets[0].policy, BudgetPolicy::kRefuse);
  ASSERT_EQ(st->billing_events.size(), 1u);
  EXPECT_EQ(st->billing_events[0].message, "80 % «reached»");
  ASSERT_EQ(st->invoices.size(), 1u);
  ASSERT_EQ(st->invoices[0].lines.size(), 2u);
  EXPECT_EQ(st->invoices[0].lines[1].project, "p,1");
  EXPECT_EQ(st->invoices[0].lines[1].user, 3);
  EXPECT_EQ(st->invoices[0].lines[1].net_rx_bytes, (int64_t{1} << 40) + 1);
  EXPECT_EQ(st->invoices[0].lines[1].net_tx_bytes, 6);
  ASSERT_EQ(st->credit_notes.size(), 1u);
  EXPECT_EQ(st->credit_notes[0].amount, 1'500'000);
  ASSERT_EQ(st->storage_quotas.size(), 1u);
  EXPECT_EQ(st->storage_quotas[0].quota_bytes, 300'000'000'000);
}

TEST(PgStoreTest, ANewerDatabaseAndAnUnreachableServerAreRefused) {
  ASSERT_NE(server, nullptr);
  const std::string db = FreshDatabase();
  { ASSERT_TRUE(MustOpen(db)); }
  auto conn = PgDb::Open(db);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn->Exec("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)").ok());
  auto newer = PgStore::Open(db);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("newer than this gpuaas"), std::string::npos);
  auto nowhere = PgStore::Open("host=/nonexistent-gpuaas-dir user=gpuaas dbname=x");
  ASSERT_FALSE(nowhere.ok());
  EXPECT_EQ(nowhere.status().code(), Code::kUnavailable);
  EXPECT_NE(nowhere.status().message().find("cannot connect"), std::string::npos);
}

TEST(PgStoreTest, OneStorePerDatabaseUntilItCloses) {
  ASSERT_NE(server, nullptr);
  const std::string db = FreshDatabase();
  auto first = MustOpen(db);
  ASSERT_TRUE(first);
  auto second = PgStore::Open(db);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use by another GPUaaS process (PostgreSQL backend "
                                           "pid "),
            std::string::npos)
      << second.status().message();
  EXPECT_TRUE(MustOpen(FreshDatabase()));  // the lock is per database
  first.reset();
  EXPECT_TRUE(MustOpen(db));
}

TEST(PgDbTest, ParametersBecomeDollarsOutsideQuotes) {
  EXPECT_EQ(PgParameters("SELECT ?1, '?2', \"a?\" FROM t WHERE x = ?12"),
            "SELECT $1, '?2', \"a?\" FROM t WHERE x = $12");
}

}  // namespace
}  // namespace gpuaas
