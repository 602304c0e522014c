#include "sim/ledger_export.h"

#include <algorithm>
#include <cmath>

namespace gpuaas::sim {
namespace {

double SpeedOf(const std::vector<GpuClass>& catalogue, const std::string& name) {
  for (const GpuClass& c : catalogue) {
    if (c.name == name && c.speed > 0) return c.speed;
  }
  return 1.0;
}

std::string CsvSafe(std::string s) {
  for (char& c : s) {
    if (c == ',' || c == '\n' || c == '\r' || c == '"') c = '_';
  }
  return s;
}

}  // namespace

std::vector<TraceJob> TraceFromJobs(const std::vector<Job>& jobs,
                                    const std::map<EntityId, std::string>& entity_names,
                                    const std::vector<GpuClass>& catalogue, ExportStats* stats) {
  *stats = {};
  struct Row {
    Millis submit;
    JobId id;
    TraceJob job;
  };
  std::vector<Row> rows;
  for (const Job& j : jobs) {
    ++stats->jobs;
    if (j.kind == JobKind::kAllocation) {
      ++stats->allocations;
      continue;
    }
    if (!IsFinal(j.state) || j.started_at <= 0 || j.finished_at < j.started_at) {
      ++stats->not_ended;
      continue;
    }
    TraceJob t;
    t.id = std::to_string(j.id);
    t.gpus = std::max(1, j.gpus);
    auto name = entity_names.find(j.entity);
    t.entity = CsvSafe(name != entity_names.end() && !name->second.empty()
                           ? name->second
                           : "e" + std::to_string(j.entity));
    t.gpu_types = j.gpu_types;
    t.walltime_s = j.walltime_s;
    t.priority = j.priority;
    t.kind = j.kind == JobKind::kNotebook  ? "notebook"
             : j.kind == JobKind::kService ? "service"
                                           : "batch";
    double run_s = static_cast<double>(j.finished_at - j.started_at) / 1000.0;
    const std::string first = !j.gpu_types.empty() ? j.gpu_types.front() : j.gpu_type;
    if (!j.gpu_type.empty() && !first.empty() && j.gpu_type != first) {
      run_s *= SpeedOf(catalogue, j.gpu_type) / SpeedOf(catalogue, first);
    }
    t.duration_s = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(run_s - 1e-9)));
    rows.push_back({j.submitted_at, j.id, std::move(t)});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.submit != b.submit ? a.submit < b.submit : a.id < b.id;
  });
  std::vector<TraceJob> out;
  out.reserve(rows.size());
  const Millis origin = rows.empty() ? 0 : rows.front().submit;
  stats->origin = origin;
  for (Row& r : rows) {
    r.job.submit_s = (r.submit - origin) / 1000;
    out.push_back(std::move(r.job));
  }
  stats->exported = static_cast<int64_t>(out.size());
  return out;
}

}  // namespace gpuaas::sim
