#include "billing/invoice.h"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace gpuaas {
namespace {

// ceil(a / b) for b > 0, any sign of a.
int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// floor(total * k / n) without overflow for the sizes we handle.
int64_t Share(int64_t total, int64_t k, int64_t n) {
  return static_cast<int64_t>(static_cast<__int128>(total) * k / n);
}

// What is left to share of a measured total once closed invoices took `taken` (never < 0: an
// open allocation's counters restart with the server, so its final total may be lower).
int64_t Rest(int64_t total, int64_t taken) { return std::max<int64_t>(0, total - taken); }

// The measurements left to share over the units not on closed invoices: those units are
// numbered from 0 (`offset` of them lie before the window) and there are `n` of them.
struct ToShare {
  Measured left;
  int64_t offset = 0;
  int64_t n = 0;
};

ToShare SharesLeft(const UsageRecord& r, int64_t units, const ClosedPart* closed) {
  ToShare t{{r.energy_mwh, r.idle_gpu_millis, r.net_rx_bytes, r.net_tx_bytes}, 0, units};
  if (closed == nullptr) return t;
  t.left = {Rest(r.energy_mwh, closed->shares.energy_mwh),
            Rest(r.idle_gpu_millis, closed->shares.idle_gpu_millis),
            Rest(r.net_rx_bytes, closed->shares.net_rx_bytes),
            Rest(r.net_tx_bytes, closed->shares.net_tx_bytes)};
  t.offset = closed->units_before;
  t.n = units - closed->units;
  return t;
}

// Adds the share of units [a, b) of the allocation's measurements left to share to a line.
void AddShares(InvoiceLine& l, const ToShare& t, int64_t a, int64_t b) {
  a -= t.offset;
  b -= t.offset;
  if (t.n <= 0 || a < 0 || b > t.n) return;  // units already on closed invoices: shared there
  auto share = [&](int64_t total) { return Share(total, b, t.n) - Share(total, a, t.n); };
  l.energy_mwh += share(t.left.energy_mwh);
  l.idle_gpu_millis += share(t.left.idle_gpu_millis);
  l.net_rx_bytes += share(t.left.net_rx_bytes);
  l.net_tx_bytes += share(t.left.net_tx_bytes);
}

}  // namespace

void AddClosedLines(const std::vector<InvoiceLine>& lines, Millis from, Millis unit_ms,
                    ClosedParts& parts) {
  for (const InvoiceLine& l : lines) {
    ClosedPart& p = parts[l.allocation];
    const int64_t units = l.billed_seconds * kMillisPerSecond / unit_ms;
    p.units += units;
    if (l.start < from) p.units_before += units;
    p.shares.energy_mwh += l.energy_mwh;
    p.shares.idle_gpu_millis += l.idle_gpu_millis;
    p.shares.net_rx_bytes += l.net_rx_bytes;
    p.shares.net_tx_bytes += l.net_tx_bytes;
  }
}

std::vector<InvoiceLine> LinesOf(const UsageRecord& r, const JobBillingFacts& facts,
                                 const PriceBook& prices, Millis from, Millis to,
                                 const ClosedPart* closed) {
  std::vector<InvoiceLine> out;
  const Millis unit = prices.unit_ms();
  if (r.end <= r.start || r.gpus <= 0) return out;
  const int64_t n = CeilDiv(r.end - r.start, unit);  // units billed for the whole allocation
  const ToShare to_share = SharesLeft(r, n, closed);
  const int64_t k_lo = std::max<int64_t>(0, CeilDiv(from - r.start, unit));
  const int64_t k_hi = std::min<int64_t>(n, CeilDiv(to - r.start, unit));
  if (k_lo >= k_hi) return out;
  // Cut where a unit starts at or after a price change.
  std::vector<int64_t> cuts = {k_lo, k_hi};
  for (Millis c : prices.ChangesIn(r.gpu_class, facts.priority_class, r.start + k_lo * unit,
                                   r.start + (k_hi - 1) * unit + 1)) {
    int64_t k = CeilDiv(c - r.start, unit);
    if (k > k_lo && k < k_hi) cuts.push_back(k);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    const int64_t a = cuts[i], b = cuts[i + 1];
    const MicroEur rate = prices.RateAt(r.gpu_class, facts.priority_class, r.start + a * unit);
    if (!out.empty() && out.back().rate == rate) {  // a change to the same rate: one line
      InvoiceLine& l = out.back();
      l.billed_seconds += (b - a) * unit / kMillisPerSecond;
      l.end = std::min(r.end, r.start + b * unit);
      AddShares(l, to_share, a, b);
      continue;
    }
    InvoiceLine l;
    l.job = r.job;
    l.allocation = r.allocation;
    l.user = r.user;
    l.project = facts.project;
    l.gpu_class = r.gpu_class;
    l.priority_class = facts.priority_class;
    l.gpus = r.gpus;
    l.start = r.start + a * unit;
    l.end = std::min(r.end, r.start + b * unit);
    l.billed_seconds = (b - a) * unit / kMillisPerSecond;
    l.rate = rate;
    AddShares(l, to_share, a, b);
    out.push_back(std::move(l));
  }
  for (InvoiceLine& l : out) {
    l.amount = CostOf(static_cast<int64_t>(l.gpus) * l.billed_seconds * kMillisPerSecond, l.rate);
  }
  return out;
}

UsageRecord AsRecord(const Allocation& a, Millis now, const Measured& so_far) {
  UsageRecord r;
  r.allocation = a.id;
  r.job = a.job;
  r.entity = a.entity;
  r.user = a.user;
  r.gpu_class = a.gpu_class;
  r.gpus = static_cast<int>(a.devices.size());
  r.start = a.start;
  r.end = a.end != 0 ? a.end : std::max(now, a.start);
  r.energy_mwh = so_far.energy_mwh;
  r.idle_gpu_millis = so_far.idle_gpu_millis;
  r.net_rx_bytes = so_far.net_rx_bytes;
  r.net_tx_bytes = so_far.net_tx_bytes;
  return r;
}

void SumInvoice(Invoice& inv, const EnergyPricing& energy) {
  inv.compute_total = inv.energy_mwh = inv.idle_gpu_millis = inv.gpu_millis = 0;
  inv.net_rx_bytes = inv.net_tx_bytes = 0;
  for (const InvoiceLine& l : inv.lines) {
    inv.compute_total += l.amount;
    inv.energy_mwh += l.energy_mwh;
    inv.idle_gpu_millis += l.idle_gpu_millis;
    inv.net_rx_bytes += l.net_rx_bytes;
    inv.net_tx_bytes += l.net_tx_bytes;
    inv.gpu_millis += static_cast<int64_t>(l.gpus) * l.billed_seconds * kMillisPerSecond;
  }
  // mWh -> kWh is / 1e6, rounded half up to the micro-euro.
  inv.energy_amount =
      energy.eur_per_kwh > 0
          ? static_cast<MicroEur>(
                (static_cast<__int128>(inv.energy_mwh) * energy.eur_per_kwh + 500'000) / 1'000'000)
          : 0;
  inv.co2_g = energy.co2_g_per_kwh > 0 ? inv.energy_mwh * energy.co2_g_per_kwh / 1'000'000 : 0;
  inv.total = inv.compute_total + inv.energy_amount;
}

Invoice ComputeInvoice(EntityId entity, const std::string& month, Millis from, Millis to,
                       const std::vector<UsageRecord>& ledger, const std::vector<Allocation>& open,
                       Millis now, const PriceBook& prices, const JobFactsFn& facts,
                       const EnergyPricing& energy, const MeasuredSoFar& so_far,
                       const ClosedParts& closed) {
  Invoice inv;
  inv.entity = entity;
  inv.month = month;
  auto add = [&](const UsageRecord& r) {
    if (r.entity != entity) return;
    // A record can only reach into [from, to) if it starts before `to`.
    if (r.start >= to) return;
    auto part = closed.find(r.allocation);
    for (InvoiceLine& l : LinesOf(r, facts(r.job), prices, from, to,
                                  part != closed.end() ? &part->second : nullptr)) {
      inv.lines.push_back(std::move(l));
    }
  };
  for (const UsageRecord& r : ledger) add(r);
  for (const Allocation& a : open) {
    if (a.end != 0) continue;
    auto m = so_far.find(a.id);
    add(AsRecord(a, now, m != so_far.end() ? m->second : Measured{}));
  }
  std::sort(inv.lines.begin(), inv.lines.end(), [](const InvoiceLine& x, const InvoiceLine& y) {
    return std::tie(x.job, x.allocation, x.start) < std::tie(y.job, y.allocation, y.start);
  });
  SumInvoice(inv, energy);
  return inv;
}

MicroEur EstimateCost(int gpus, int64_t walltime_s, Millis start, const std::string& gpu_class,
                      const std::string& priority_class, const PriceBook& prices) {
  UsageRecord r;
  r.gpu_class = gpu_class;
  r.gpus = gpus;
  r.start = start;
  r.end = start + walltime_s * kMillisPerSecond;
  MicroEur sum = 0;
  for (const InvoiceLine& l : LinesOf(r, {"", priority_class}, prices, start, kForever)) {
    sum += l.amount;
  }
  return sum;
}

std::string FormatKwh(int64_t mwh) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%lld.%06lld", mwh < 0 ? "-" : "",
                static_cast<long long>((mwh < 0 ? -mwh : mwh) / 1'000'000),
                static_cast<long long>((mwh < 0 ? -mwh : mwh) % 1'000'000));
  return buf;
}

}  // namespace gpuaas
