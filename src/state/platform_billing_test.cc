// Billing through the real Platform on a real SQLite store: an end-to-end month with two
// entities, both classes, a preemption, a price change mid-month and a month boundary, checked
// against invoices computed by hand; closing (once, frozen, across a restart); budgets.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "state/platform_fixture.h"

namespace gpuaas {
namespace {

Millis At(const char* t) { return ParseRfc3339(t).value(); }

const Millis kT0 = At("2026-11-30T20:00:00Z");
constexpr Millis kH = kMillisPerHour;

class BillingTest : public PlatformFixture {
 protected:
  BillingTest() : PlatformFixture(kT0) {}
  void Configure(PlatformConfig& cfg) override {
    cfg.heartbeat_timeout_ms = 24 * kH;  // the test's agents report when it says so
    cfg.grace_ms = 0;
    cfg.billing.budget_check_interval_ms = 3'600'000;
    cfg.billing.workspace_root = dir_ + "/ws";
    cfg.billing.workspace_quota_bytes = 1000;
  }
  NodeReport Node(const std::string& node, const std::string& cls, int n) {
    NodeReport r;
    r.node = node;
    r.simulated = true;
    for (int i = 0; i < n; ++i) {
      r.gpus.push_back(
          {i, node + "-gpu" + std::to_string(i), "model", cls, 1000, DeviceState::kHealthy});
    }
    return r;
  }
  // Runs the node's agent: what is desired runs, what is no longer desired is stopped now.
  void Converge(NodeReport& r) {
    for (int round = 0; round < 4; ++round) {
      DesiredWorkloads d = Beat(r);
      std::vector<WorkloadReport> next;
      std::set<JobId> desired;
      for (const Assignment& a : d.workloads) {
        desired.insert(a.job);
        WorkloadReport w;
        w.job = a.job;
        w.allocation = a.allocation;
        w.state = "running";
        w.started_at = clock_.Now();
        for (const auto& old : r.workloads) {
          if (old.job == a.job && old.started_at != 0) w.started_at = old.started_at;
        }
        next.push_back(w);
      }
      for (const auto& old : r.workloads) {
        if (desired.count(old.job) || old.state != "running") continue;
        WorkloadReport w = old;  // stopped by the agent because it is no longer desired
        w.state = "exited";
        w.stopped = true;
        w.signal = 15;
        w.finished_at = clock_.Now();
        next.push_back(w);
      }
      r.workloads = next;
    }
    Beat(r);
  }
  // The job exits by itself now.
  void Exit(NodeReport& r, JobId job) {
    for (auto& w : r.workloads) {
      if (w.job == job) {
        w.state = "exited";
        w.exit_code = 0;
        w.finished_at = clock_.Now();
      }
    }
    Beat(r);
    Converge(r);
  }
  Job Submit(const Principal& who, int gpus, const std::string& cls, const std::string& project,
             const std::string& priority_class = "") {
    JobRequest req;
    req.gpus = gpus;
    req.gpu_types = {cls};
    req.command = {"train"};
    req.project = project;
    req.priority_class = priority_class;
    return Must<Job>([&](auto done) { platform_->SubmitJob(who, req, done); });
  }
  void Price(const std::string& cls, const std::string& prio, MicroEur rate, Millis from) {
    PriceChange c;
    c.gpu_class = cls;
    c.priority_class = prio;
    c.rate = rate;
    c.effective_from = from;
    Must<PriceChange>([&](auto done) { platform_->AddPrice(admin_, c, done); });
  }
  Invoice Inv(const std::string& entity, const std::string& month) {
    auto r = platform_->GetInvoice(admin_, entity, month);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Invoice{};
  }
};

struct Want {
  JobId job;
  const char* cls;
  int gpus;
  const char* start;
  const char* end;
  int64_t billed_seconds;
  MicroEur rate;
  MicroEur amount;
};

void ExpectLines(const Invoice& inv, const std::vector<Want>& want) {
  ASSERT_EQ(inv.lines.size(), want.size()) << inv.month;
  for (size_t i = 0; i < want.size(); ++i) {
    const InvoiceLine& l = inv.lines[i];
    const Want& w = want[i];
    EXPECT_EQ(l.job, w.job) << inv.month << " line " << i;
    EXPECT_EQ(l.gpu_class, w.cls) << inv.month << " line " << i;
    EXPECT_EQ(l.gpus, w.gpus) << inv.month << " line " << i;
    EXPECT_EQ(FormatRfc3339(l.start), w.start) << inv.month << " line " << i;
    EXPECT_EQ(FormatRfc3339(l.end), w.end) << inv.month << " line " << i;
    EXPECT_EQ(l.billed_seconds, w.billed_seconds) << inv.month << " line " << i;
    EXPECT_EQ(l.rate, w.rate) << inv.month << " line " << i;
    EXPECT_EQ(l.amount, w.amount) << inv.month << " line " << i;
  }
}

// The hand-computed month (docs/billing.md walks through it):
//   prices: h200 3.50, l40s 1.10 (config); h200 best-effort 1.00 from 20:00 on Nov 30;
//           h200 4.00 from 23:00 on Nov 30 (announced at 22:00).
//   beta  B1 4 x h200 best-effort 20:00-21:00 Nov 30, preempted by A2:   4 x 1 h x 1.00 =  4.00
//   acme  A1 2 x l40s "nlp"       20:00-23:30:                          2 x 3.5 h x 1.10 = 7.70
//   acme  A2 6 x h200 production  21:00 Nov 30 - 01:00 Dec 1:
//           Nov: 21:00-23:00 at 3.50 = 42.00, 23:00-24:00 at 4.00 = 24.00; Dec: 1 h at 4.00 = 24.00
//   beta  B2 1 x l40s             22:30 Nov 30 - 00:30 Dec 1: Nov 1.5 h = 1.65, Dec 0.5 h = 0.55
// Invoices: acme Nov 73.70, Dec 24.00; beta Nov 5.65, Dec 0.55.
TEST_F(BillingTest, EndToEndMonthMatchesTheHandComputedInvoices) {
  CreateEntity("acme");
  CreateEntity("beta");
  Principal alice = Member("alice", "acme");
  Principal bob = Member("bob", "beta");
  NodeReport h = Node("n-h200", "h200", 8);
  NodeReport l = Node("n-l40s", "l40s", 4);
  Beat(h);
  Beat(l);
  Price("h200", "best-effort", 1'000'000, 0);  // from now (20:00)

  Job b1 = Submit(bob, 4, "h200", "batch", "best-effort");
  Job a1 = Submit(alice, 2, "l40s", "nlp");
  Converge(h);
  Converge(l);
  ASSERT_EQ(Get(b1.id).state, JobState::kRunning);
  ASSERT_EQ(Get(a1.id).state, JobState::kRunning);
  EXPECT_EQ(platform_->EstimatedJobCost(Get(a1.id)), 2 * 24 * 1'100'000);  // walltime 24 h

  clock_.Advance(kH);  // 21:00: a production job needs 6 of the 8 H200s
  // The running cost of the best-effort job is at its own rate, as its invoice line will be.
  EXPECT_EQ(platform_->JobCost(Get(b1.id)), 4 * 1'000'000);
  Job a2 = Submit(alice, 6, "h200", "vision", "production");
  Converge(h);
  Job b1_now = Get(b1.id);
  EXPECT_EQ(b1_now.state, JobState::kPreempted) << b1_now.reason;
  ASSERT_EQ(Get(a2.id).state, JobState::kRunning) << Get(a2.id).reason;

  clock_.Advance(kH);  // 22:00: a price change announced for 23:00
  Price("h200", "", 4'000'000, At("2026-11-30T23:00:00Z"));
  clock_.Advance(kH / 2);  // 22:30
  Job b2 = Submit(bob, 1, "l40s", "");
  Converge(l);
  clock_.Advance(kH);  // 23:30
  Exit(l, a1.id);
  clock_.Advance(kH);  // 00:30 Dec 1
  Exit(l, b2.id);
  clock_.Advance(kH / 2);  // 01:00
  Exit(h, a2.id);

  const char* n30 = "2026-11-30T";
  auto t = [&](const char* hm) { return std::string(n30) + hm + ":00Z"; };
  std::vector<std::string> s = {t("21:00"),
                                t("23:00"),
                                "2026-12-01T00:00:00Z",
                                "2026-12-01T01:00:00Z",
                                t("22:30"),
                                "2026-12-01T00:30:00Z",
                                t("20:00"),
                                t("23:30")};
  Invoice acme_nov = Inv("acme", "2026-11");
  ExpectLines(acme_nov,
              {{a1.id, "l40s", 2, s[6].c_str(), s[7].c_str(), 12'600, 1'100'000, 7'700'000},
               {a2.id, "h200", 6, s[0].c_str(), s[1].c_str(), 7'200, 3'500'000, 42'000'000},
               {a2.id, "h200", 6, s[1].c_str(), s[2].c_str(), 3'600, 4'000'000, 24'000'000}});
  EXPECT_EQ(acme_nov.total, 73'700'000);
  EXPECT_EQ(acme_nov.lines[1].project, "vision");
  EXPECT_EQ(acme_nov.lines[0].project, "nlp");
  Invoice acme_dec = Inv("acme", "2026-12");
  ExpectLines(acme_dec,
              {{a2.id, "h200", 6, s[2].c_str(), s[3].c_str(), 3'600, 4'000'000, 24'000'000}});
  Invoice beta_nov = Inv("beta", "2026-11");
  ExpectLines(beta_nov,
              {{b1.id, "h200", 4, s[6].c_str(), s[0].c_str(), 3'600, 1'000'000, 4'000'000},
               {b2.id, "l40s", 1, s[4].c_str(), s[2].c_str(), 5'400, 1'100'000, 1'650'000}});
  EXPECT_EQ(beta_nov.total, 5'650'000);
  EXPECT_EQ(beta_nov.lines[0].priority_class, "best-effort");
  Invoice beta_dec = Inv("beta", "2026-12");
  ExpectLines(beta_dec,
              {{b2.id, "l40s", 1, s[2].c_str(), s[5].c_str(), 1'800, 1'100'000, 550'000}});

  // Close November: frozen, once, across a restart and a later price change.
  clock_.Advance(kH);  // 02:00 Dec 1
  auto closed =
      Must<Invoice>([&](auto done) { platform_->CloseInvoice(admin_, "acme", "2026-11", done); });
  EXPECT_TRUE(closed.closed);
  EXPECT_EQ(closed.total, 73'700'000);
  auto again =
      Must<Invoice>([&](auto done) { platform_->CloseInvoice(admin_, "acme", "2026-11", done); });
  EXPECT_EQ(again.closed_at, closed.closed_at);
  Status early = Call<Invoice>([&](auto done) {
                   platform_->CloseInvoice(admin_, "acme", "2026-12", done);
                 }).status();
  EXPECT_EQ(early.code(), Code::kFailedPrecondition);
  Price("l40s", "", 9'000'000, 0);
  Restart();
  Invoice frozen = Inv("acme", "2026-11");
  EXPECT_TRUE(frozen.closed);
  EXPECT_EQ(frozen.total, 73'700'000);
  EXPECT_EQ(frozen.lines.size(), 3u);
  EXPECT_EQ(Inv("beta", "2026-11").total, 5'650'000);  // open, but all of it before the change
  auto events = platform_->ListBillingEvents(admin_, "acme");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "invoice_closed");

  // A credit note corrects the closed month without touching it.
  CreditNote cn = Must<CreditNote>([&](auto done) {
    platform_->CreateCreditNote(admin_, "acme", "2026-11", 7'700'000, "l40s node degraded", done);
  });
  EXPECT_EQ(platform_->CreditNotesOf(cn.entity, "2026-11").size(), 1u);
  EXPECT_EQ(Inv("acme", "2026-11").total, 73'700'000);
  Status too_much = Call<CreditNote>([&](auto done) {
                      platform_->CreateCreditNote(admin_, "acme", "2026-11", 70'000'000, "x", done);
                    }).status();
  EXPECT_EQ(too_much.code(), Code::kFailedPrecondition);
}

// A job across the month end, November closed while it runs: November keeps the energy
// measured by then, December bills the rest, and the two add up to the usage record's total.
TEST_F(BillingTest, AMonthClosedWhileAJobRunsLosesNoEnergy) {
  CreateEntity("acme");
  Principal alice = Member("alice", "acme");
  NodeReport h = Node("n-h200", "h200", 1);
  Beat(h);
  Job j = Submit(alice, 1, "h200", "");
  Converge(h);
  ASSERT_EQ(Get(j.id).state, JobState::kRunning);
  // The agent samples the GPU each minute over [from, to] at `watts` and reports each hour.
  auto run = [&](Millis from, Millis to, int64_t watts) {
    for (Millis t = from; t <= to; t += 60'000) {
      GpuSample s;
      s.index = 0;
      s.t = t;
      s.util_pct = 90;
      s.power_mw = watts * 1000;
      h.samples.push_back(s);
      if (h.samples.size() == 60 || t == to) {
        clock_.Advance(t - clock_.Now());
        Beat(h);
        h.samples.clear();
      }
    }
  };
  run(kT0, kT0 + 5 * kH, 1000);  // 20:00 to 01:00 on Dec 1 at 1 kW: 5 kWh
  auto closed =
      Must<Invoice>([&](auto done) { platform_->CloseInvoice(admin_, "acme", "2026-11", done); });
  EXPECT_EQ(closed.energy_mwh, 4'000'000);  // November's 4 of the 5 hours
  EXPECT_EQ(Inv("acme", "2026-12").energy_mwh, 1'000'000);
  auto usage = platform_->Usage(admin_, 0, kT0, clock_.Now());
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].energy_mwh, 5'000'000);  // a running job's energy so far

  run(kT0 + 5 * kH + 60'000, kT0 + 6 * kH, 3000);  // its last hour at 3 kW
  Exit(h, j.id);
  ASSERT_EQ(Get(j.id).state, JobState::kSucceeded);
  auto state = store_->Load();
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->usage.size(), 1u);
  const int64_t total = state->usage[0].energy_mwh;
  EXPECT_GT(total, 7'900'000);
  Invoice dec = Inv("acme", "2026-12");
  EXPECT_EQ(dec.energy_mwh, total - 4'000'000);
  EXPECT_EQ(Inv("acme", "2026-11").energy_mwh, 4'000'000);  // frozen
  Restart();
  EXPECT_EQ(Inv("acme", "2026-12").energy_mwh, total - 4'000'000);
}

TEST_F(BillingTest, BudgetAlertsAndPolicyAtSubmit) {
  CreateEntity("acme");
  Principal alice = Member("alice", "acme");
  NodeReport h = Node("n-h200", "h200", 8);
  Beat(h);
  Must<Budget>([&](auto done) {
    platform_->SetBudget(admin_, "acme", 10'000'000, BudgetPolicy::kBestEffortOnly, done);
  });
  Job a = Submit(alice, 1, "h200", "");
  Converge(h);
  JobRequest standard;
  standard.command = {"x"};
  standard.gpu_types = {"h200"};
  EXPECT_TRUE(platform_->CheckBillingAdmission(standard, a.entity).ok());
  // 1 x 3.50/h: 80% of 10.00 after 2h17m9s, 100% after 2h51m26s (rounded to the second).
  clock_.Advance(2 * kH + 18 * 60'000);
  platform_->CheckBudgets();
  exec_->Drain();
  auto ev = platform_->ListBillingEvents(alice, "");
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].kind, "budget_80");
  EXPECT_TRUE(platform_->CheckBillingAdmission(standard, a.entity).ok());
  clock_.Advance(kH);
  platform_->CheckBudgets();
  platform_->CheckBudgets();  // once per threshold
  exec_->Drain();
  ev = platform_->ListBillingEvents(alice, "acme");
  ASSERT_EQ(ev->size(), 2u);
  EXPECT_EQ((*ev)[1].kind, "budget_100");
  Status refused = platform_->CheckBillingAdmission(standard, a.entity);
  EXPECT_EQ(refused.code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.message().find("only best-effort"), std::string::npos) << refused.message();
  JobRequest be = standard;
  be.priority_class = "best-effort";
  EXPECT_TRUE(platform_->CheckBillingAdmission(be, a.entity).ok());
  Must<Budget>([&](auto done) {
    platform_->SetBudget(admin_, "acme", 10'000'000, BudgetPolicy::kRefuse, done);
  });
  EXPECT_EQ(platform_->CheckBillingAdmission(be, a.entity).code(), Code::kFailedPrecondition);
  auto view = platform_->GetBudget(alice, "acme");
  ASSERT_TRUE(view.ok());
  EXPECT_GE(view->spent, 10'000'000);
  EXPECT_NE(platform_->BillingMetricsText().find("gpuaas_budget_used_ratio{entity=\"acme\"}"),
            std::string::npos);
  // Alerts survive a restart and are not repeated.
  Restart();
  platform_->CheckBudgets();
  exec_->Drain();
  EXPECT_EQ(platform_->ListBillingEvents(admin_, "acme")->size(), 2u);
}

TEST_F(BillingTest, StorageQuotaRefusesWritersOverQuota) {
  CreateEntity("acme");
  Principal alice = Member("alice", "acme");
  auto v = platform_->MeasureStorage(alice, "acme");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->used_bytes, 0);
  EXPECT_EQ(v->quota_bytes, 1000);
  std::filesystem::create_directories(dir_ + "/ws/acme/data");
  { std::ofstream(dir_ + "/ws/acme/data/big") << std::string(1500, 'x'); }
  v = platform_->MeasureStorage(alice, "acme");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->used_bytes, 1500);
  JobRequest req;
  req.command = {"x"};
  Status s = platform_->CheckBillingAdmission(req, platform_->GetEntity(admin_, "acme")->id);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("over its quota"), std::string::npos) << s.message();
  auto raised = Must<Platform::StorageView>(
      [&](auto done) { platform_->SetStorageQuota(admin_, "acme", 2000, done); });
  EXPECT_EQ(raised.quota_bytes, 2000);
  EXPECT_TRUE(platform_->CheckBillingAdmission(req, platform_->GetEntity(admin_, "acme")->id).ok());
  Restart();
  EXPECT_EQ(platform_->GetStorage(admin_, "acme")->quota_bytes, 2000);
}

TEST_F(BillingTest, PricesAreValidatedAndNeverBackdated) {
  PriceChange c;
  c.gpu_class = "h200";
  c.rate = 4'000'000;
  c.effective_from = kT0 - 1;
  Status past =
      Call<PriceChange>([&](auto done) { platform_->AddPrice(admin_, c, done); }).status();
  EXPECT_EQ(past.code(), Code::kFailedPrecondition);
  c.effective_from = 0;
  c.gpu_class = "a100";
  EXPECT_EQ(
      Call<PriceChange>([&](auto done) { platform_->AddPrice(admin_, c, done); }).status().code(),
      Code::kFailedPrecondition);
  c.gpu_class = "h200";
  CreateEntity("acme");
  Principal alice = Member("alice", "acme");
  EXPECT_EQ(
      Call<PriceChange>([&](auto done) { platform_->AddPrice(alice, c, done); }).status().code(),
      Code::kPermissionDenied);
  PriceChange ok = Must<PriceChange>([&](auto done) { platform_->AddPrice(admin_, c, done); });
  EXPECT_EQ(ok.effective_from, kT0);
  Restart();
  EXPECT_EQ(platform_->prices().RateAt("h200", "", kT0), 4'000'000);
  EXPECT_EQ(platform_->prices().RateAt("h200", "", kT0 - 1), 3'500'000);
}

}  // namespace
}  // namespace gpuaas
