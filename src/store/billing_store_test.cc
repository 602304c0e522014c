// Tests of the SQLite store's billing rows (schema version 3): round trips of prices, budgets,
// events, closed invoices with their lines and credit notes; a month closes once; energy and
// idle time on usage records survive a reopen.
#include <gtest/gtest.h>

#include <future>

#include "store/sqlite_store.h"
#include "store/test_temp_dir.h"

namespace gpuaas {
namespace {

Status Commit(Store& store, std::vector<Mutation> batch) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.Commit(std::move(batch), [&p](Status st) { p.set_value(std::move(st)); });
  return f.get();
}

ClosedInvoice Invoice(EntityId entity, std::string month) {
  ClosedInvoice inv;
  inv.entity = entity;
  inv.month = std::move(month);
  inv.closed_at = 1'800'000'000'000;
  for (int i = 0; i < 3; ++i) {
    InvoiceLine l;
    l.job = 10 + i;
    l.allocation = 20 + i;
    l.user = 3;
    l.project = "p," + std::to_string(i);
    l.gpu_class = i == 2 ? "l40s" : "h200";
    l.priority_class = i == 1 ? "best-effort" : "";
    l.gpus = i + 1;
    l.start = 1000 * i;
    l.end = 1000 * i + 500;
    l.billed_seconds = 1;
    l.rate = 3'500'000 + i;
    l.amount = 972 + i;
    l.energy_mwh = 5 + i;
    l.idle_gpu_millis = 7 + i;
    l.net_rx_bytes = 9'876'543'210 + i;  // beyond 32 bits
    l.net_tx_bytes = 11 + i;
    inv.lines.push_back(l);
  }
  return inv;
}

TEST(SqliteBillingRowsTest, RoundTripAndReopen) {
  TestTempDir dir;
  const std::string path = dir.File("db.sqlite");
  {
    auto store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    UsageRecord u{5, 6, 1, 3, "h200", 2, 100, 200};
    u.energy_mwh = 123'456;
    u.idle_gpu_millis = 789;
    u.net_rx_bytes = 12'345'678'901;  // beyond 32 bits
    u.net_tx_bytes = 4'321;
    std::vector<Mutation> batch = {
        PriceChange{1, "h200", "", 4'000'000, 1'000, 900},
        PriceChange{2, "h200", "best-effort", 1'000'000, 2'000, 901},
        Budget{1, 500'000'000, BudgetPolicy::kBestEffortOnly, 77},
        BillingEvent{1, 1, "2026-11", "budget_80", 55, "acme reached 80%"},
        Invoice(1, "2026-10"),
        CreditNote{1, 1, "2026-10", 1'500'000, "node failure", 2, 66},
        u,
    };
    ASSERT_TRUE(Commit(**store, batch).ok());
    Budget changed{1, 600'000'000, BudgetPolicy::kRefuse, 78};
    ASSERT_TRUE(Commit(**store, {changed}).ok());
    (*store)->Close();
  }
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok());
  auto st = (*store)->Load();
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->prices.size(), 2u);
  EXPECT_EQ(st->prices[1].priority_class, "best-effort");
  EXPECT_EQ(st->prices[1].rate, 1'000'000);
  EXPECT_EQ(st->prices[1].effective_from, 2'000);
  ASSERT_EQ(st->budgets.size(), 1u);
  EXPECT_EQ(st->budgets[0].monthly, 600'000'000);
  EXPECT_EQ(st->budgets[0].policy, BudgetPolicy::kRefuse);
  ASSERT_EQ(st->billing_events.size(), 1u);
  EXPECT_EQ(st->billing_events[0].message, "acme reached 80%");
  ASSERT_EQ(st->invoices.size(), 1u);
  const ClosedInvoice& inv = st->invoices[0];
  EXPECT_EQ(inv.month, "2026-10");
  ASSERT_EQ(inv.lines.size(), 3u);
  ClosedInvoice want = Invoice(1, "2026-10");
  for (size_t i = 0; i < 3; ++i) {
    const InvoiceLine& a = inv.lines[i];
    const InvoiceLine& b = want.lines[i];
    EXPECT_EQ(std::tie(a.job, a.allocation, a.user, a.project, a.gpu_class, a.priority_class,
                       a.gpus, a.start, a.end, a.billed_seconds, a.rate, a.amount, a.energy_mwh,
                       a.idle_gpu_millis, a.net_rx_bytes, a.net_tx_bytes),
              std::tie(b.job, b.allocation, b.user, b.project, b.gpu_class, b.priority_class,
                       b.gpus, b.start, b.end, b.billed_seconds, b.rate, b.amount, b.energy_mwh,
                       b.idle_gpu_millis, b.net_rx_bytes, b.net_tx_bytes));
  }
  ASSERT_EQ(st->credit_notes.size(), 1u);
  EXPECT_EQ(st->credit_notes[0].reason, "node failure");
  EXPECT_EQ(st->credit_notes[0].amount, 1'500'000);
  ASSERT_EQ(st->usage.size(), 1u);
  EXPECT_EQ(st->usage[0].energy_mwh, 123'456);
  EXPECT_EQ(st->usage[0].idle_gpu_millis, 789);
  EXPECT_EQ(st->usage[0].net_rx_bytes, 12'345'678'901);
  EXPECT_EQ(st->usage[0].net_tx_bytes, 4'321);
  (*store)->Close();
}

TEST(SqliteBillingRowsTest, AMonthClosesOnceAndAFailedCloseLeavesNoLine) {
  TestTempDir dir;
  auto store = OpenSqliteStore(dir.File("db.sqlite"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(Commit(**store, {Invoice(1, "2026-10")}).ok());
  Status again = Commit(**store, {Invoice(1, "2026-10")});
  EXPECT_EQ(again.code(), Code::kConflict) << again.ToString();
  ASSERT_TRUE(Commit(**store, {Invoice(2, "2026-10")}).ok());  // another entity: fine
  auto st = (*store)->Load();
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->invoices.size(), 2u);
  EXPECT_EQ(st->invoices[0].lines.size(), 3u);  // not 6: the failed batch applied nothing
  EXPECT_EQ(st->invoices[1].entity, 2);
  (*store)->Close();
}

}  // namespace
}  // namespace gpuaas
