#include "cmd/cli_api.h"

#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "net/http_client.h"

namespace gpuaas::cli {

namespace json = boost::json;

namespace {

constexpr int kRequestTimeoutMs = 30'000;
constexpr size_t kMaxShownBody = 200;  // of a non-JSON error body

std::string TrimTrailingSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Code CodeOfHttpStatus(int status) {
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kTooLarge;
    case 422:
      return Code::kFailedPrecondition;
    case 429:
      return Code::kResourceExhausted;
    case 503:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

ApiClient::ApiClient(std::string base_url, std::string token, const std::string& ca_file)
    : base_url_(TrimTrailingSlashes(std::move(base_url))),
      token_(std::move(token)),
      http_(std::make_unique<net::HttpClient>(base_url_)) {
  if (!ca_file.empty()) http_->set_ca_file(ca_file);
}

ApiClient::~ApiClient() = default;

Result<ApiClient::Answer> ApiClient::Send(const std::string& method, const std::string& target,
                                          const std::string& body) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  Result<net::HttpResponse> r = http_->Request(method, target, body, headers, kRequestTimeoutMs);
  if (!r.ok()) {
    // HttpClient's messages name the URL ("cannot reach http://...: connection refused").
    std::string text = r.status().message();
    if (text.find(base_url_) == std::string::npos) text = "cannot reach " + base_url_ + ": " + text;
    if (text.rfind("cannot reach ", 0) == 0 && text.find("TLS handshake") == std::string::npos) {
      text += " (is the server running? set --url or GPUAAS_URL)";
    }
    return Status(r.status().code(), text);
  }
  return Answer{r->status, std::move(r->body)};
}

Status ApiClient::ErrorOf(const Answer& answer) const {
  Code code = CodeOfHttpStatus(answer.status);
  std::string text;
  boost::system::error_code ec;
  json::value v = json::parse(answer.body, ec);
  const json::object* err = nullptr;
  if (!ec && v.is_object()) {
    if (const json::value* e = v.as_object().if_contains("error"); e && e->is_object()) {
      err = &e->as_object();
    }
  }
  if (err != nullptr) {
    const json::value* c = err->if_contains("code");
    const json::value* m = err->if_contains("message");
    text = (c && c->is_string() ? std::string(c->as_string()) : std::string(CodeName(code))) +
           ": " + (m && m->is_string() ? std::string(m->as_string()) : std::string("(no message)"));
  } else {
    std::string shown = answer.body.substr(0, kMaxShownBody);
    while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r')) shown.pop_back();
    text = "HTTP " + std::to_string(answer.status) + (shown.empty() ? "" : ": " + shown);
  }
  if (answer.status == 401 && token_.empty()) text += " (no token: set --token or GPUAAS_TOKEN)";
  return Status(code, text);
}

Result<ApiClient::Reply> ApiClient::Call(const std::string& method, const std::string& target,
                                         const json::value& body) {
  std::string payload = body.is_null() ? std::string() : json::serialize(body);
  Result<Answer> a = Send(method, target, payload);
  if (!a.ok()) return a.status();
  if (a->status < 200 || a->status >= 300) return ErrorOf(*a);
  if (a->body.empty()) return Reply{json::value(nullptr), "null"};
  boost::system::error_code ec;
  json::value v = json::parse(a->body, ec);
  if (ec) {
    return Internal("the server at " + base_url_ + " answered " + method + " " + target +
                    " with invalid JSON: " + ec.message());
  }
  return Reply{std::move(v), std::move(a->body)};
}

Result<std::string> ApiClient::CallText(const std::string& method, const std::string& target) {
  Result<Answer> a = Send(method, target, "");
  if (!a.ok()) return a.status();
  if (a->status < 200 || a->status >= 300) return ErrorOf(*a);
  return std::move(a->body);
}

}  // namespace gpuaas::cli
