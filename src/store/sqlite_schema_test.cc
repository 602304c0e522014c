// Tests of the SQLite store's schema handling: WAL mode, versioned migrations recorded once,
// and refusal of a database written by a newer version.
#include <gtest/gtest.h>

#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"
#include "store/test_temp_dir.h"

namespace gpuaas {
namespace {

void OpenAndClose(const std::string& path) {
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  (*store)->Close();
}

TEST(SqliteSchemaTest, UsesWalMode) {
  TestTempDir dir;
  OpenAndClose(dir.File("db.sqlite"));
  auto db = SqliteDb::Open(dir.File("db.sqlite"));
  ASSERT_TRUE(db.ok());
  auto mode = db->QueryText("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(mode->value_or(""), "wal");
}

TEST(SqliteSchemaTest, RecordsMigrationVersionOnce) {
  TestTempDir dir;
  OpenAndClose(dir.File("db.sqlite"));
  OpenAndClose(dir.File("db.sqlite"));  // must not re-apply anything
  auto db = SqliteDb::Open(dir.File("db.sqlite"));
  ASSERT_TRUE(db.ok());
  auto version = SqliteSchemaVersion(*db);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, LatestSqliteSchemaVersion());
  auto count = db->QueryText("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->value_or(""), std::to_string(SqliteMigrations().size()));
  auto applied = db->QueryText("SELECT MIN(applied_at) > 1600000000000 FROM schema_migrations");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->value_or(""), "1");
}

TEST(SqliteSchemaTest, RefusesDatabaseFromTheFuture) {
  TestTempDir dir;
  OpenAndClose(dir.File("db.sqlite"));
  {
    auto db = SqliteDb::Open(dir.File("db.sqlite"));
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO schema_migrations VALUES (999, 'future', 0)").ok());
  }
  auto store = OpenSqliteStore(dir.File("db.sqlite"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("999"), std::string::npos);
  EXPECT_NE(store.status().message().find("newer"), std::string::npos);
}

TEST(SqliteSchemaTest, MigrationsAreContiguousFromOne) {
  int expected = 1;
  for (const SqliteMigration& m : SqliteMigrations()) EXPECT_EQ(m.version, expected++);
  EXPECT_EQ(LatestSqliteSchemaVersion(), expected - 1);
}

}  // namespace
}  // namespace gpuaas
