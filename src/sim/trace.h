// Job traces for the simulator: the CSV format of CONTRACT.md ("Simulator"), read as a stream
// so that a million-job trace never sits in memory, and written back (the generator, tests).
//
// Format: a header naming the columns (any order); required id,submit_s,duration_s,gpus,entity,
// gpu_types; optional walltime_s,kind,priority,speeds. `gpu_types` lists acceptable classes in
// order of preference separated by `|` (empty = any class); `speeds` is `h200=1;l40s=0.4`
// (speed of each class relative to the job's first class). Rows must come in non-decreasing
// submit_s order (the replay reads them lazily); fields are plain (no quoting), blank lines and
// lines starting with `#` are skipped. Every error names the file and line.
// Thread-safety: a TraceReader is used by one thread; the free functions are pure.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace gpuaas::sim {

struct TraceJob {
  std::string id;
  int64_t submit_s = 0;
  int64_t duration_s = 0;  // run time on the job's first acceptable class
  int gpus = 1;
  std::string entity;
  std::vector<std::string> gpu_types;  // preferred first; empty = any class
  int64_t walltime_s = 0;              // 0 = absent (the platform's default applies)
  std::string kind = "batch";          // batch, notebook, service
  int priority = 0;
  std::vector<std::pair<std::string, double>> speeds;  // empty = the cluster's default speeds
  int line = 0;                                        // where it was read (0 = not read)
};

// A source of jobs in submit order: a file being read, a generator, a vector in tests.
class JobSource {
 public:
  virtual ~JobSource() = default;
  // The next job into *job: true, or false at the end. An error stops the replay.
  virtual Result<bool> Next(TraceJob* job) = 0;
};

// Reads a trace from a stream it does not own (it must outlive the reader). `name` prefixes
// error messages ("jobs.csv:12: ...").
class TraceReader final : public JobSource {
 public:
  TraceReader(std::istream& in, std::string name);
  Result<bool> Next(TraceJob* job) override;
  int64_t rows() const { return rows_; }

 private:
  Status ReadHeader();
  Status Error(const std::string& message) const;

  std::istream& in_;
  std::string name_;
  int line_ = 0;
  int64_t rows_ = 0;
  bool header_read_ = false;
  int64_t last_submit_s_ = 0;
  std::vector<int> column_of_;  // field position -> column id (-1 = ignored)
  int field_count_ = 0;
  std::string buf_;
  std::vector<std::string_view> fields_;
};

// A fixed list of jobs (tests, small tools). Must already be in submit order.
class VectorJobSource final : public JobSource {
 public:
  explicit VectorJobSource(std::vector<TraceJob> jobs) : jobs_(std::move(jobs)) {}
  Result<bool> Next(TraceJob* job) override;

 private:
  std::vector<TraceJob> jobs_;
  size_t next_ = 0;
};

// `h200|l40s` -> {"h200", "l40s"} (empty -> {}). Names must be non-empty.
Result<std::vector<std::string>> ParseGpuTypes(std::string_view s);
// `h200=1;l40s=0.4` -> pairs; speeds must be positive numbers.
Result<std::vector<std::pair<std::string, double>>> ParseSpeeds(std::string_view s);

// The header line every writer emits (all columns).
void WriteTraceHeader(std::ostream& out);
// One row in WriteTraceHeader's column order; speeds with 6 significant digits.
void WriteTraceJob(std::ostream& out, const TraceJob& job);

}  // namespace gpuaas::sim
