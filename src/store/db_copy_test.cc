// Tests of `gpuaas db copy`'s engine (db_copy.h) on real databases: SQLite files and the test
// program's PostgreSQL server (pg_test_server.h). Every row type and field goes SQLite ->
// PostgreSQL -> SQLite unchanged and a server opens the copy; a destination that holds a
// platform, a database a server holds, a source of another schema version, a missing or
// foreign file and the same database twice are refused; a write that fails half-way (a
// trigger) leaves the destination as it was; the read-back check names the first difference.
#include "store/db_copy.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/pg_store.h"
#include "store/pg_test_server.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"
#include "store/store_test_support.h"
#include "store/test_temp_dir.h"

namespace gpuaas {
namespace {

using namespace store_test;  // NOLINT: the shared helpers of the store tests

DbLocation Sqlite(const std::string& path) { return {false, path}; }
DbLocation Pg(const std::string& conninfo) { return {true, conninfo}; }

// Every row type, billing included, with the fields the sample does not set.
std::vector<Mutation> FullBatch() {
  std::vector<Mutation> b = Sample().Batch();
  Job j = MakeJob(40);
  j.workspace_mode = "ro";
  j.secrets = {"HF_TOKEN", "S3_KEY"};
  b.push_back(j);
  ApiToken session{9, 2, std::string(64, 'b'), 11, 1764800000000, true};
  b.push_back(session);
  b.push_back(PriceChange{1, "h200", "", 4'000'000, 1'000, 900});
  b.push_back(PriceChange{2, "l40s", "best-effort", 900'000, 2'000, 901});
  b.push_back(Budget{1, 500'000'000, BudgetPolicy::kBestEffortOnly, 77});
  b.push_back(BillingEvent{1, 1, "2026-11", "budget_80", 55, "équipe reached 80%"});
  ClosedInvoice inv;
  inv.entity = 1;
  inv.month = "2026-10";
  inv.closed_at = 1'800'000'000'000;
  for (int i = 0; i < 2; ++i) {
    inv.lines.push_back({10 + i, 20 + i, 3, "p," + std::to_string(i), "h200", "", i + 1, 1000, 1500,
                         1, 3'500'000, 972, 5, 7, 3'000'000'000 + i, 9});
  }
  b.push_back(inv);
  b.push_back(CreditNote{1, 1, "2026-10", 250'000, "outage «13 h»", 1, 99});
  b.push_back(StorageQuota{2, 300'000'000'000, 5});
  b.push_back(User{7, "dana", 2, Role::kEntityAdmin, 12, true, 1'800'000'000'000});
  b.push_back(GroupMapping{1, "/bank/risk-ml", 2, Role::kEntityAdmin, 1, 13});
  b.push_back(GroupMapping{2, "GPU Users «FR»", 1, Role::kMember, 1, 14});
  b.push_back(GroupMapping{3, "gone", 1, Role::kMember, 1, 15});
  b.push_back(DeleteGroupMapping{3});
  return b;
}

// Every row of a database (`where`: a SQLite path or a connection string), as the server loads it.
template <typename Db>
StoredState LoadFrom(const std::string& where) {
  auto db = Db::Open(where);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return {};
  auto s = LoadState(*db);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : StoredState{};
}
StoredState LoadSqlite(const std::string& path) { return LoadFrom<SqliteDb>(path); }
StoredState LoadPg(const std::string& conninfo) { return LoadFrom<PgDb>(conninfo); }

// A SQLite platform with every row; closed (its lock released) on return.
void MakeSqlitePlatform(const std::string& path, std::vector<Mutation> batch = FullBatch()) {
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(CommitSync(**store, std::move(batch)).ok());
}

TEST(DbCopyTest, EveryRowGoesToPostgresqlAndBackUnchangedAndAServerOpensTheCopy) {
  PgTestServer* pg = SharedPgServer();
  ASSERT_NE(pg, nullptr);
  TestTempDir dir;
  const std::string src = dir.File("gpuaas.db"), back = dir.File("back.db");
  MakeSqlitePlatform(src);
  const StoredState want = LoadSqlite(src);
  ASSERT_EQ(want.jobs.size(), 4u);
  ASSERT_EQ(want.invoices.size(), 1u);
  ASSERT_EQ(want.group_mappings.size(), 2u);  // the third was deleted
  EXPECT_EQ(want.group_mappings[1].group, "GPU Users «FR»");
  EXPECT_TRUE(want.users.back().from_directory);
  EXPECT_EQ(want.users.back().disabled_at, 1'800'000'000'000);

  const std::string pg_db = FreshPgDatabase(*pg);
  std::vector<std::string> tables_seen;
  auto report = CopyDatabase(Sqlite(src), Pg(pg_db),
                             [&](const std::string& table, int64_t done, int64_t total) {
                               EXPECT_LE(done, total);
                               tables_seen.push_back(table);
                             });
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->schema_version, LatestSqliteSchemaVersion());
  // 2 entities, 4 users, 3 tokens, 2 nodes, 4 jobs, 2 allocations, 2 usage, 2 meta, 2 prices,
  // 1 budget, 1 event, 1 invoice, 1 credit note, 1 quota, 2 group mappings (the invoice's 2
  // lines travel with it).
  EXPECT_EQ(report->rows, 30);
  EXPECT_EQ(report->tables.back(), (std::pair<std::string, int64_t>("invoice_lines", 2)));
  EXPECT_EQ(tables_seen.size(), 15u);  // one report per table
  EXPECT_EQ(StateDifference(LoadPg(pg_db), want), "");
  EXPECT_TRUE(LoadPg(pg_db) == want);

  // And back into a new SQLite file: the same rows again.
  auto again = CopyDatabase(Pg(pg_db), Sqlite(back));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(LoadSqlite(back) == want);

  // A server opens the copy and goes on writing.
  auto store = PgStore::Open(pg_db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(CommitSync(**store, {MakeJob(41)}).ok());
  auto loaded = (*store)->Load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->jobs.size(), 5u);
}

TEST(DbCopyTest, ADestinationThatHoldsAPlatformIsRefusedAndLeftAsItWas) {
  TestTempDir dir;
  const std::string src = dir.File("src.db"), dst = dir.File("dst.db");
  MakeSqlitePlatform(src);
  MakeSqlitePlatform(dst, {Entity{1, "other", {}, 5}, MetaKV{"next_entity_id", "2"}});
  const StoredState before = LoadSqlite(dst);
  auto r = CopyDatabase(Sqlite(src), Sqlite(dst));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("already holds a platform (1 entities, 1 meta)"),
            std::string::npos)
      << r.status().message();
  EXPECT_TRUE(LoadSqlite(dst) == before);
}

TEST(DbCopyTest, ADatabaseAServerHoldsIsRefusedOnEitherSide) {
  PgTestServer* pg = SharedPgServer();
  ASSERT_NE(pg, nullptr);
  TestTempDir dir;
  const std::string src = dir.File("src.db"), dst = dir.File("dst.db");
  MakeSqlitePlatform(src);
  {
    auto server = OpenSqliteStore(src);  // a server runs on the source
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto r = CopyDatabase(Sqlite(src), Sqlite(dst));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
    EXPECT_NE(r.status().message().find("in use by another GPUaaS process (pid " +
                                        std::to_string(getpid()) + ")"),
              std::string::npos)
        << r.status().message();
    EXPECT_FALSE(std::filesystem::exists(dst));
  }
  const std::string pg_db = FreshPgDatabase(*pg);
  {
    auto server = PgStore::Open(pg_db);  // a server runs on the destination
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto r = CopyDatabase(Sqlite(src), Pg(pg_db));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
    EXPECT_NE(r.status().message().find("in use by another GPUaaS process (PostgreSQL backend"),
              std::string::npos)
        << r.status().message();
  }
  EXPECT_TRUE(LoadPg(pg_db) == StoredState{});
  // Once the servers are gone, the same copy goes through.
  EXPECT_TRUE(CopyDatabase(Sqlite(src), Pg(pg_db)).ok());
}

TEST(DbCopyTest, ASourceOfAnotherSchemaVersionOrNoPlatformIsRefused) {
  TestTempDir dir;
  const std::string src = dir.File("src.db"), dst = dir.File("dst.db");
  MakeSqlitePlatform(src);
  const int latest = LatestSqliteSchemaVersion();
  {
    auto db = SqliteDb::Open(src);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        db->Exec("DELETE FROM schema_migrations WHERE version = " + std::to_string(latest)).ok());
  }
  auto older = CopyDatabase(Sqlite(src), Sqlite(dst));
  ASSERT_FALSE(older.ok());
  EXPECT_EQ(older.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(older.status().message().find("schema version " + std::to_string(latest - 1) +
                                          " and this gpuaas writes " + std::to_string(latest)),
            std::string::npos)
      << older.status().message();
  {
    auto db = SqliteDb::Open(src);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO schema_migrations(version, name, applied_at) VALUES (" +
                         std::to_string(latest + 1) + ", 'future', 0), (" + std::to_string(latest) +
                         ", 'now', 0)")
                    .ok());
  }
  auto newer = CopyDatabase(Sqlite(src), Sqlite(dst));
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.status().message().find("written by a newer gpuaas"), std::string::npos)
      << newer.status().message();
  EXPECT_FALSE(std::filesystem::exists(dst));

  const std::string foreign = dir.File("foreign.db");
  {
    auto db = SqliteDb::Open(foreign);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE notes (t TEXT)").ok());
  }
  auto none = CopyDatabase(Sqlite(foreign), Sqlite(dst));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("holds no GPUaaS platform"), std::string::npos)
      << none.status().message();

  auto missing = CopyDatabase(Sqlite(dir.File("nope.db")), Sqlite(dst));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalidArgument);
  auto same = CopyDatabase(Sqlite(src), Sqlite(dir.File("./src.db")));
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.status().code(), Code::kInvalidArgument);
  EXPECT_NE(same.status().message().find("the same database"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dst));
}

TEST(DbCopyTest, AWriteThatFailsHalfWayLeavesTheDestinationAsItWas) {
  PgTestServer* pg = SharedPgServer();
  ASSERT_NE(pg, nullptr);
  TestTempDir dir;
  const std::string src = dir.File("src.db"), dst = dir.File("dst.db");
  MakeSqlitePlatform(src);

  // PostgreSQL: a trigger refuses the third job, after entities, users, ... were written.
  const std::string pg_db = FreshPgDatabase(*pg);
  {
    auto db = PgDb::Open(pg_db);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MigratePg(*db).ok());
    Status st = db->Exec(
        "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$ "
        "LANGUAGE plpgsql; CREATE TRIGGER boom BEFORE INSERT ON jobs FOR EACH ROW WHEN "
        "(NEW.id = 3) EXECUTE FUNCTION boom()");
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  auto r = CopyDatabase(Sqlite(src), Pg(pg_db));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("jobs: "), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("(nothing was copied)"), std::string::npos);
  EXPECT_TRUE(LoadPg(pg_db) == StoredState{});

  // SQLite: the same, with the destination file made beforehand (it stays, empty).
  {
    auto db = SqliteDb::Open(dst);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MigrateSqlite(*db).ok());
    ASSERT_TRUE(db->Exec("CREATE TRIGGER boom BEFORE INSERT ON jobs WHEN NEW.id = 3 "
                         "BEGIN SELECT RAISE(ABORT, 'boom'); END")
                    .ok());
  }
  auto s = CopyDatabase(Sqlite(src), Sqlite(dst));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("boom"), std::string::npos) << s.status().message();
  EXPECT_TRUE(LoadSqlite(dst) == StoredState{});
}

TEST(DbCopyTest, TheReadBackNamesTheFirstDifference) {
  auto state = [] {
    StoredState s;
    Sample sample;
    s.entities = sample.entities;
    s.users = sample.users;
    s.jobs = sample.jobs;
    s.meta = sample.meta;
    return s;
  };
  EXPECT_EQ(StateDifference(state(), state()), "");
  StoredState changed = state();
  changed.jobs[1].secrets = {"X"};
  EXPECT_EQ(StateDifference(changed, state()), "jobs: row 2 (id 2) differs");
  StoredState fewer = state();
  fewer.users.pop_back();
  EXPECT_EQ(StateDifference(fewer, state()), "users: 2 rows, 3 expected");
  StoredState meta = state();
  meta.meta["next_job_id"] = "5";
  EXPECT_EQ(StateDifference(meta, state()), "meta differs");
}

TEST(DbCopyTest, LocationsAreSqliteFilesOrPostgresqlConnectionStrings) {
  auto url = ParseDbLocation("postgresql://gpuaas:s3cret@db.example:5433/platform");
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->postgres);
  EXPECT_EQ(DescribeDbLocation(*url), "PostgreSQL platform on db.example:5433");
  auto kv = ParseDbLocation("host=/run/postgresql dbname=gpuaas password=s3cret");
  ASSERT_TRUE(kv.ok());
  EXPECT_TRUE(kv->postgres);
  EXPECT_EQ(DescribeDbLocation(*kv), "PostgreSQL gpuaas on /run/postgresql");
  EXPECT_TRUE(ParseDbLocation("postgres://h/db")->postgres);
  for (const char* path : {"/var/lib/gpuaas/gpuaas.db", "state.db", "./a=b.db"}) {
    auto p = ParseDbLocation(path);
    ASSERT_TRUE(p.ok()) << path;
    EXPECT_FALSE(p->postgres) << path;
    EXPECT_EQ(DescribeDbLocation(*p), std::string("SQLite ") + path);
  }
  EXPECT_EQ(ParseDbLocation("").status().code(), Code::kInvalidArgument);
  auto bad = ParseDbLocation("host='unterminated");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not a PostgreSQL connection string"), std::string::npos);
}

}  // namespace
}  // namespace gpuaas
