// BillingConfig: the billing knobs of the control plane (docs/billing.md), with defaults that
// need nothing configured. A plain value.
#pragma once

#include <cstdint>
#include <string>

#include "billing/invoice.h"
#include "billing/price_book.h"

namespace gpuaas {

struct BillingConfig {
  BillingGranularity granularity = BillingGranularity::kPerSecond;
  EnergyPricing energy;                             // optional EUR/kWh and CO2 factor
  int64_t budget_check_interval_ms = 10'000;        // how often budget alerts are evaluated
  int64_t workspace_quota_bytes = 300'000'000'000;  // default per entity (300 GB)
  std::string workspace_root;  // entity workspaces are workspace_root/<entity> ("" = none)
  int64_t storage_check_interval_ms = 60'000;  // how often workspaces are measured
  int64_t storage_max_entries = 200'000;       // bound of one measurement
  // JFrog Artifactory (optional): per-entity usage and quota from the Projects API; the
  // project key of an entity is its name.
  std::string artifactory_url;      // "https://host" or "http://host:8082" ("" = not configured)
  std::string artifactory_token;    // Bearer token (read-only)
  std::string artifactory_ca_file;  // https: the CA(s) of its certificate ("" = the system's)
};

}  // namespace gpuaas
