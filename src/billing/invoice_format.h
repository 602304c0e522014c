// Invoice renderings that are not JSON (api/ writes the JSON): the contract's CSV (one line per
// invoice line, with a header) and a printable HTML page. Names of users and the entity are
// resolved by the caller. Pure functions; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "billing/invoice.h"
#include "model/billing.h"

namespace gpuaas {

struct InvoiceNames {
  std::string entity;
  std::function<std::string(UserId)> user;
};

// Header: job,user,project,gpu_type,priority_class,gpus,start,end,billed_seconds,rate,amount,
// amount_micros,energy_kwh,idle_gpu_hours,net_rx_gb,net_tx_gb. Times RFC 3339; money in EUR.
std::string InvoiceCsv(const Invoice& inv, const InvoiceNames& names);

// A self-contained printable page (inline CSS, no scripts). `credits` are listed and deducted.
std::string InvoiceHtml(const Invoice& inv, const InvoiceNames& names,
                        const std::vector<CreditNote>& credits, const EnergyPricing& energy);

// "1.234" GB (10^9 bytes) with 3 decimals (to the nearest MB) from bytes, for bytes >= 0.
std::string FormatGb(int64_t bytes);

// "0.123" GPU-hours with 3 decimals from device-milliseconds.
std::string FormatGpuHours(int64_t gpu_millis);

}  // namespace gpuaas
