// JSON plumbing of the REST API: parse a request body, read typed fields with clear errors,
// write the contract's error shape, money and time. Thread-safety: pure functions.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/money.h"
#include "base/status.h"
#include "base/time.h"
#include "net/http_types.h"

namespace gpuaas::api {

namespace json = boost::json;

// The body as a JSON object: 400 for malformed JSON or a non-object, with the parser's words.
Result<json::object> ParseObject(const std::string& body);

// Typed field readers: absent -> nullopt; present with the wrong type -> 400 naming the field.
Result<std::optional<std::string>> GetString(const json::object& o, const char* key);
Result<std::optional<int64_t>> GetInt(const json::object& o, const char* key);
Result<std::optional<std::vector<std::string>>> GetStringArray(const json::object& o,
                                                               const char* key);
Result<std::optional<std::map<std::string, int>>> GetIntMap(const json::object& o, const char* key);

net::HttpResponse JsonResponse(int status, const json::value& v);
// The contract's error shape for `s` (its HTTP status and code name); 429 and 503 answers also
// carry Retry-After.
net::HttpResponse ErrorOf(const Status& s);
json::value TimeOrNull(Millis t);  // 0 -> null
json::object Money(MicroEur m);    // {"amount": "12.34", "currency": "EUR", "micros": N}

}  // namespace gpuaas::api
