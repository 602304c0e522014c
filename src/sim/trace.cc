#include "sim/trace.h"

#include <charconv>
#include <cstdio>
#include <set>

namespace gpuaas::sim {
namespace {

enum Column {
  kId,
  kSubmit,
  kDuration,
  kGpus,
  kEntity,
  kGpuTypes,
  kWalltime,
  kKind,
  kPriority,
  kSpeeds,
  kColumnCount
};
constexpr const char* kColumnNames[kColumnCount] = {"id",       "submit_s",  "duration_s", "gpus",
                                                    "entity",   "gpu_types", "walltime_s", "kind",
                                                    "priority", "speeds"};
constexpr int kRequired = kGpuTypes + 1;  // the first six are required
// A limit on everything: one row, one GPU count, one duration (100 years).
constexpr size_t kMaxLineBytes = 64 * 1024;
constexpr int64_t kMaxSeconds = 100LL * 365 * 86400;
constexpr int kMaxGpus = 1 << 20;

void Split(std::string_view line, char sep, std::vector<std::string_view>* out) {
  out->clear();
  size_t start = 0;
  while (true) {
    size_t end = line.find(sep, start);
    if (end == std::string_view::npos) {
      out->push_back(line.substr(start));
      return;
    }
    out->push_back(line.substr(start, end - start));
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

bool ParseInt(std::string_view s, int64_t* v) {
  s = Trim(s);
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ValidClassName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<std::string>> ParseGpuTypes(std::string_view s) {
  std::vector<std::string> out;
  s = Trim(s);
  if (s.empty()) return out;
  std::vector<std::string_view> parts;
  Split(s, '|', &parts);
  std::set<std::string_view> seen;
  for (std::string_view p : parts) {
    p = Trim(p);
    if (!ValidClassName(p)) {
      return InvalidArgument("gpu_types: bad class name \"" + std::string(p) +
                             "\" (expected e.g. h200|l40s)");
    }
    if (!seen.insert(p).second) {
      return InvalidArgument("gpu_types: class \"" + std::string(p) + "\" listed twice");
    }
    out.emplace_back(p);
  }
  return out;
}

Result<std::vector<std::pair<std::string, double>>> ParseSpeeds(std::string_view s) {
  std::vector<std::pair<std::string, double>> out;
  s = Trim(s);
  if (s.empty()) return out;
  std::vector<std::string_view> parts;
  Split(s, ';', &parts);
  for (std::string_view p : parts) {
    size_t eq = p.find('=');
    std::string_view name = eq == std::string_view::npos ? p : Trim(p.substr(0, eq));
    if (eq == std::string_view::npos || !ValidClassName(name)) {
      return InvalidArgument(
          "speeds: expected CLASS=SPEED items separated by ';' (e.g. "
          "h200=1;l40s=0.4), got \"" +
          std::string(p) + "\"");
    }
    std::string_view num = Trim(p.substr(eq + 1));
    double v = 0;
    auto [q, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (num.empty() || ec != std::errc() || q != num.data() + num.size() || !(v > 0) || v > 1e6) {
      return InvalidArgument("speeds: speed of " + std::string(name) +
                             " must be a positive number, got \"" + std::string(num) + "\"");
    }
    for (const auto& [n, _] : out) {
      if (n == name) return InvalidArgument("speeds: class " + std::string(name) + " twice");
    }
    out.emplace_back(std::string(name), v);
  }
  return out;
}

TraceReader::TraceReader(std::istream& in, std::string name) : in_(in), name_(std::move(name)) {}

Status TraceReader::Error(const std::string& message) const {
  return InvalidArgument(name_ + ":" + std::to_string(line_) + ": " + message);
}

Status TraceReader::ReadHeader() {
  while (std::getline(in_, buf_)) {
    ++line_;
    std::string_view l = Trim(buf_);
    if (l.empty() || l.front() == '#') continue;
    Split(l, ',', &fields_);
    column_of_.assign(fields_.size(), -1);
    std::vector<bool> have(kColumnCount, false);
    for (size_t i = 0; i < fields_.size(); ++i) {
      std::string_view f = Trim(fields_[i]);
      for (int c = 0; c < kColumnCount; ++c) {
        if (f == kColumnNames[c]) {
          if (have[c]) return Error("column \"" + std::string(f) + "\" appears twice");
          have[c] = true;
          column_of_[i] = c;
        }
      }
    }
    std::string missing;
    for (int c = 0; c < kRequired; ++c) {
      if (!have[c]) missing += std::string(missing.empty() ? "" : ", ") + kColumnNames[c];
    }
    if (!missing.empty()) {
      return Error("the header lacks required column(s) " + missing +
                   " (required: id,submit_s,duration_s,gpus,entity,gpu_types)");
    }
    field_count_ = static_cast<int>(fields_.size());
    header_read_ = true;
    return Status::Ok();
  }
  if (in_.bad()) return InvalidArgument(name_ + ": read error");
  return InvalidArgument(name_ + ": empty trace (no header line)");
}

Result<bool> TraceReader::Next(TraceJob* job) {
  if (!header_read_) {
    Status s = ReadHeader();
    if (!s.ok()) return s;
  }
  while (std::getline(in_, buf_)) {
    ++line_;
    if (buf_.size() > kMaxLineBytes) return Error("line longer than 64 KiB");
    std::string_view l = Trim(buf_);
    if (l.empty() || l.front() == '#') continue;
    if (l.find('"') != std::string_view::npos) {
      return Error("quoted fields are not supported (names and classes contain no commas)");
    }
    Split(l, ',', &fields_);
    if (static_cast<int>(fields_.size()) != field_count_) {
      return Error("expected " + std::to_string(field_count_) + " fields as in the header, got " +
                   std::to_string(fields_.size()));
    }
    *job = TraceJob{};
    job->line = line_;
    for (size_t i = 0; i < fields_.size(); ++i) {
      const int c = column_of_[i];
      if (c < 0) continue;
      std::string_view f = Trim(fields_[i]);
      const std::string col = kColumnNames[c];
      int64_t v = 0;
      switch (c) {
        case kId:
          if (f.empty()) return Error("empty id");
          job->id = std::string(f);
          break;
        case kSubmit:
        case kDuration:
        case kWalltime:
          if (c == kWalltime && f.empty()) break;
          if (!ParseInt(f, &v) || v < 0 || v > kMaxSeconds) {
            return Error(col + " must be a whole number of seconds >= 0, got \"" + std::string(f) +
                         "\"");
          }
          (c == kSubmit ? job->submit_s : c == kDuration ? job->duration_s : job->walltime_s) = v;
          break;
        case kGpus:
          if (!ParseInt(f, &v) || v < 1 || v > kMaxGpus) {
            return Error("gpus must be a whole number >= 1, got \"" + std::string(f) + "\"");
          }
          job->gpus = static_cast<int>(v);
          break;
        case kEntity:
          if (f.empty()) return Error("empty entity");
          job->entity = std::string(f);
          break;
        case kGpuTypes: {
          auto types = ParseGpuTypes(f);
          if (!types.ok()) return Error(types.status().message());
          job->gpu_types = std::move(types).value();
          break;
        }
        case kKind:
          if (f.empty()) break;
          if (f != "batch" && f != "notebook" && f != "service") {
            return Error("kind must be batch, notebook or service, got \"" + std::string(f) + "\"");
          }
          job->kind = std::string(f);
          break;
        case kPriority:
          if (f.empty()) break;
          if (!ParseInt(f, &v) || v < -1000000 || v > 1000000) {
            return Error("priority must be a whole number, got \"" + std::string(f) + "\"");
          }
          job->priority = static_cast<int>(v);
          break;
        case kSpeeds: {
          auto speeds = ParseSpeeds(f);
          if (!speeds.ok()) return Error(speeds.status().message());
          job->speeds = std::move(speeds).value();
          break;
        }
      }
    }
    if (rows_ > 0 && job->submit_s < last_submit_s_) {
      return Error("submit_s " + std::to_string(job->submit_s) + " is before the previous row's " +
                   std::to_string(last_submit_s_) +
                   ": rows must be in submit order (e.g. sort -t, -k2,2n after the header)");
    }
    last_submit_s_ = job->submit_s;
    ++rows_;
    return true;
  }
  if (in_.bad()) return Error("read error");
  return false;
}

Result<bool> VectorJobSource::Next(TraceJob* job) {
  if (next_ >= jobs_.size()) return false;
  *job = jobs_[next_++];
  return true;
}

void WriteTraceHeader(std::ostream& out) {
  out << "id,submit_s,duration_s,gpus,entity,gpu_types,walltime_s,kind,priority,speeds\n";
}

void WriteTraceJob(std::ostream& out, const TraceJob& job) {
  out << job.id << ',' << job.submit_s << ',' << job.duration_s << ',' << job.gpus << ','
      << job.entity << ',';
  for (size_t i = 0; i < job.gpu_types.size(); ++i) out << (i ? "|" : "") << job.gpu_types[i];
  out << ',';
  if (job.walltime_s > 0) out << job.walltime_s;
  out << ',' << job.kind << ',' << job.priority << ',';
  for (size_t i = 0; i < job.speeds.size(); ++i) {
    char num[32];
    std::snprintf(num, sizeof num, "%.6g", job.speeds[i].second);
    out << (i ? ";" : "") << job.speeds[i].first << '=' << num;
  }
  out << '\n';
}

}  // namespace gpuaas::sim
