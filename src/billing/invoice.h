// Invoices from the ledger: the billed lines of one entity for one month, computed from closed
// usage records plus still-open allocations (billed up to `now`), at the rates of the price
// book in force when each billing unit started (billing/price_book.h for the rules).
// An allocation gives one line per price segment per month; energy, idle device-time and network
// traffic of an allocation are apportioned over its units so that its lines add up to exactly its
// totals, whatever the months or segments (nothing counted twice, nothing lost). Pure functions;
// thread-safe.
#pragma once

#include <functional>
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

// The lines of one allocation (`r.end` is its end; for an open one, now) whose units start in
// [from, to). Empty when none.
std::vector<InvoiceLine> LinesOf(const UsageRecord& r, const JobBillingFacts& facts,
                                 const PriceBook& prices, Millis from, Millis to);

// An open allocation seen as a usage record ending at max(now, start).
UsageRecord AsRecord(const Allocation& a, Millis now);

// The invoice of `entity` for [from, to) (a month) from the ledger and the open allocations.
Invoice ComputeInvoice(EntityId entity, const std::string& month, Millis from, Millis to,
                       const std::vector<UsageRecord>& ledger, const std::vector<Allocation>& open,
                       Millis now, const PriceBook& prices, const JobFactsFn& facts,
                       const EnergyPricing& energy);

// Fills the totals of an invoice from its lines.
void SumInvoice(Invoice& inv, const EnergyPricing& energy);

// Cost of running `gpus` devices of a class for `walltime_s` from `start` (an upper bound of a
// job's cost: its walltime x the rates in force).
MicroEur EstimateCost(int gpus, int64_t walltime_s, Millis start, const std::string& gpu_class,
                      const std::string& priority_class, const PriceBook& prices);

// "1.234567": kWh with 6 decimals from milliwatt-hours.
std::string FormatKwh(int64_t mwh);

}  // namespace gpuaas
