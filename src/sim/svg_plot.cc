#include "sim/svg_plot.h"

#include <algorithm>
#include <cmath>

#include "base/html.h"
#include "sim/results_format.h"

namespace gpuaas::sim {

namespace {
constexpr const char* kColours[] = {"#1f6fb4", "#e07b1a", "#2e9b48", "#c23b3b",
                                    "#7d4fb0", "#8c6239", "#d04fa5", "#6b6b6b"};
}  // namespace

const char* PlotColour(size_t i) { return kColours[i % (sizeof kColours / sizeof kColours[0])]; }

std::string HumanDuration(double s) {
  if (s < 90) return Fixed(s, 0) + " s";
  if (s < 5400) return Fixed(s / 60, 0) + " min";
  if (s < 2 * 86400) return Fixed(s / 3600, 1) + " h";
  return Fixed(s / 86400, 1) + " days";
}

std::string HumanMoney(MicroEur m) { return Fixed(static_cast<double>(m) / 1e6, 0) + " EUR"; }

double NiceMax(double v) {
  if (!(v > 0)) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

std::string LineChart(const LineChartSpec& spec) {
  const int W = 720, H = 256, L = 60, R = 12, T = 44, B = 40;
  size_t n = spec.points;
  double y_max = spec.y_max;
  for (const PlotSeries& s : spec.series) {
    n = std::max(n, s.start + s.y.size());
    for (double v : s.y) y_max = std::max(y_max, v);
  }
  y_max = NiceMax(y_max);
  const double nd = static_cast<double>(std::max<size_t>(n, 1));
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(W) +
                    " " + std::to_string(H) + "\" role=\"img\" aria-label=\"" +
                    HtmlEscape(spec.title) + "\">\n";
  svg += "<text x=\"" + std::to_string(L) + "\" y=\"16\" class=\"t\">" + HtmlEscape(spec.title) +
         "</text>\n";
  const double pw = W - L - R, ph = H - T - B;
  for (int k = 0; k <= 4; ++k) {
    const double y = T + ph - ph * k / 4.0;
    svg += "<line x1=\"" + std::to_string(L) + "\" x2=\"" + std::to_string(W - R) + "\" y1=\"" +
           Fixed(y, 1) + "\" y2=\"" + Fixed(y, 1) + "\" class=\"g\"/>";
    svg += "<text x=\"" + std::to_string(L - 6) + "\" y=\"" + Fixed(y + 4, 1) +
           "\" class=\"a\" text-anchor=\"end\">" + Fixed(y_max * k / 4.0, y_max < 4 ? 2 : 0) +
           "</text>\n";
  }
  const double x_end = nd * spec.x_per_point;
  const double step = NiceMax(x_end / 6.0);
  for (double x = 0; x <= x_end + 1e-9; x += step) {
    const double px = L + pw * x / std::max(x_end, 1e-9);
    svg += "<text x=\"" + Fixed(px, 1) + "\" y=\"" + std::to_string(H - B + 16) +
           "\" class=\"a\" text-anchor=\"middle\">" + Fixed(x, step < 1 ? 1 : 0) + "</text>";
  }
  svg += "<text x=\"" + Fixed(L + pw / 2, 1) + "\" y=\"" + std::to_string(H - 6) +
         "\" class=\"a\" text-anchor=\"middle\">" + HtmlEscape(spec.x_label) + "</text>\n";
  svg += "<text x=\"12\" y=\"" + Fixed(T + ph / 2, 1) +
         "\" class=\"a\" text-anchor=\"middle\" transform=\"rotate(-90 12 " + Fixed(T + ph / 2, 1) +
         ")\">" + HtmlEscape(spec.y_label) + "</text>\n";
  for (const PlotMarker& m : spec.markers) {
    const double px = L + pw * (static_cast<double>(m.at) + 0.5) / nd;
    svg += "<line data-marker=\"" + HtmlEscape(m.label) + "\" x1=\"" + Fixed(px, 1) + "\" x2=\"" +
           Fixed(px, 1) + "\" y1=\"" + std::to_string(T) + "\" y2=\"" + Fixed(T + ph, 1) +
           "\" stroke=\"#c23b3b\" stroke-dasharray=\"2 3\"/><text x=\"" + Fixed(px + 4, 1) +
           "\" y=\"" + std::to_string(T + 12) + "\" class=\"a\">" + HtmlEscape(m.label) +
           "</text>\n";
  }
  for (size_t si = 0; si < spec.series.size(); ++si) {
    const PlotSeries& s = spec.series[si];
    std::string pts;
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double px = L + pw * (static_cast<double>(s.start + i) + 0.5) / nd;
      const double py = T + ph - ph * std::min(s.y[i], y_max) / y_max;
      pts += (i ? " " : "") + Fixed(px, 1) + "," + Fixed(py, 1);
    }
    svg += "<polyline data-series=\"" + HtmlEscape(s.id) + "\" fill=\"none\" stroke=\"" +
           PlotColour(si) + "\" stroke-width=\"1.6\"" +
           (s.dashed ? " stroke-dasharray=\"6 4\"" : "") + " points=\"" + pts + "\"/>\n";
    svg += "<rect x=\"" + std::to_string(L + 180 * static_cast<int>(si)) + "\" y=\"22\" " +
           "width=\"10\" height=\"10\" fill=\"" + PlotColour(si) + "\"/><text x=\"" +
           std::to_string(L + 14 + 180 * static_cast<int>(si)) + "\" y=\"31\" class=\"a\">" +
           HtmlEscape(s.label) + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string BarChart(const std::string& title, const std::vector<BarRow>& rows, const char* colour,
                     const std::string& attribute) {
  const int W = 720, L = 150, R = 110, row = 22, T = 28;
  const int H = T + row * static_cast<int>(rows.size()) + 10;
  double top = 0;
  for (const BarRow& r : rows) top = std::max(top, r.value);
  if (!(top > 0)) top = 1;
  const double pw = W - L - R;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(W) +
                    " " + std::to_string(H) + "\" role=\"img\" aria-label=\"" + HtmlEscape(title) +
                    "\">\n<text x=\"" + std::to_string(L) + "\" y=\"16\" class=\"t\">" +
                    HtmlEscape(title) + "</text>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const BarRow& r = rows[i];
    const int y = T + row * static_cast<int>(i);
    const double w = pw * std::max(r.value, 0.0) / top;
    svg += "<g " + attribute + "=\"" + HtmlEscape(r.id) + "\"><text x=\"" + std::to_string(L - 8) +
           "\" y=\"" + std::to_string(y + 15) + "\" class=\"a\" text-anchor=\"end\">" +
           HtmlEscape(r.label) + "</text><rect x=\"" + std::to_string(L) + "\" y=\"" +
           std::to_string(y + 3) + "\" width=\"" + Fixed(std::max(w, 1.0), 1) + "\" height=\"" +
           std::to_string(row - 6) + "\" fill=\"" + colour + "\"/><text x=\"" +
           Fixed(L + std::max(w, 1.0) + 6, 1) + "\" y=\"" + std::to_string(y + 15) +
           "\" class=\"a\">" + HtmlEscape(r.text) + "</text></g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string PageStart(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
         HtmlEscape(title) +
         "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:24px "
         "auto;color:#222;padding:0 12px}table{border-collapse:collapse;margin:8px "
         "0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f2f2f2}"
         "td:first-child,th:first-child{text-align:left}svg{width:100%;height:auto;margin:8px 0}"
         ".t{font-size:13px;font-weight:600}.a{font-size:11px;fill:#444}.g{stroke:#e4e4e4}"
         "p.note{color:#555;font-size:14px}p.key{font-size:16px}</style></head><body>\n";
}

std::string PageEnd(const std::string& note_html) {
  return "<p class=\"note\">" + note_html + "</p>\n</body></html>\n";
}

}  // namespace gpuaas::sim
