// Plain HTTP request/response values shared by the server, the router, the client and the API.
// No Boost.Beast here: only net/*.cc include Beast, so most of the code compiles fast.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gpuaas::net {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw target: "/api/v1/jobs?state=queued"
  std::string path;    // decoded path without query: "/api/v1/jobs"
  std::map<std::string, std::string> query;  // decoded query parameters (last one wins)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote;  // peer address "127.0.0.1:5555"
  // Filled by the router from the matched pattern: "/api/v1/jobs/{id}" -> {"id": "42"}.
  std::map<std::string, std::string> params;

  // First header with this (lower-case) name, or "".
  const std::string& Header(const std::string& lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Completes a request. May be called from any thread, exactly once; the server writes the
// response on the connection's own executor.
using Respond = std::function<void(HttpResponse)>;
// A request handler: may respond at once or keep `respond` and call it later (long polls).
using Handler = std::function<void(HttpRequest&& req, Respond respond)>;

}  // namespace gpuaas::net
