#include "sim/results_format.h"

#include <cstdio>
#include <string_view>

#include "base/money.h"
#include "base/time.h"
#include "sim/simulator.h"

namespace gpuaas::sim {
namespace {

std::string Seconds(double s) { return Fixed(s, 3); }

std::string MoneyJson(MicroEur m) {
  return "{\"amount\":" + JsonString(FormatEurCents(m)) +
         ",\"currency\":\"EUR\",\"micros\":" + std::to_string(m) + "}";
}

// "3h25m" for a table cell (seconds rounded).
std::string Human(double seconds) {
  return FormatDurationSeconds(static_cast<int64_t>(seconds + 0.5));
}

std::string Pad(const std::string& s, size_t width, bool right = true) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string ResultsJson(const std::string& trace, const std::string& cluster,
                        const std::vector<PolicyMetrics>& results) {
  std::string o =
      "{\"trace\":" + JsonString(trace) + ",\"cluster\":" + JsonString(cluster) + ",\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const PolicyMetrics& m = results[i];
    o += i ? "," : "";
    o += "{\"policy\":" + JsonString(m.policy) + ",\"jobs\":" + std::to_string(m.jobs) +
         ",\"finished\":" + std::to_string(m.finished) + ",\"avg_jct_s\":" + Seconds(m.avg_jct_s) +
         ",\"p50_jct_s\":" + Seconds(m.p50_jct_s) + ",\"p95_jct_s\":" + Seconds(m.p95_jct_s) +
         ",\"avg_wait_s\":" + Seconds(m.avg_wait_s) + ",\"p50_wait_s\":" + Seconds(m.p50_wait_s) +
         ",\"p95_wait_s\":" + Seconds(m.p95_wait_s) + ",\"p99_wait_s\":" + Seconds(m.p99_wait_s) +
         ",\"makespan_s\":" + Seconds(m.makespan_s) +
         ",\"gpu_utilization\":" + Fixed(m.gpu_utilization, 6) + ",\"cost\":" + MoneyJson(m.cost) +
         ",\"entities\":{";
    for (size_t e = 0; e < m.entities.size(); ++e) {
      const EntityMetrics& em = m.entities[e];
      o += e ? "," : "";
      o += JsonString(em.name) + ":{\"jobs\":" + std::to_string(em.jobs) +
           ",\"avg_jct_s\":" + Seconds(em.avg_jct_s) + ",\"avg_wait_s\":" + Seconds(em.avg_wait_s) +
           ",\"p95_wait_s\":" + Seconds(em.p95_wait_s) +
           ",\"gpu_seconds\":" + Seconds(em.gpu_seconds) + ",\"cost\":" + MoneyJson(em.cost) + "}";
    }
    o += "}}";
  }
  return o + "]}\n";
}

std::string ResultsTable(const std::string& trace, const std::string& cluster,
                         const std::vector<PolicyMetrics>& results) {
  std::string o = "trace " + trace + " on " + cluster + "\n\n";
  o += Pad("POLICY", 18, false) + Pad("JOBS", 9) + Pad("FINISHED", 10) + Pad("TIMED OUT", 11) +
       Pad("AVG JCT", 14) + Pad("P95 JCT", 14) + Pad("AVG WAIT", 14) + Pad("P95 WAIT", 14) +
       Pad("P99 WAIT", 14) + Pad("MAKESPAN", 14) + Pad("UTIL", 8) + Pad("COST EUR", 16) + "\n";
  for (const PolicyMetrics& m : results) {
    o += Pad(m.policy, 18, false) + Pad(std::to_string(m.jobs), 9) +
         Pad(std::to_string(m.finished), 10) + Pad(std::to_string(m.timed_out), 11) +
         Pad(Human(m.avg_jct_s), 14) + Pad(Human(m.p95_jct_s), 14) + Pad(Human(m.avg_wait_s), 14) +
         Pad(Human(m.p95_wait_s), 14) + Pad(Human(m.p99_wait_s), 14) +
         Pad(Human(m.makespan_s), 14) + Pad(Fixed(m.gpu_utilization * 100, 1) + "%", 8) +
         Pad(FormatEurCents(m.cost), 16) + "\n";
  }
  for (const PolicyMetrics& m : results) {
    o += "\n" + m.policy + " per entity:\n";
    o += "  " + Pad("ENTITY", 20, false) + Pad("JOBS", 9) + Pad("AVG JCT", 12) +
         Pad("AVG WAIT", 12) + Pad("P95 WAIT", 12) + Pad("GPU-HOURS", 12) + Pad("COST EUR", 16) +
         "\n";
    for (const EntityMetrics& e : m.entities) {
      o += "  " + Pad(e.name, 20, false) + Pad(std::to_string(e.jobs), 9) +
           Pad(Human(e.avg_jct_s), 12) + Pad(Human(e.avg_wait_s), 12) +
           Pad(Human(e.p95_wait_s), 12) + Pad(Fixed(e.gpu_seconds / 3600.0, 1), 12) +
           Pad(FormatEurCents(e.cost), 16) + "\n";
    }
  }
  return o;
}

namespace {

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string TraceSeconds(Millis t) { return Fixed(static_cast<double>(t - kSimEpoch) / 1000.0, 3); }

}  // namespace

std::string JobsCsvHeader() {
  return "policy,id,entity,gpus,gpu_class,submit_s,start_s,end_s,wait_s,run_s,timed_out\n";
}

std::string JobCsvRow(const std::string& policy, const JobOutcome& job) {
  return CsvField(policy) + ',' + CsvField(job.id) + ',' + CsvField(job.entity_name) + ',' +
         std::to_string(job.gpus) + ',' + CsvField(job.class_name) + ',' +
         TraceSeconds(job.submit) + ',' + TraceSeconds(job.start) + ',' + TraceSeconds(job.end) +
         ',' + Fixed(static_cast<double>(job.start - job.submit) / 1000.0, 3) + ',' +
         Fixed(static_cast<double>(job.end - job.start) / 1000.0, 3) + ',' +
         (job.timed_out ? "true" : "false") + '\n';
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace gpuaas::sim
