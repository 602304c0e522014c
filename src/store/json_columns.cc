#include "store/json_columns.h"

#include <boost/json.hpp>
#include <limits>
#include <optional>

namespace gpuaas {
namespace json = boost::json;
namespace {

Result<json::value> Parse(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opt;
  opt.allow_invalid_utf8 = true;  // read back byte for byte whatever was stored
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec) return InvalidArgument("bad JSON column: " + ec.message());
  return v;
}

std::optional<int> AsInt(const json::value& v) {
  const int64_t* i = v.if_int64();
  if (i == nullptr || *i < std::numeric_limits<int>::min() ||
      *i > std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  return static_cast<int>(*i);
}

std::optional<std::string> AsString(const json::value& v) {
  const json::string* s = v.if_string();
  if (s == nullptr) return std::nullopt;
  return std::string(s->data(), s->size());
}

Status Shape(std::string_view what) {
  return InvalidArgument("bad JSON column: expected " + std::string(what));
}

std::optional<DeviceState> ParseDeviceState(const std::string& s) {
  for (DeviceState d : {DeviceState::kHealthy, DeviceState::kUnhealthy}) {
    if (s == DeviceStateName(d)) return d;
  }
  return std::nullopt;
}

}  // namespace

std::string EncodeStringList(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(json::string_view(s.data(), s.size()));
  return json::serialize(a);
}

std::string EncodeIntList(const std::vector<int>& v) {
  json::array a;
  for (int i : v) a.emplace_back(i);
  return json::serialize(a);
}

std::string EncodeIntMap(const std::map<std::string, int>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return json::serialize(o);
}

std::string EncodeStringMap(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = json::string_view(v.data(), v.size());
  return json::serialize(o);
}

std::string EncodeGpuDevices(const std::vector<GpuDevice>& v) {
  json::array a;
  for (const GpuDevice& d : v) {
    a.emplace_back(json::object{{"index", d.index},
                                {"uuid", d.uuid},
                                {"model", d.model},
                                {"gpu_class", d.gpu_class},
                                {"memory_mb", d.memory_mb},
                                {"state", DeviceStateName(d.state)}});
  }
  return json::serialize(a);
}

Result<std::vector<std::string>> DecodeStringList(std::string_view text) {
  GPUAAS_ASSIGN_OR_RETURN(json::value v, Parse(text));
  const json::array* a = v.if_array();
  if (a == nullptr) return Shape("an array of strings");
  std::vector<std::string> out;
  for (const json::value& e : *a) {
    auto s = AsString(e);
    if (!s) return Shape("an array of strings");
    out.push_back(std::move(*s));
  }
  return out;
}

Result<std::vector<int>> DecodeIntList(std::string_view text) {
  GPUAAS_ASSIGN_OR_RETURN(json::value v, Parse(text));
  const json::array* a = v.if_array();
  if (a == nullptr) return Shape("an array of integers");
  std::vector<int> out;
  for (const json::value& e : *a) {
    auto i = AsInt(e);
    if (!i) return Shape("an array of integers");
    out.push_back(*i);
  }
  return out;
}

Result<std::map<std::string, int>> DecodeIntMap(std::string_view text) {
  GPUAAS_ASSIGN_OR_RETURN(json::value v, Parse(text));
  const json::object* o = v.if_object();
  if (o == nullptr) return Shape("an object of integers");
  std::map<std::string, int> out;
  for (const auto& kv : *o) {
    auto i = AsInt(kv.value());
    if (!i) return Shape("an object of integers");
    out[std::string(kv.key())] = *i;
  }
  return out;
}

Result<std::map<std::string, std::string>> DecodeStringMap(std::string_view text) {
  GPUAAS_ASSIGN_OR_RETURN(json::value v, Parse(text));
  const json::object* o = v.if_object();
  if (o == nullptr) return Shape("an object of strings");
  std::map<std::string, std::string> out;
  for (const auto& kv : *o) {
    auto s = AsString(kv.value());
    if (!s) return Shape("an object of strings");
    out[std::string(kv.key())] = std::move(*s);
  }
  return out;
}

Result<std::vector<GpuDevice>> DecodeGpuDevices(std::string_view text) {
  GPUAAS_ASSIGN_OR_RETURN(json::value v, Parse(text));
  const json::array* a = v.if_array();
  if (a == nullptr) return Shape("an array of devices");
  std::vector<GpuDevice> out;
  for (const json::value& e : *a) {
    const json::object* o = e.if_object();
    if (o == nullptr) return Shape("a device object");
    auto field = [o](const char* k) -> const json::value* { return o->if_contains(k); };
    const json::value *index = field("index"), *uuid = field("uuid"), *model = field("model"),
                      *cls = field("gpu_class"), *mem = field("memory_mb"), *st = field("state");
    if (!index || !uuid || !model || !cls || !mem || !st) return Shape("all device fields");
    GpuDevice d;
    auto i = AsInt(*index);
    auto u = AsString(*uuid);
    auto m = AsString(*model);
    auto c = AsString(*cls);
    auto s = AsString(*st);
    const int64_t* mb = mem->if_int64();
    std::optional<DeviceState> ds = s ? ParseDeviceState(*s) : std::nullopt;
    if (!i || !u || !m || !c || !mb || !ds) return Shape("well-typed device fields");
    d.index = *i;
    d.uuid = std::move(*u);
    d.model = std::move(*m);
    d.gpu_class = std::move(*c);
    d.memory_mb = *mb;
    d.state = *ds;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace gpuaas
