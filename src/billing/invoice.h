// Invoices from the ledger: the billed lines of one entity for one month, computed from closed
// usage records plus still-open allocations (billed up to `now`), at the rates of the price
// book in force when each billing unit started (billing/price_book.h for the rules).
// An allocation gives one line per price segment per month; energy, idle device-time and network
// traffic of an allocation are apportioned over its units so that its lines add up to exactly its
// totals, whatever the months or segments (nothing counted twice, nothing lost). Pure functions;
// thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/time.h"
#include "billing/price_book.h"
#include "model/allocation.h"
#include "model/billing.h"

namespace gpuaas {

// What billing needs to know of a job beyond the ledger.
struct JobBillingFacts {
  std::string project;
  std::string priority_class;
};
using JobFactsFn = std::function<JobBillingFacts(JobId)>;

// Optional energy pricing and CO2 factor (0 = not shown / not charged).
struct EnergyPricing {
  MicroEur eur_per_kwh = 0;   // micro-euros per kWh; > 0 charges energy on the invoice
  int64_t co2_g_per_kwh = 0;  // grams of CO2 per kWh; > 0 shows CO2 on the invoice
};

struct Invoice {
  EntityId entity = 0;
  std::string month;  // "YYYY-MM"
  bool closed = false;
  Millis closed_at = 0;
  std::vector<InvoiceLine> lines;  // by (job, allocation, start)
  MicroEur compute_total = 0;      // sum of line amounts
  int64_t energy_mwh = 0;          // sum of line energy
  int64_t idle_gpu_millis = 0;     // sum of line idle device-time
  int64_t gpu_millis = 0;          // sum of billed device-time (gpus x billed seconds)
  int64_t net_rx_bytes = 0;        // sum of line network traffic (information, not charged)
  int64_t net_tx_bytes = 0;
  MicroEur energy_amount = 0;  // energy_mwh x eur_per_kwh (0 when not charged)
  int64_t co2_g = 0;           // energy_mwh x co2 factor
  MicroEur total = 0;          // compute_total + energy_amount
};

// What an allocation measured (its telemetry): a closed one's totals, an open one's so far.
struct Measured {
  int64_t energy_mwh = 0;
  int64_t idle_gpu_millis = 0;
  int64_t net_rx_bytes = 0;
  int64_t net_tx_bytes = 0;
};

// An open allocation's measurements so far, by allocation (absent: none yet).
using MeasuredSoFar = std::map<AllocationId, Measured>;

// What closed invoices of other months already hold of one allocation: its billing units on
// them, how many of those start before the window being invoiced, and the shares of its
// measurements they carry. A month closed while the allocation ran carries the shares of what
// was measured by then; the allocation's other units share the rest of its totals, so that its
// lines over all months still add up to exactly its totals.
struct ClosedPart {
  int64_t units = 0;
  int64_t units_before = 0;
  Measured shares;
};
using ClosedParts = std::map<AllocationId, ClosedPart>;

// Adds the lines of one closed invoice to `parts`, for an invoice of the window starting at
// `from` (the lines must lie outside that window). `unit_ms` is the price book's billing unit.
void AddClosedLines(const std::vector<InvoiceLine>& lines, Millis from, Millis unit_ms,
                    ClosedParts& parts);

// The lines of one allocation (`r.end` is its end; for an open one, now) whose units start in
// [from, to). Empty when none. `closed` (may be null): what closed invoices hold of it.
std::vector<InvoiceLine> LinesOf(const UsageRecord& r, const JobBillingFacts& facts,
                                 const PriceBook& prices, Millis from, Millis to,
                                 const ClosedPart* closed = nullptr);

// An open allocation seen as a usage record ending at max(now, start), with what it measured
// so far.
UsageRecord AsRecord(const Allocation& a, Millis now, const Measured& so_far = {});

// The invoice of `entity` for [from, to) (a month) from the ledger and the open allocations
// (with their measurements so far), given what closed invoices of other months hold.
Invoice ComputeInvoice(EntityId entity, const std::string& month, Millis from, Millis to,
                       const std::vector<UsageRecord>& ledger, const std::vector<Allocation>& open,
                       Millis now, const PriceBook& prices, const JobFactsFn& facts,
                       const EnergyPricing& energy, const MeasuredSoFar& so_far = {},
                       const ClosedParts& closed = {});

// Fills the totals of an invoice from its lines.
void SumInvoice(Invoice& inv, const EnergyPricing& energy);

// Cost of running `gpus` devices of a class for `walltime_s` from `start` (an upper bound of a
// job's cost: its walltime x the rates in force).
MicroEur EstimateCost(int gpus, int64_t walltime_s, Millis start, const std::string& gpu_class,
                      const std::string& priority_class, const PriceBook& prices);

// "1.234567": kWh with 6 decimals from milliwatt-hours.
std::string FormatKwh(int64_t mwh);

}  // namespace gpuaas
