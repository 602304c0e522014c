#include "sim/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "base/html.h"
#include "base/time.h"
#include "sim/results_format.h"
#include "sim/svg_plot.h"

namespace gpuaas::sim {
namespace {

double Percentile(std::vector<int64_t>& v, double p) { return PercentileSeconds(v, p); }

std::string Human(double s) { return HumanDuration(s); }
std::string Money(MicroEur m) { return HumanMoney(m); }

// A line chart over bins: x = time from the start in days (or hours for short replays).
std::string LineChart(const std::string& title, const std::string& y_label,
                      std::vector<PlotSeries> series, int64_t bin_s, double y_max) {
  size_t n = 0;
  for (const PlotSeries& s : series) n = std::max(n, s.y.size());
  const double span_s = static_cast<double>(std::max<size_t>(n, 1)) * static_cast<double>(bin_s);
  const bool days = span_s >= 2 * 86400;
  LineChartSpec spec;
  spec.title = title;
  spec.y_label = y_label;
  spec.x_label = std::string(days ? "days" : "hours") + " since the trace's start";
  spec.series = std::move(series);
  spec.points = n;
  spec.x_per_point = static_cast<double>(bin_s) / (days ? 86400.0 : 3600.0);
  spec.y_max = y_max;
  return sim::LineChart(spec);
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
  std::vector<BarRow> rows;
  for (const EntityMetrics& e : entities) {
    rows.push_back({e.name, e.name, static_cast<double>(e.cost), Money(e.cost)});
  }
  return BarChart("Cost per entity (price book rates x GPU-hours)", rows, "#2e9b48", "data-cost");
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
  std::string h = PageStart("GPUaaS simulation: " + trace);
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
    std::vector<PlotSeries> queued, util;
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
  h += PageEnd(
      "Generated by <code>gpuaas simulate --report</code>; the same trace, cluster and seed give "
      "the same page.");
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
