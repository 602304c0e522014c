// The capacity-planning pages, self-contained HTML like `simulate --report` (shared plotting:
// sim/svg_plot.h), written for a manager:
//   * ForecastReportHtml (`gpuaas forecast --report DIR`): per class, the weekly GPU-hour demand
//     so far and projected against what the fleet can serve, the week demand is projected to
//     exceed it and the date to order by given the suppliers' delivery time, in plain words;
//   * PlanReportHtml (`gpuaas plan --report DIR`): the fleets side by side (a table, and bars
//     of the 95th-percentile wait and of the cost), and the search's answer when one was asked.
// Every text from input is escaped (base/html.h). Byte-identical for the same input. Pure;
// thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/time.h"
#include "sim/forecast.h"
#include "sim/plan.h"

namespace gpuaas::sim {

struct ForecastPage {
  std::string source;  // where the history comes from, e.g. "history.csv" or the server URL
  Millis origin = 0;   // the date of week 0's start
  Millis today = 0;    // "now" for the order-by wording (0: the end of the history)
  ForecastOptions options;
};

std::string ForecastReportHtml(const ForecastPage& page, const std::vector<ClassForecast>& f);

std::string PlanReportHtml(const std::string& trace, const std::string& policy, double scale,
                           const std::vector<FleetResult>& fleets, const SearchResult* search,
                           int64_t target_p95_wait_s);

}  // namespace gpuaas::sim
