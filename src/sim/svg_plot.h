// The plotting shared by the simulator's HTML pages (`simulate --report`, `forecast --report`,
// `plan --report`): inline SVG line and bar charts, the page's head and CSS, and numbers for
// people. Every text that comes from input is escaped (base/html.h). Output is byte-identical for
// the same input. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/money.h"

namespace gpuaas::sim {

// Fixed palette: one colour per class / policy / fleet, in order.
const char* PlotColour(size_t i);
// A duration for people: "45 s", "12 min", "3.4 h", "2.1 days".
std::string HumanDuration(double seconds);
// "1234 EUR".
std::string HumanMoney(MicroEur m);
// A "nice" axis maximum >= v (1, 2, 5 x 10^k).
double NiceMax(double v);

struct PlotSeries {
  std::string id;     // data-series attribute (tests, tools)
  std::string label;  // legend
  std::vector<double> y;
  size_t start = 0;     // index of y[0] on the x axis
  bool dashed = false;  // e.g. a projection or a limit
};

// A vertical marker at a point index (e.g. "exceeds capacity").
struct PlotMarker {
  size_t at = 0;
  std::string label;
};

struct LineChartSpec {
  std::string title;
  std::string y_label;
  std::string x_label;  // e.g. "days since the trace's start"
  std::vector<PlotSeries> series;
  size_t points = 0;       // the x axis spans this many points (at least the longest series)
  double x_per_point = 1;  // x-axis units per point (tick labels)
  double y_max = 1;        // at least this
  std::vector<PlotMarker> markers;
};

std::string LineChart(const LineChartSpec& spec);

struct BarRow {
  std::string id;     // data-bar attribute
  std::string label;  // left of the bar
  double value = 0;   // >= 0
  std::string text;   // right of the bar (the value for people)
};

// Horizontal bars, one per row, scaled to the largest; `attribute` names the rows' data-*
// attribute (e.g. "data-cost").
std::string BarChart(const std::string& title, const std::vector<BarRow>& rows, const char* colour,
                     const std::string& attribute = "data-bar");

// "<!DOCTYPE html>...<body>" with the shared CSS and the escaped title; close with PageEnd.
std::string PageStart(const std::string& title);
std::string PageEnd(const std::string& note_html);

}  // namespace gpuaas::sim
