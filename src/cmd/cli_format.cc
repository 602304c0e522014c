#include "cmd/cli_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <boost/json.hpp>

namespace gpuaas::cli {

namespace json = boost::json;

std::string FormatTable(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const Row& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  };
  measure(header);
  for (const Row& r : rows) measure(r);
  std::string out;
  auto emit = [&](const Row& r) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < r.size() ? r[i] : "";
      line += cell;
      if (i + 1 < width.size()) line += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header);
  for (const Row& r : rows) emit(r);
  return out;
}

std::string FormatMoney(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (!v.is_object()) return "-";
  const json::object& o = v.as_object();
  const json::value* amount = o.if_contains("amount");
  if (amount == nullptr || !amount->is_string()) return FormatScalar(v);
  std::string out(amount->as_string());
  if (const json::value* cur = o.if_contains("currency"); cur && cur->is_string()) {
    out += " " + std::string(cur->as_string());
  }
  return out;
}

std::string FormatScalar(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "-";
    case json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_: {
      double d = v.get_double();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
        return std::to_string(static_cast<long long>(d));
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", d);
      return buf;
    }
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::array: {
      const json::array& a = v.get_array();
      if (a.empty()) return "-";
      std::string out;
      for (const json::value& e : a) out += (out.empty() ? "" : ",") + FormatScalar(e);
      return out;
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      if (o.contains("amount") && o.contains("currency")) return FormatMoney(v);
      if (o.empty()) return "-";
      bool all_numbers = std::all_of(o.begin(), o.end(), [](const json::key_value_pair& kv) {
        return kv.value().is_number();
      });
      if (!all_numbers) return json::serialize(v);
      std::string out;
      for (const auto& kv : o) {
        out += (out.empty() ? "" : ",") + std::string(kv.key()) + "=" + FormatScalar(kv.value());
      }
      return out;
    }
  }
  return "";
}

std::string FormatKeyValues(const json::object& o, const std::vector<std::string>& order) {
  std::vector<std::pair<std::string, std::string>> lines;
  for (const std::string& key : order) {
    if (const json::value* v = o.if_contains(key)) lines.emplace_back(key, FormatScalar(*v));
  }
  for (const auto& kv : o) {
    std::string key(kv.key());
    if (std::find(order.begin(), order.end(), key) != order.end()) continue;
    lines.emplace_back(key, FormatScalar(kv.value()));
  }
  size_t width = 0;
  for (const auto& [k, v] : lines) width = std::max(width, k.size());
  std::string out;
  for (const auto& [k, v] : lines) {
    out += k + ":" + std::string(width - k.size() + 1, ' ') + (v.empty() ? "-" : v) + "\n";
  }
  return out;
}

std::string Field(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr ? "-" : FormatScalar(*v);
}

std::string GpuLabel(const json::object& job) {
  std::string gpus = Field(job, "gpus");
  std::string type;
  if (const json::value* given = job.if_contains("gpu_type");
      given && given->is_string() && !given->get_string().empty()) {
    type = std::string(given->get_string());
  } else if (const json::value* asked = job.if_contains("gpu_types");
             asked && asked->is_array() && !asked->get_array().empty()) {
    for (const json::value& t : asked->get_array()) {
      type += (type.empty() ? "" : "|") + FormatScalar(t);
    }
  } else {
    type = "any";
  }
  return gpus + " x " + type;
}

std::string FormatHours(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", seconds / 3600.0);
  return buf;
}

}  // namespace gpuaas::cli
