#include "sim/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "base/html.h"
#include "base/time.h"
#include "sim/results_format.h"

namespace gpuaas::sim {
namespace {

// Fixed palette: one colour per class / policy, in order.
constexpr const char* kColours[] = {"#1f6fb4", "#e07b1a", "#2e9b48", "#c23b3b",
                                    "#7d4fb0", "#8c6239", "#d04fa5", "#6b6b6b"};
const char* Colour(size_t i) { return kColours[i % (sizeof kColours / sizeof kColours[0])]; }

// A duration for people: "45 s", "12 min", "3.4 h", "2.1 days".
std::string Human(double s) {
  if (s < 90) return Fixed(s, 0) + " s";
  if (s < 5400) return Fixed(s / 60, 0) + " min";
  if (s < 2 * 86400) return Fixed(s / 3600, 1) + " h";
  return Fixed(s / 86400, 1) + " days";
}

std::string Money(MicroEur m) { return Fixed(static_cast<double>(m) / 1e6, 0) + " EUR"; }

double Percentile(std::vector<int64_t>& v, double p) { return PercentileSeconds(v, p); }

// A "nice" axis maximum >= v (1, 2, 5 x 10^k).
double NiceMax(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

struct Series {
  std::string id;     // data-series attribute (tests, tools)
  std::string label;  // legend
  std::vector<double> y;
};

// A line chart over bins: x = time from the start in days (or hours for short replays).
std::string LineChart(const std::string& title, const std::string& y_label,
                      const std::vector<Series>& series, int64_t bin_s, double y_max) {
  const int W = 720, H = 256, L = 60, R = 12, T = 44, B = 40;
  size_t n = 0;
  for (const Series& s : series) n = std::max(n, s.y.size());
  for (const Series& s : series) {
    for (double v : s.y) y_max = std::max(y_max, v);
  }
  y_max = NiceMax(y_max);
  const double span_s = static_cast<double>(std::max<size_t>(n, 1)) * static_cast<double>(bin_s);
  const bool days = span_s >= 2 * 86400;
  const double unit = days ? 86400.0 : 3600.0;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(W) +
                    " " + std::to_string(H) + "\" role=\"img\" aria-label=\"" + HtmlEscape(title) +
                    "\">\n";
  svg += "<text x=\"" + std::to_string(L) + "\" y=\"16\" class=\"t\">" + HtmlEscape(title) +
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
  const double x_end = span_s / unit;
  const double step = NiceMax(x_end / 6.0);
  for (double x = 0; x <= x_end + 1e-9; x += step) {
    const double px = L + pw * x / std::max(x_end, 1e-9);
    svg += "<text x=\"" + Fixed(px, 1) + "\" y=\"" + std::to_string(H - B + 16) +
           "\" class=\"a\" text-anchor=\"middle\">" + Fixed(x, step < 1 ? 1 : 0) + "</text>";
  }
  svg += "<text x=\"" + Fixed(L + pw / 2, 1) + "\" y=\"" + std::to_string(H - 6) +
         "\" class=\"a\" text-anchor=\"middle\">" + (days ? "days" : "hours") +
         " since the trace's start</text>\n";
  svg += "<text x=\"12\" y=\"" + Fixed(T + ph / 2, 1) +
         "\" class=\"a\" text-anchor=\"middle\" transform=\"rotate(-90 12 " + Fixed(T + ph / 2, 1) +
         ")\">" + HtmlEscape(y_label) + "</text>\n";
  for (size_t si = 0; si < series.size(); ++si) {
    const Series& s = series[si];
    std::string pts;
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double px = L + pw * (static_cast<double>(i) + 0.5) / static_cast<double>(n);
      const double py = T + ph - ph * std::min(s.y[i], y_max) / y_max;
      pts += (i ? " " : "") + Fixed(px, 1) + "," + Fixed(py, 1);
    }
    svg += "<polyline data-series=\"" + HtmlEscape(s.id) + "\" fill=\"none\" stroke=\"" +
           Colour(si) + "\" stroke-width=\"1.6\" points=\"" + pts + "\"/>\n";
    svg += "<rect x=\"" + std::to_string(L + 180 * static_cast<int>(si)) + "\" y=\"22\" " +
           "width=\"10\" height=\"10\" fill=\"" + Colour(si) + "\"/><text x=\"" +
           std::to_string(L + 14 + 180 * static_cast<int>(si)) + "\" y=\"31\" class=\"a\">" +
           HtmlEscape(s.label) + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

// Horizontal box plot of waits per entity on a log scale (1 min .. the largest).
std::string WaitChart(const std::vector<WaitDistribution>& waits) {
  const int W = 720, L = 150, R = 20, row = 26, T = 40;
  const int H = T + row * static_cast<int>(waits.size()) + 40;
  double top = 3600;
  for (const WaitDistribution& w : waits) top = std::max(top, w.p95);
  const double lo = std::log10(60.0), hi = std::log10(NiceMax(top));
  const double pw = W - L - R;
  auto X = [&](double s) {
    const double v = std::log10(std::max(s, 60.0));
    return L + pw * std::min(1.0, (v - lo) / (hi - lo));
  };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(W) +
                    " " + std::to_string(H) +
                    "\" role=\"img\" aria-label=\"wait time per entity\">\n";
  svg += "<text x=\"" + std::to_string(L) +
         "\" y=\"16\" class=\"t\">Wait before start, per entity</text><text x=\"" +
         std::to_string(L) +
         "\" y=\"31\" class=\"a\">box: middle half of the jobs; line: median; whiskers: 5% to "
         "95%; red dot: average</text>\n";
  const int bottom = T + row * static_cast<int>(waits.size());
  for (double s : {60.0, 600.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0}) {
    if (std::log10(s) > hi + 1e-9) break;
    const double x = X(s);
    svg += "<line x1=\"" + Fixed(x, 1) + "\" x2=\"" + Fixed(x, 1) + "\" y1=\"" + std::to_string(T) +
           "\" y2=\"" + std::to_string(bottom) + "\" class=\"g\"/><text x=\"" + Fixed(x, 1) +
           "\" y=\"" + std::to_string(bottom + 16) + "\" class=\"a\" text-anchor=\"middle\">" +
           Human(s) + "</text>\n";
  }
  for (size_t i = 0; i < waits.size(); ++i) {
    const WaitDistribution& w = waits[i];
    const int y = T + row * static_cast<int>(i);
    const int mid = y + row / 2;
    svg += "<g data-entity=\"" + HtmlEscape(w.entity) + "\"><text x=\"" + std::to_string(L - 8) +
           "\" y=\"" + std::to_string(mid + 4) + "\" class=\"a\" text-anchor=\"end\">" +
           HtmlEscape(w.entity) + "</text>";
    svg += "<line x1=\"" + Fixed(X(w.p5), 1) + "\" x2=\"" + Fixed(X(w.p95), 1) + "\" y1=\"" +
           std::to_string(mid) + "\" y2=\"" + std::to_string(mid) + "\" stroke=\"#555\"/>";
    svg += "<rect x=\"" + Fixed(X(w.p25), 1) + "\" y=\"" + std::to_string(y + 5) + "\" width=\"" +
           Fixed(std::max(1.0, X(w.p75) - X(w.p25)), 1) + "\" height=\"" +
           std::to_string(row - 10) + "\" fill=\"#9cc3e6\" stroke=\"#1f6fb4\"/>";
    svg += "<line x1=\"" + Fixed(X(w.p50), 1) + "\" x2=\"" + Fixed(X(w.p50), 1) + "\" y1=\"" +
           std::to_string(y + 5) + "\" y2=\"" + std::to_string(y + row - 5) +
           "\" stroke=\"#0b3a66\" stroke-width=\"2\"/>";
    svg += "<circle cx=\"" + Fixed(X(w.avg), 1) + "\" cy=\"" + std::to_string(mid) +
           "\" r=\"3\" fill=\"#c23b3b\"/></g>\n";
  }
  svg += "<text x=\"" + Fixed(L + pw / 2, 1) + "\" y=\"" + std::to_string(H - 4) +
         "\" class=\"a\" text-anchor=\"middle\">wait (log scale; under a minute shown at 1 "
         "min)</text>\n</svg>\n";
  return svg;
}

// Horizontal bars: cost per entity.
std::string CostChart(const std::vector<EntityMetrics>& entities) {
  const int W = 720, L = 150, R = 110, row = 22, T = 28;
  const int H = T + row * static_cast<int>(entities.size()) + 10;
  MicroEur top = 1;
  for (const EntityMetrics& e : entities) top = std::max(top, e.cost);
  const double pw = W - L - R;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(W) +
                    " " + std::to_string(H) +
                    "\" role=\"img\" aria-label=\"cost per entity\">\n<text x=\"" +
                    std::to_string(L) +
                    "\" y=\"16\" class=\"t\">Cost per entity (price book "
                    "rates x GPU-hours)</text>\n";
  for (size_t i = 0; i < entities.size(); ++i) {
    const EntityMetrics& e = entities[i];
    const int y = T + row * static_cast<int>(i);
    const double w = pw * static_cast<double>(e.cost) / static_cast<double>(top);
    svg += "<g data-cost=\"" + HtmlEscape(e.name) + "\"><text x=\"" + std::to_string(L - 8) +
           "\" y=\"" + std::to_string(y + 15) + "\" class=\"a\" text-anchor=\"end\">" +
           HtmlEscape(e.name) + "</text><rect x=\"" + std::to_string(L) + "\" y=\"" +
           std::to_string(y + 3) + "\" width=\"" + Fixed(std::max(w, 1.0), 1) + "\" height=\"" +
           std::to_string(row - 6) + "\" fill=\"#2e9b48\"/><text x=\"" +
           Fixed(L + std::max(w, 1.0) + 6, 1) + "\" y=\"" + std::to_string(y + 15) +
           "\" class=\"a\">" + Money(e.cost) + "</text></g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace

ReportCollector::ReportCollector(std::vector<std::string> classes, std::vector<int> class_gpus,
                                 int max_bins)
    : classes_(std::move(classes)),
      class_gpus_(std::move(class_gpus)),
      max_bins_(std::max(max_bins, 2) / 2 * 2),
      last_queued_(classes_.size(), 0),
      last_busy_(classes_.size(), 0),
      queued_sum_(classes_.size()),
      busy_sum_(classes_.size()) {}

void ReportCollector::Grow(int64_t until_s) {
  while (until_s - origin_s_ > bin_s_ * max_bins_) {
    for (auto* sums : {&queued_sum_, &busy_sum_}) {
      for (std::vector<double>& v : *sums) {
        std::vector<double> merged((v.size() + 1) / 2, 0.0);
        for (size_t i = 0; i < v.size(); ++i) merged[i / 2] += v[i];
        v = std::move(merged);
      }
    }
    bin_s_ *= 2;
  }
}

void ReportCollector::Accumulate(int64_t from_s, int64_t to_s) {
  if (to_s <= from_s) return;
  Grow(to_s);
  const size_t need = static_cast<size_t>((to_s - origin_s_ + bin_s_ - 1) / bin_s_);
  for (size_t c = 0; c < classes_.size(); ++c) {
    if (queued_sum_[c].size() < need) queued_sum_[c].resize(need, 0.0);
    if (busy_sum_[c].size() < need) busy_sum_[c].resize(need, 0.0);
  }
  int64_t t = from_s;
  while (t < to_s) {
    const int64_t bin = (t - origin_s_) / bin_s_;
    const int64_t bin_end = origin_s_ + (bin + 1) * bin_s_;
    const int64_t upto = std::min(bin_end, to_s);
    const double dt = static_cast<double>(upto - t);
    for (size_t c = 0; c < classes_.size(); ++c) {
      queued_sum_[c][bin] += last_queued_[c] * dt;
      busy_sum_[c][bin] += last_busy_[c] * dt;
    }
    t = upto;
  }
}

void ReportCollector::Sample(const SimSample& s) {
  if (!started_) {
    started_ = true;
    origin_s_ = s.now_s;
    last_s_ = s.now_s;
  }
  Accumulate(last_s_, s.now_s);
  last_s_ = s.now_s;
  for (size_t c = 0; c < classes_.size() && c < s.queued_jobs.size(); ++c) {
    last_queued_[c] = s.queued_jobs[c];
    last_busy_[c] = s.busy_gpus[c];
  }
}

void ReportCollector::Finished(const JobOutcome& o) {
  if (o.entity < 0) return;
  if (waits_ms_.size() <= static_cast<size_t>(o.entity)) waits_ms_.resize(o.entity + 1);
  waits_ms_[o.entity].push_back(o.start - o.submit);
}

PolicyReport ReportCollector::Finish(PolicyMetrics metrics,
                                     const std::vector<std::string>& entity_names) {
  PolicyReport r;
  r.classes = classes_;
  r.class_gpus = class_gpus_;
  r.bin_s = bin_s_;
  r.origin_s = origin_s_;
  const int64_t covered = last_s_ - origin_s_;
  const size_t bins = static_cast<size_t>((covered + bin_s_ - 1) / bin_s_);
  for (size_t c = 0; c < classes_.size(); ++c) {
    std::vector<double> q(bins, 0.0), b(bins, 0.0);
    for (size_t i = 0; i < bins; ++i) {
      const int64_t start = static_cast<int64_t>(i) * bin_s_;
      const double len = static_cast<double>(std::min(bin_s_, covered - start));
      if (len <= 0) continue;
      if (i < queued_sum_[c].size()) q[i] = queued_sum_[c][i] / len;
      if (i < busy_sum_[c].size()) b[i] = busy_sum_[c][i] / len;
    }
    r.queued.push_back(std::move(q));
    r.busy.push_back(std::move(b));
  }
  for (size_t e = 0; e < entity_names.size(); ++e) {
    WaitDistribution w;
    w.entity = entity_names[e];
    if (e < waits_ms_.size() && !waits_ms_[e].empty()) {
      std::vector<int64_t>& v = waits_ms_[e];
      w.jobs = static_cast<int64_t>(v.size());
      double sum = 0;
      for (int64_t x : v) sum += static_cast<double>(x);
      w.avg = sum / static_cast<double>(v.size()) / 1000.0;
      w.p5 = Percentile(v, 5);
      w.p25 = Percentile(v, 25);
      w.p50 = Percentile(v, 50);
      w.p75 = Percentile(v, 75);
      w.p95 = Percentile(v, 95);
      w.max = Percentile(v, 100);
    }
    r.waits.push_back(std::move(w));
  }
  std::sort(
      r.waits.begin(), r.waits.end(),
      [](const WaitDistribution& a, const WaitDistribution& b) { return a.entity < b.entity; });
  r.metrics = std::move(metrics);
  return r;
}

std::string ReportHtml(const std::string& trace, const std::string& cluster,
                       const std::vector<PolicyReport>& reports) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>GPUaaS "
      "simulation: " +
      HtmlEscape(trace) +
      "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:24px "
      "auto;color:#222;padding:0 12px}table{border-collapse:collapse;margin:8px "
      "0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f2f2f2}"
      "td:first-child,th:first-child{text-align:left}svg{width:100%;height:auto;margin:8px 0}"
      ".t{font-size:13px;font-weight:600}.a{font-size:11px;fill:#444}.g{stroke:#e4e4e4}"
      "p.note{color:#555;font-size:14px}</style></head><body>\n";
  h += "<h1>What-if replay: " + HtmlEscape(trace) + "</h1>\n<p class=\"note\">The jobs of <b>" +
       HtmlEscape(trace) + "</b> replayed on the cluster <b>" + HtmlEscape(cluster) +
       "</b> through the platform's own scheduler under a virtual clock. <i>Wait</i> is the time "
       "from submission to start; <i>completion time</i> adds the run time. <i>Utilisation</i> "
       "is the share of GPUs allocated to jobs.</p>\n";
  h += "<h2>Policies side by side</h2>\n<table><tr><th>policy</th><th>jobs "
       "finished</th><th>average completion time</th><th>average wait</th><th>95% of jobs "
       "wait less than</th><th>GPU utilisation</th><th>cost</th></tr>\n";
  for (const PolicyReport& r : reports) {
    const PolicyMetrics& m = r.metrics;
    h += "<tr><td>" + HtmlEscape(m.policy) + "</td><td>" + std::to_string(m.finished) + " / " +
         std::to_string(m.jobs) + "</td><td>" + Human(m.avg_jct_s) + "</td><td>" +
         Human(m.avg_wait_s) + "</td><td>" + Human(m.p95_wait_s) + "</td><td>" +
         Fixed(m.gpu_utilization * 100, 1) + "%</td><td>" + Money(m.cost) + "</td></tr>\n";
  }
  h += "</table>\n";
  for (const PolicyReport& r : reports) {
    const PolicyMetrics& m = r.metrics;
    h += "<section data-policy=\"" + HtmlEscape(m.policy) + "\">\n<h2>Policy " +
         HtmlEscape(m.policy) + "</h2>\n";
    std::vector<Series> queued, util;
    for (size_t c = 0; c < r.classes.size(); ++c) {
      queued.push_back({"queue-" + r.classes[c], r.classes[c] + " (jobs waiting)", r.queued[c]});
      std::vector<double> pct;
      for (double b : r.busy[c]) {
        pct.push_back(r.class_gpus[c] > 0 ? 100.0 * b / r.class_gpus[c] : 0.0);
      }
      util.push_back({"util-" + r.classes[c],
                      r.classes[c] + " (" + std::to_string(r.class_gpus[c]) + " GPUs)", pct});
    }
    h += LineChart("Jobs waiting, by the class they prefer", "jobs waiting", queued, r.bin_s, 1);
    h += LineChart("GPU utilisation by class", "% of the class's GPUs in use", util, r.bin_s, 100);
    h += "<p class=\"note\">Each point averages " + FormatDurationSeconds(r.bin_s) + ".</p>\n";
    h += WaitChart(r.waits);
    h += CostChart(m.entities);
    h += "<table><tr><th>entity</th><th>jobs</th><th>average wait</th><th>median "
         "wait</th><th>95% wait less than</th><th>GPU-hours</th><th>cost</th></tr>\n";
    for (const EntityMetrics& e : m.entities) {
      double median = 0;
      for (const WaitDistribution& w : r.waits) {
        if (w.entity == e.name) median = w.p50;
      }
      h += "<tr><td>" + HtmlEscape(e.name) + "</td><td>" + std::to_string(e.jobs) + "</td><td>" +
           Human(e.avg_wait_s) + "</td><td>" + Human(median) + "</td><td>" + Human(e.p95_wait_s) +
           "</td><td>" + Fixed(e.gpu_seconds / 3600.0, 0) + "</td><td>" + Money(e.cost) +
           "</td></tr>\n";
    }
    h += "</table>\n</section>\n";
  }
  h += "<p class=\"note\">Generated by <code>gpuaas simulate --report</code>; the same trace, "
       "cluster and seed give the same page.</p>\n</body></html>\n";
  return h;
}

Status WriteReport(const std::string& dir, const std::string& html) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create report directory " + dir + ": " + ec.message());
  const std::string path = dir + "/index.html";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::out | std::ios::binary | std::ios::trunc);
    out << html;
    out.flush();
    if (!out) return Unavailable("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unavailable("cannot rename " + tmp + ": " + ec.message());
  return Status::Ok();
}

}  // namespace gpuaas::sim
