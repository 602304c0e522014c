#include "billing/invoice.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "billing/invoice_format.h"

namespace gpuaas {
namespace {

constexpr Millis kH = kMillisPerHour;

Millis At(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

PriceChange Change(std::string cls, std::string prio, MicroEur rate, Millis from) {
  PriceChange c;
  c.gpu_class = std::move(cls);
  c.priority_class = std::move(prio);
  c.rate = rate;
  c.effective_from = from;
  return c;
}

UsageRecord Record(AllocationId id, EntityId entity, std::string cls, int gpus, Millis s,
                   Millis e) {
  UsageRecord r;
  r.allocation = id;
  r.job = id;
  r.entity = entity;
  r.user = 7;
  r.gpu_class = std::move(cls);
  r.gpus = gpus;
  r.start = s;
  r.end = e;
  return r;
}

JobFactsFn NoFacts() {
  return [](JobId) { return JobBillingFacts{}; };
}

TEST(Invoice, PriceChangeMidJobSplitsTheLine) {
  PriceBook p;
  p.SetRate("h200", 3'600'000);
  p.Add(Change("h200", "", 7'200'000, At("2026-11-10T12:00:00Z")));
  UsageRecord r = Record(1, 1, "h200", 2, At("2026-11-10T11:00:00Z"), At("2026-11-10T13:30:00Z"));
  r.energy_mwh = 3'000'001;  // 3 kWh and a bit: split 1 h / 1.5 h -> 1200000 + 1800001
  auto lines = LinesOf(r, {"proj", ""}, p, 0, kForever);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].billed_seconds, 3600);
  EXPECT_EQ(lines[0].rate, 3'600'000);
  EXPECT_EQ(lines[0].amount, 7'200'000);  // 2 GPUs x 1 h x 3.60
  EXPECT_EQ(lines[0].end, At("2026-11-10T12:00:00Z"));
  EXPECT_EQ(lines[1].billed_seconds, 5400);
  EXPECT_EQ(lines[1].amount, 21'600'000);  // 2 x 1.5 h x 7.20
  EXPECT_EQ(lines[1].project, "proj");
  EXPECT_EQ(lines[0].energy_mwh + lines[1].energy_mwh, 3'000'001);
  EXPECT_EQ(lines[0].energy_mwh, 1'200'000);
}

TEST(Invoice, PerSecondRoundsUpTheLastSecondPerStartedHourTheLastHour) {
  PriceBook p;
  p.SetRate("l40s", 1'000'000);
  UsageRecord r = Record(1, 1, "l40s", 1, 0, 3'600'001);
  auto s = LinesOf(r, {}, p, 0, kForever);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].billed_seconds, 3601);
  EXPECT_EQ(s[0].amount, 1'000'278);  // 3601/3600 EUR rounded half up
  p.set_granularity(BillingGranularity::kPerStartedHour);
  auto h = LinesOf(r, {}, p, 0, kForever);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].billed_seconds, 7200);
  EXPECT_EQ(h[0].amount, 2'000'000);
  EXPECT_EQ(h[0].end, 3'600'001);  // the line shows the real end
}

TEST(Invoice, MonthBoundaryAndOpenAllocations) {
  PriceBook p;
  p.SetRate("h200", 3'600'000);
  auto nov = MonthRange("2026-11").value();
  auto dec = MonthRange("2026-12").value();
  std::vector<UsageRecord> ledger = {
      Record(1, 1, "h200", 1, nov.second - 2 * kH, nov.second + 3 * kH),
      Record(2, 2, "h200", 4, nov.first, nov.first + kH),  // other entity
  };
  Allocation open{3, 3, 1, 7, 1, "h200", {0, 1}, dec.first + kH, 0};
  Millis now = dec.first + 2 * kH;
  auto n =
      ComputeInvoice(1, "2026-11", nov.first, nov.second, ledger, {open}, now, p, NoFacts(), {});
  ASSERT_EQ(n.lines.size(), 1u);
  EXPECT_EQ(n.lines[0].billed_seconds, 7200);
  EXPECT_EQ(n.total, 7'200'000);
  auto d =
      ComputeInvoice(1, "2026-12", dec.first, dec.second, ledger, {open}, now, p, NoFacts(), {});
  ASSERT_EQ(d.lines.size(), 2u);
  EXPECT_EQ(d.lines[0].billed_seconds, 3 * 3600);
  EXPECT_EQ(d.lines[1].job, 3);
  EXPECT_EQ(d.lines[1].billed_seconds, 3600);  // open: up to now
  EXPECT_EQ(d.total, 10'800'000 + 7'200'000);
}

TEST(Invoice, EnergyPricingCo2AndFormats) {
  PriceBook p;
  p.SetRate("h200", 3'500'000);
  std::vector<UsageRecord> ledger = {Record(1, 1, "h200", 1, 0, kH)};
  ledger[0].energy_mwh = 700'000;  // 0.7 kWh
  ledger[0].idle_gpu_millis = kH / 2;
  ledger[0].net_rx_bytes = 1'234'500'000;  // 1.2345 GB: 1.235 (to the MB, half up)
  ledger[0].net_tx_bytes = 499'999;        // under half a MB: 0.000
  ledger[0].user = 7;
  EnergyPricing e{250'000, 50};  // 0.25 EUR/kWh, 50 g/kWh
  auto inv = ComputeInvoice(
      1, "1970-01", 0, 31 * 24 * kH, ledger, {}, kH, p,
      [](JobId) {
        return JobBillingFacts{"vision, v2", "standard"};
      },
      e);
  EXPECT_EQ(inv.compute_total, 3'500'000);
  EXPECT_EQ(inv.energy_amount, 175'000);
  EXPECT_EQ(inv.total, 3'675'000);
  EXPECT_EQ(inv.co2_g, 35);
  EXPECT_EQ(inv.idle_gpu_millis, kH / 2);
  EXPECT_EQ(inv.net_rx_bytes, 1'234'500'000);
  EXPECT_EQ(inv.net_tx_bytes, 499'999);
  InvoiceNames names{"acme", [](UserId) { return std::string("alice"); }};
  std::string csv = InvoiceCsv(inv, names);
  EXPECT_EQ(csv,
            "job,user,project,gpu_type,priority_class,gpus,start,end,billed_seconds,rate,amount,"
            "amount_micros,energy_kwh,idle_gpu_hours,net_rx_gb,net_tx_gb\r\n"
            "1,alice,\"vision, v2\",h200,standard,1,1970-01-01T00:00:00Z,1970-01-01T01:00:00Z,"
            "3600,3.500000,3.50,3500000,0.700000,0.500,1.235,0.000\r\n");
  std::string html = InvoiceHtml(inv, names, {}, e);
  EXPECT_NE(html.find("<title>Invoice acme 1970-01</title>"), std::string::npos);
  EXPECT_NE(html.find("vision, v2"), std::string::npos);
  EXPECT_NE(html.find("3.68"), std::string::npos);           // total with energy
  EXPECT_NE(html.find("1.235 / 0.000"), std::string::npos);  // network in / out, GB
  InvoiceNames evil{"<script>", names.user};
  EXPECT_EQ(InvoiceHtml(inv, evil, {}, e).find("<script>"), std::string::npos);
}

TEST(Invoice, EstimateIsWalltimeTimesRate) {
  PriceBook p;
  p.SetRate("h200", 3'500'000);
  p.Add(Change("h200", "best-effort", 1'000'000, 0));
  EXPECT_EQ(EstimateCost(2, 7200, 0, "h200", "", p), 14'000'000);
  EXPECT_EQ(EstimateCost(2, 7200, 0, "h200", "best-effort", p), 4'000'000);
}

// ---- Property test: random histories against a brute-force reference.

// Reference rate: the independent statement of the rule, scanning every entry.
MicroEur RefRate(const std::vector<PriceChange>& book, const std::string& cls,
                 const std::string& prio, Millis t) {
  auto pick = [&](const std::string& want) -> std::optional<MicroEur> {
    std::optional<std::pair<Millis, size_t>> best;
    for (size_t i = 0; i < book.size(); ++i) {
      const auto& e = book[i];
      if (e.gpu_class != cls || e.priority_class != want || e.effective_from > t) continue;
      if (!best || e.effective_from >= best->first) best = {e.effective_from, i};
    }
    if (!best) return std::nullopt;
    return book[best->second].rate;
  };
  if (!prio.empty()) {
    if (auto r = pick(prio)) return *r;
  }
  return pick("").value_or(0);
}

struct Expected {
  MicroEur total = 0;
  int64_t units = 0;
};

TEST(InvoiceProperty, TotalIsBilledTimeTimesRateInForceNothingTwiceNothingMissed) {
  const std::vector<std::string> months = {"2026-10", "2026-11", "2026-12", "2027-01"};
  const Millis t0 = MonthRange("2026-10").value().first;
  const Millis t1 = MonthRange("2026-12").value().second;  // histories end in December
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937_64 rng(seed);
    auto uni = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    PriceBook book;
    book.set_granularity(seed % 4 == 0 ? BillingGranularity::kPerStartedHour
                                       : BillingGranularity::kPerSecond);
    std::vector<PriceChange> ref_book;
    auto add_price = [&](PriceChange c) {
      book.Add(c);
      ref_book.push_back(c);
    };
    add_price(Change("h200", "", uni(1'000'000, 5'000'000), 0));
    add_price(Change("l40s", "", uni(300'000, 2'000'000), 0));
    for (int i = 0, n = static_cast<int>(uni(0, 12)); i < n; ++i) {
      // Changes land on arbitrary milliseconds, some exactly on a month boundary.
      Millis when = uni(0, 3) == 0 ? MonthRange(months[uni(0, 2)]).value().first : uni(t0, t1);
      add_price(Change(uni(0, 1) ? "h200" : "l40s", uni(0, 2) == 0 ? "best-effort" : "",
                       uni(1, 6'000'001), when));
    }
    // Jobs, some preempted (several allocations of one job), some still open at `now`.
    std::vector<UsageRecord> ledger;
    std::vector<Allocation> open;
    std::map<JobId, JobBillingFacts> facts;
    AllocationId next_alloc = 1;
    const Millis now = t1 - uni(0, 5 * kH);
    for (JobId job = 1, n = uni(5, 25); job <= n; ++job) {
      facts[job] = {"p" + std::to_string(job % 3), uni(0, 2) == 0 ? "best-effort" : ""};
      EntityId entity = uni(1, 3);
      std::string cls = uni(0, 1) ? "h200" : "l40s";
      int gpus = static_cast<int>(uni(1, 8));
      Millis s = uni(t0, now - 1);
      for (int piece = 0, pieces = static_cast<int>(uni(1, 3)); piece < pieces; ++piece) {
        Millis e = std::min(now, s + uni(1, 36 * kH));
        bool still_open = piece == pieces - 1 && uni(0, 5) == 0;
        if (still_open) {
          open.push_back({next_alloc++, job, entity, 7, 1, cls, std::vector<int>(gpus, 0), s, 0});
        } else {
          UsageRecord r = Record(next_alloc++, entity, cls, gpus, s, e);
          r.job = job;
          r.energy_mwh = uni(0, 10'000'000);
          r.net_rx_bytes = uni(0, int64_t{1} << 42);
          r.net_tx_bytes = uni(0, int64_t{1} << 40);
          ledger.push_back(r);
        }
        s = e + uni(0, 3 * kH);  // preempted, requeued, placed again later
        if (s >= now) break;
      }
    }
    // Reference: walk every unit of every allocation.
    const Millis unit = book.unit_ms();
    std::map<std::pair<EntityId, std::string>, Expected> expected;
    std::map<AllocationId, int64_t> ref_units;
    auto walk = [&](const UsageRecord& r) {
      const auto& f = facts[r.job];
      int64_t n = (r.end - r.start + unit - 1) / unit;
      ref_units[r.allocation] = n;
      // Runs of units with the same (month, rate), each rounded once.
      std::string run_month;
      MicroEur run_rate = -1;
      int64_t run_units = 0;
      auto flush = [&] {
        if (run_units == 0) return;
        Expected& x = expected[{r.entity, run_month}];
        x.total += CostOf(int64_t{r.gpus} * run_units * unit, run_rate);
        x.units += run_units;
        run_units = 0;
      };
      // Units whose starts lie between two consecutive instants at which anything may change
      // (any price entry, any month start) share their month and rate: jump over them.
      for (int64_t k = 0; k < n;) {
        Millis u = r.start + k * unit;
        std::string m = FormatRfc3339(u).substr(0, 7);
        MicroEur rate = RefRate(ref_book, r.gpu_class, f.priority_class, u);
        Millis next = kForever;
        for (const auto& e : ref_book) {
          if (e.effective_from > u) next = std::min(next, e.effective_from);
        }
        for (const auto& mm : months) {
          Millis ms = MonthRange(mm).value().first;
          if (ms > u) next = std::min(next, ms);
        }
        int64_t same = std::min(n - k, (next - u + unit - 1) / unit);
        if (m != run_month || rate != run_rate) {
          flush();
          run_month = m;
          run_rate = rate;
        }
        run_units += same;
        k += same;
      }
      flush();
    };
    for (const auto& r : ledger) walk(r);
    for (const auto& a : open) walk(AsRecord(a, now));

    std::map<AllocationId, int64_t> billed_units;
    std::map<AllocationId, int64_t> billed_energy, billed_rx, billed_tx;
    auto fn = [&](JobId j) { return facts[j]; };
    for (EntityId entity = 1; entity <= 3; ++entity) {
      for (const auto& m : months) {
        auto range = MonthRange(m).value();
        Invoice inv =
            ComputeInvoice(entity, m, range.first, range.second, ledger, open, now, book, fn, {});
        Expected x = expected[{entity, m}];
        EXPECT_EQ(inv.total, x.total) << "seed " << seed << " entity " << entity << " " << m;
        MicroEur sum = 0;
        for (const auto& l : inv.lines) {
          sum += l.amount;
          EXPECT_EQ(l.amount, CostOf(int64_t{l.gpus} * l.billed_seconds * 1000, l.rate));
          EXPECT_EQ(l.rate, RefRate(ref_book, l.gpu_class, l.priority_class, l.start));
          billed_units[l.allocation] += l.billed_seconds * 1000 / unit;
          billed_energy[l.allocation] += l.energy_mwh;
          billed_rx[l.allocation] += l.net_rx_bytes;
          billed_tx[l.allocation] += l.net_tx_bytes;
          EXPECT_EQ(FormatRfc3339(l.start).substr(0, 7), m);
        }
        EXPECT_EQ(sum, inv.total);
      }
    }
    // Every allocation billed exactly its units, no more (twice) and no less (missed).
    EXPECT_EQ(billed_units, ref_units) << "seed " << seed;
    for (const auto& r : ledger) {
      EXPECT_EQ(billed_energy[r.allocation], r.energy_mwh) << "seed " << seed;
      EXPECT_EQ(billed_rx[r.allocation], r.net_rx_bytes) << "seed " << seed;
      EXPECT_EQ(billed_tx[r.allocation], r.net_tx_bytes) << "seed " << seed;
    }

    // The months closed one by one in a random order, each invoice computed with what the
    // months closed before it hold, the open allocations measuring more between two closes: the
    // same money, and every allocation's measurements (an open one's as last measured) still add
    // up exactly over its lines. December, the month of `now`, where the open allocations' last
    // units lie, comes last: it cannot be closed before it is over.
    std::vector<std::string> order = {"2026-10", "2026-11", "2027-01"};
    std::shuffle(order.begin(), order.end(), rng);
    order.push_back("2026-12");
    MeasuredSoFar so_far;
    for (const auto& a : open) so_far[a.id] = {uni(0, 10'000'000), uni(0, kH), uni(0, 1 << 30), 0};
    for (EntityId entity = 1; entity <= 3; ++entity) {
      std::vector<std::vector<InvoiceLine>> closed_months;
      std::map<AllocationId, Measured> got;
      for (const auto& m : order) {
        auto range = MonthRange(m).value();
        ClosedParts parts;
        for (const auto& lines : closed_months) AddClosedLines(lines, range.first, unit, parts);
        Invoice inv = ComputeInvoice(entity, m, range.first, range.second, ledger, open, now, book,
                                     fn, {}, so_far, parts);
        const Expected& x = expected[{entity, m}];
        EXPECT_EQ(inv.total, x.total) << "seed " << seed << " " << m;
        for (const auto& l : inv.lines) {
          got[l.allocation].energy_mwh += l.energy_mwh;
          got[l.allocation].idle_gpu_millis += l.idle_gpu_millis;
          got[l.allocation].net_rx_bytes += l.net_rx_bytes;
        }
        closed_months.push_back(inv.lines);
        if (m == order.back()) break;
        // The entity's open allocations measure more before the next month is closed.
        for (const auto& a : open) {
          if (a.entity != entity) continue;
          Measured& more = so_far[a.id];
          more.energy_mwh += uni(0, 1'000'000);
          more.idle_gpu_millis += uni(0, kH);
          more.net_rx_bytes += uni(0, 1 << 20);
        }
      }
      for (const auto& r : ledger) {
        if (r.entity != entity) continue;
        EXPECT_EQ(got[r.allocation].energy_mwh, r.energy_mwh) << "seed " << seed;
        EXPECT_EQ(got[r.allocation].net_rx_bytes, r.net_rx_bytes) << "seed " << seed;
      }
      for (const auto& a : open) {
        if (a.entity != entity) continue;
        EXPECT_EQ(got[a.id].energy_mwh, so_far[a.id].energy_mwh) << "seed " << seed;
        EXPECT_EQ(got[a.id].idle_gpu_millis, so_far[a.id].idle_gpu_millis) << "seed " << seed;
        EXPECT_EQ(got[a.id].net_rx_bytes, so_far[a.id].net_rx_bytes) << "seed " << seed;
      }
    }
  }
}

// A month closed while a job ran keeps the energy measured by then; the later month bills the
// rest, so nothing is lost (before, the closed month had none and the later one only its share).
TEST(Invoice, AMonthClosedWhileAJobRanHoldsItsEnergySoFarAndTheRestComesLater) {
  PriceBook p;
  p.SetRate("h200", 3'600'000);
  auto nov = MonthRange("2026-11").value();
  auto dec = MonthRange("2026-12").value();
  Allocation open{5, 5, 1, 7, 1, "h200", {0}, nov.second - 4 * kH, 0};
  // Closed at 01:00 on Dec 1, 5 h in, 5 kWh measured: November holds 4 of the 5 hours.
  const MeasuredSoFar so_far = {{5, {5'000'000, 600'000, 50, 10}}};
  Invoice closed = ComputeInvoice(1, "2026-11", nov.first, nov.second, {}, {open}, dec.first + kH,
                                  p, NoFacts(), {}, so_far);
  ASSERT_EQ(closed.lines.size(), 1u);
  EXPECT_EQ(closed.energy_mwh, 4'000'000);
  EXPECT_EQ(closed.idle_gpu_millis, 480'000);
  EXPECT_EQ(closed.net_rx_bytes, 40);
  ClosedParts parts;
  AddClosedLines(closed.lines, dec.first, p.unit_ms(), parts);
  ASSERT_EQ(parts.count(5), 1u);
  EXPECT_EQ(parts[5].units, 4 * 3600);
  EXPECT_EQ(parts[5].units_before, 4 * 3600);
  // December while it still runs: the hour not on November's invoice holds the rest so far.
  Invoice live = ComputeInvoice(1, "2026-12", dec.first, dec.second, {}, {open}, dec.first + kH, p,
                                NoFacts(), {}, so_far, parts);
  EXPECT_EQ(live.energy_mwh, 1'000'000);
  // It ends at 02:00 with 8 kWh (its last hour at 3 kW): December bills 8 - 4.
  UsageRecord ended = AsRecord(open, dec.first + 2 * kH, {8'000'000, 600'000, 90, 30});
  ended.end = dec.first + 2 * kH;
  Invoice d = ComputeInvoice(1, "2026-12", dec.first, dec.second, {ended}, {}, ended.end, p,
                             NoFacts(), {}, {}, parts);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_EQ(d.lines[0].billed_seconds, 2 * 3600);
  EXPECT_EQ(closed.energy_mwh + d.energy_mwh, 8'000'000);
  EXPECT_EQ(closed.idle_gpu_millis + d.idle_gpu_millis, 600'000);
  EXPECT_EQ(closed.net_rx_bytes + d.net_rx_bytes, 90);
  EXPECT_EQ(closed.net_tx_bytes + d.net_tx_bytes, 30);
  // Without what November holds, December would bill only its share of the total: 2 of 6 h.
  Invoice unaware =
      ComputeInvoice(1, "2026-12", dec.first, dec.second, {ended}, {}, ended.end, p, NoFacts(), {});
  EXPECT_EQ(unaware.energy_mwh, 8'000'000 - 8'000'000 * 2 / 3);
  // A total below what was closed (counters restarted with the server) leaves nothing, never
  // a negative share.
  ended.energy_mwh = 3'000'000;
  Invoice low = ComputeInvoice(1, "2026-12", dec.first, dec.second, {ended}, {}, ended.end, p,
                               NoFacts(), {}, {}, parts);
  EXPECT_EQ(low.energy_mwh, 0);
}

// A later month closed first: the earlier window's units are numbered from the allocation's
// start, and the closed later units take their shares out of the total.
TEST(Invoice, ALaterClosedMonthLeavesTheEarlierTheRest) {
  PriceBook p;
  p.SetRate("h200", 1'000'000);
  auto oct = MonthRange("2026-10").value();
  auto nov = MonthRange("2026-11").value();
  auto dec = MonthRange("2026-12").value();
  // Oct 31 22:00 to Dec 1 02:00: 2 h in October, all of November, 2 h in December.
  UsageRecord r = Record(9, 1, "h200", 2, oct.second - 2 * kH, dec.first + 2 * kH);
  const int64_t hours = 2 + 30 * 24 + 2;
  r.energy_mwh = hours * 1000;
  Invoice dec_inv =
      ComputeInvoice(1, "2026-12", dec.first, dec.second, {r}, {}, r.end, p, NoFacts(), {});
  EXPECT_EQ(dec_inv.energy_mwh, 2000);
  ClosedParts parts;
  AddClosedLines(dec_inv.lines, oct.first, p.unit_ms(), parts);
  EXPECT_EQ(parts[9].units_before, 0);
  // Billed in December as 1000 more than its share (measured differently then): October and
  // November share what is left, in proportion to their units.
  parts[9].shares.energy_mwh += 1000;
  const int64_t left = hours * 1000 - 3000;
  Invoice oct_inv = ComputeInvoice(1, "2026-10", oct.first, oct.second, {r}, {}, r.end, p,
                                   NoFacts(), {}, {}, parts);
  ClosedParts for_nov = parts;
  AddClosedLines(oct_inv.lines, nov.first, p.unit_ms(), for_nov);
  Invoice nov_inv = ComputeInvoice(1, "2026-11", nov.first, nov.second, {r}, {}, r.end, p,
                                   NoFacts(), {}, {}, for_nov);
  EXPECT_EQ(oct_inv.energy_mwh, left * 2 / (2 + 30 * 24));
  EXPECT_EQ(oct_inv.energy_mwh + nov_inv.energy_mwh, left);
}

// A price change announced now never rewrites a month already over.
TEST(InvoiceProperty, LaterPriceChangeLeavesPastMonthsUntouched) {
  PriceBook p;
  p.SetRate("h200", 3'500'000);
  auto oct = MonthRange("2026-10").value();
  std::vector<UsageRecord> ledger = {Record(1, 1, "h200", 3, oct.first + 5, oct.second + kH)};
  Millis now = oct.second + 2 * kH;
  auto before =
      ComputeInvoice(1, "2026-10", oct.first, oct.second, ledger, {}, now, p, NoFacts(), {});
  p.Add(Change("h200", "", 9'000'000, now));
  auto after =
      ComputeInvoice(1, "2026-10", oct.first, oct.second, ledger, {}, now, p, NoFacts(), {});
  EXPECT_EQ(before.total, after.total);
  EXPECT_EQ(before.lines.size(), after.lines.size());
}

}  // namespace
}  // namespace gpuaas
