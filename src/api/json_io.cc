#include "api/json_io.h"

#include "net/router.h"

namespace gpuaas::api {

Result<json::object> ParseObject(const std::string& body) {
  if (body.empty()) return InvalidArgument("the request body is empty (a JSON object is expected)");
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 32;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  if (ec) return InvalidArgument("malformed JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgument("the request body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::optional<std::string>> GetString(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string())
    return InvalidArgument(std::string("'") + key + "' must be a string");
  return std::optional<std::string>(std::string(it->value().as_string()));
}

Result<std::optional<int64_t>> GetInt(const json::object& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  const json::value& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v.as_uint64()));
  }
  if (v.is_double()) {
    double d = v.as_double();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && d > -9e15 && d < 9e15) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return InvalidArgument(std::string("'") + key + "' must be an integer");
}

Result<std::optional<std::vector<std::string>>> GetStringArray(const json::object& o,
                                                               const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::vector<std::string>>();
  if (!it->value().is_array()) {
    return InvalidArgument(std::string("'") + key + "' must be an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& e : it->value().as_array()) {
    if (!e.is_string())
      return InvalidArgument(std::string("'") + key + "' must be an array of strings");
    out.emplace_back(e.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::map<std::string, int>>> GetIntMap(const json::object& o,
                                                            const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::map<std::string, int>>();
  if (!it->value().is_object()) {
    return InvalidArgument(std::string("'") + key + "' must be an object of integers");
  }
  std::map<std::string, int> out;
  for (const auto& kv : it->value().as_object()) {
    if (!kv.value().is_int64() || kv.value().as_int64() < INT32_MIN ||
        kv.value().as_int64() > INT32_MAX) {
      return InvalidArgument(std::string("'") + key + "." + std::string(kv.key()) +
                             "' must be an integer");
    }
    out[std::string(kv.key())] = static_cast<int>(kv.value().as_int64());
  }
  return std::optional<std::map<std::string, int>>(std::move(out));
}

net::HttpResponse JsonResponse(int status, const json::value& v) {
  net::HttpResponse r;
  r.status = status;
  r.body = json::serialize(v);
  return r;
}

net::HttpResponse ErrorOf(const Status& s) {
  net::HttpResponse r = net::ErrorResponse(HttpStatusOf(s.code()), CodeName(s.code()), s.message());
  // When to try again (RFC 9110, 10.2.3), in seconds: a busy server (429) in a few seconds, a
  // starting one or an unreachable dependency (503) in one.
  if (s.code() == Code::kResourceExhausted) r.headers.emplace_back("Retry-After", "5");
  if (s.code() == Code::kUnavailable) r.headers.emplace_back("Retry-After", "1");
  return r;
}

json::value TimeOrNull(Millis t) {
  if (t == 0) return nullptr;
  return json::string(FormatRfc3339(t));
}

json::object Money(MicroEur m) {
  return {{"amount", FormatEurCents(m)}, {"currency", "EUR"}, {"micros", m}};
}

}  // namespace gpuaas::api
