#include "sim/sacct_import.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "base/time.h"

namespace gpuaas::sim {
namespace {

constexpr size_t kMaxLineBytes = 64 * 1024;
constexpr int64_t kMaxRows = 10'000'000;

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = line.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool ParseNumber(std::string_view s, int64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && *v >= 0;
}

// Slurm prints local times without a zone; we read them as UTC. "Unknown"/"None" = unset.
Result<Millis> ParseSlurmTime(std::string_view s, bool* unset) {
  s = Trim(s);
  *unset = s.empty() || s == "Unknown" || s == "None";
  if (*unset) return Millis{0};
  std::string text(s);
  if (text.find('Z') == std::string::npos && text.find('+') == std::string::npos) text += "Z";
  return ParseRfc3339(text);
}

// Entities and ids go into a CSV without quoting.
std::string CsvSafe(std::string_view s) {
  std::string out(Trim(s));
  for (char& c : out) {
    if (c == ',' || c == '\n' || c == '"') c = '_';
  }
  return out;
}

}  // namespace

Result<int64_t> ParseSlurmDuration(std::string_view s) {
  s = Trim(s);
  if (s.empty() || s == "UNLIMITED" || s == "Partition_Limit" || s == "INVALID") return 0;
  int64_t days = 0;
  size_t dash = s.find('-');
  std::string_view rest = s;
  if (dash != std::string_view::npos) {
    if (!ParseNumber(s.substr(0, dash), &days)) {
      return InvalidArgument("bad time limit \"" + std::string(s) + "\"");
    }
    rest = s.substr(dash + 1);
  }
  std::vector<std::string_view> parts = Split(rest, ':');
  if (parts.size() > 3) return InvalidArgument("bad time limit \"" + std::string(s) + "\"");
  int64_t v[3] = {0, 0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    size_t dot = p.find('.');  // fractional seconds (elapsed fields)
    if (dot != std::string_view::npos && i + 1 == parts.size()) p = p.substr(0, dot);
    if (!ParseNumber(p, &v[i])) {
      return InvalidArgument("bad time limit \"" + std::string(s) + "\"");
    }
  }
  int64_t h = 0, m = 0, sec = 0;
  if (dash != std::string_view::npos) {  // D-HH[:MM[:SS]]
    h = v[0];
    m = parts.size() > 1 ? v[1] : 0;
    sec = parts.size() > 2 ? v[2] : 0;
  } else if (parts.size() == 3) {
    h = v[0], m = v[1], sec = v[2];
  } else if (parts.size() == 2) {
    m = v[0], sec = v[1];
  } else {
    m = v[0];
  }
  if (days > 36500 || h > 876000 || m > 52560000 || sec > 3153600000) {
    return InvalidArgument("time limit out of range \"" + std::string(s) + "\"");
  }
  return ((days * 24 + h) * 60 + m) * 60 + sec;
}

Status ParseGpuTres(std::string_view tres, int* gpus, std::string* type) {
  *gpus = 0;
  type->clear();
  for (std::string_view item : Split(Trim(tres), ',')) {
    item = Trim(item);
    if (item.rfind("gres/gpu", 0) != 0) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    int64_t n = 0;
    if (!ParseNumber(value, &n) || n > (1 << 20)) {
      return InvalidArgument("bad GPU count in \"" + std::string(item) + "\"");
    }
    if (key == "gres/gpu") {
      *gpus = static_cast<int>(n);  // the total; typed entries repeat it
      continue;
    }
    if (key.size() > 9 && key[8] == ':') *type = Lower(key.substr(9));
  }
  if (*gpus == 0) {  // only typed entries: sum them
    for (std::string_view item : Split(Trim(tres), ',')) {
      item = Trim(item);
      if (item.rfind("gres/gpu:", 0) != 0) continue;
      size_t eq = item.find('=');
      int64_t n = 0;
      if (eq != std::string_view::npos && ParseNumber(item.substr(eq + 1), &n)) {
        *gpus += static_cast<int>(n);
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<TraceJob>> ImportSacct(std::istream& in, const std::string& name,
                                          const std::vector<std::string>& known_classes,
                                          ImportStats* stats) {
  *stats = {};
  std::string line;
  int line_no = 0;
  std::map<std::string, int> col;
  auto error = [&](const std::string& m) {
    return InvalidArgument(name + ":" + std::to_string(line_no) + ": " + m);
  };
  struct Row {
    TraceJob job;
    Millis submit = 0;
  };
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.size() > kMaxLineBytes) return error("line longer than 64 KiB");
    std::string_view text = Trim(line);
    if (text.empty()) continue;
    std::vector<std::string_view> f = Split(text, '|');
    if (col.empty()) {
      for (size_t i = 0; i < f.size(); ++i) col[std::string(Trim(f[i]))] = static_cast<int>(i);
      for (const char* need : {"JobID", "Submit", "Start", "End"}) {
        if (!col.count(need)) {
          return error(std::string("the header has no ") + need +
                       " column (expected sacct --parsable2 output with a header; fields: "
                       "JobID|User|Account|Partition|AllocTRES|Submit|Start|End|Timelimit|"
                       "State)");
        }
      }
      if (!col.count("AllocTRES") && !col.count("AllocGRES") && !col.count("ReqTRES")) {
        return error("the header has no AllocTRES (or AllocGRES, ReqTRES) column: GPUs unknown");
      }
      if (!col.count("Account") && !col.count("User")) {
        return error("the header has neither Account nor User: entities unknown");
      }
      continue;
    }
    if (++stats->rows > kMaxRows) return error("more than 10,000,000 rows");
    auto get = [&](const char* c) -> std::string_view {
      auto it = col.find(c);
      if (it == col.end() || it->second >= static_cast<int>(f.size())) return {};
      return Trim(f[it->second]);
    };
    if (f.size() != col.size()) {
      return error("expected " + std::to_string(col.size()) + " fields separated by '|', got " +
                   std::to_string(f.size()));
    }
    std::string_view id = get("JobID");
    if (id.empty()) return error("empty JobID");
    if (id.find('.') != std::string_view::npos) {
      ++stats->steps;
      continue;
    }
    std::string state = Lower(get("State"));
    bool submit_unset = false, start_unset = false, end_unset = false;
    auto submit = ParseSlurmTime(get("Submit"), &submit_unset);
    if (!submit.ok()) return error("Submit: " + submit.status().message());
    auto start = ParseSlurmTime(get("Start"), &start_unset);
    if (!start.ok()) return error("Start: " + start.status().message());
    auto end = ParseSlurmTime(get("End"), &end_unset);
    if (!end.ok()) return error("End: " + end.status().message());
    if (submit_unset) return error("job " + std::string(id) + " has no Submit time");
    if (start_unset || end_unset || *end < *start || state.rfind("pending", 0) == 0 ||
        state.rfind("running", 0) == 0) {
      ++stats->not_run;
      continue;
    }
    std::string_view tres = get("AllocTRES");
    if (!col.count("AllocTRES")) tres = col.count("AllocGRES") ? get("AllocGRES") : get("ReqTRES");
    int gpus = 0;
    std::string type;
    std::string tres_text(tres);
    // AllocGRES spells it "gpu:2" or "gpu:h200:2".
    if (tres_text.rfind("gpu:", 0) == 0) {
      size_t last = tres_text.rfind(':');
      std::string mid = tres_text.substr(4, last > 4 ? last - 4 : 0);
      tres_text = "gres/gpu" + (mid.empty() ? "" : ":" + mid) + "=" + tres_text.substr(last + 1);
    }
    if (Status s = ParseGpuTres(tres_text, &gpus, &type); !s.ok()) return error(s.message());
    if (gpus <= 0) {
      ++stats->no_gpu;
      continue;
    }
    auto limit = ParseSlurmDuration(get("Timelimit"));
    if (!limit.ok()) return error("Timelimit: " + limit.status().message());
    std::string entity = CsvSafe(col.count("Account") ? get("Account") : std::string_view{});
    if (entity.empty()) entity = CsvSafe(get("User"));
    if (entity.empty()) entity = "unknown";

    Row row;
    row.job.id = CsvSafe(id);
    row.job.duration_s = (*end - *start) / 1000;
    row.job.gpus = gpus;
    row.job.entity = entity;
    if (!type.empty() &&
        std::find(known_classes.begin(), known_classes.end(), type) != known_classes.end()) {
      row.job.gpu_types = {type};
    }
    row.job.walltime_s = *limit;
    row.job.line = line_no;
    row.submit = *submit;
    rows.push_back(std::move(row));
  }
  if (in.bad()) return InvalidArgument(name + ": read error");
  if (col.empty()) return InvalidArgument(name + ": empty (no sacct header line)");
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.submit < b.submit; });
  std::vector<TraceJob> jobs;
  jobs.reserve(rows.size());
  const Millis origin = rows.empty() ? 0 : rows.front().submit;
  for (Row& r : rows) {
    r.job.submit_s = (r.submit - origin) / 1000;
    jobs.push_back(std::move(r.job));
  }
  stats->imported = static_cast<int64_t>(jobs.size());
  return jobs;
}

}  // namespace gpuaas::sim
