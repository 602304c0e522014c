#include "billing/budget.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "billing/workspace_usage.h"

namespace gpuaas {
namespace {

TEST(Budget, Thresholds) {
  EXPECT_TRUE(ReachedThresholds(0, 1'000).empty());
  EXPECT_TRUE(ReachedThresholds(100, 79).empty());
  EXPECT_EQ(ReachedThresholds(100, 80), (std::vector<int>{80}));
  EXPECT_EQ(ReachedThresholds(100, 99), (std::vector<int>{80}));
  EXPECT_EQ(ReachedThresholds(100, 100), (std::vector<int>{80, 100}));
  EXPECT_EQ(BudgetEventKind(80), "budget_80");
}

TEST(Budget, Admission) {
  Budget b{1, 500'000'000, BudgetPolicy::kRefuse, 0};
  EXPECT_TRUE(CheckBudgetAdmission("acme", b, 499'999'999, false, "2026-11").ok());
  Status s = CheckBudgetAdmission("acme", b, 500'000'000, true, "2026-11");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("acme has spent 500.00 EUR of its 500.00 EUR budget for 2026-11"),
            std::string::npos)
      << s.message();
  b.policy = BudgetPolicy::kBestEffortOnly;
  EXPECT_TRUE(CheckBudgetAdmission("acme", b, 600'000'000, true, "2026-11").ok());
  s = CheckBudgetAdmission("acme", b, 600'000'000, false, "2026-11");
  EXPECT_NE(s.message().find("only best-effort"), std::string::npos);
  b.monthly = 0;  // no budget
  EXPECT_TRUE(CheckBudgetAdmission("acme", b, 600'000'000, false, "2026-11").ok());
  BudgetPolicy p;
  EXPECT_TRUE(ParseBudgetPolicy("best-effort-only", &p));
  EXPECT_EQ(p, BudgetPolicy::kBestEffortOnly);
  EXPECT_FALSE(ParseBudgetPolicy("stop", &p));
}

TEST(Storage, AdmissionAndMeasure) {
  EXPECT_TRUE(CheckStorageAdmission("acme", 10, 100, true).ok());
  EXPECT_TRUE(CheckStorageAdmission("acme", 100, 100, false).ok());
  Status s = CheckStorageAdmission("acme", 300'000'000'000, 300'000'000'000, true);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("300.00 GB used of 300.00 GB"), std::string::npos) << s.message();

  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/gpuaas-ws-XXXXXX";
  fs::path dir = mkdtemp(tmpl);
  fs::create_directories(dir / "a" / "b");
  std::ofstream(dir / "f1") << std::string(1000, 'x');
  std::ofstream(dir / "a" / "b" / "f2") << std::string(234, 'y');
  fs::create_symlink(dir / "f1", dir / "link");  // not followed, not counted
  auto u = MeasureDirectory(dir.string());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->bytes, 1234);
  EXPECT_EQ(u->files, 2);
  EXPECT_FALSE(u->truncated);
  auto bounded = MeasureDirectory(dir.string(), 2);
  ASSERT_TRUE(bounded.ok());
  EXPECT_TRUE(bounded->truncated);
  EXPECT_LE(bounded->entries, 2);
  auto missing = MeasureDirectory((dir / "none").string());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->bytes, 0);
  EXPECT_FALSE(MeasureDirectory((dir / "f1").string()).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gpuaas
