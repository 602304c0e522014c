// HttpClient: a small blocking HTTP/1.1 client with keep-alive, for the CLI, the agent and the
// tests. One connection, reconnects when the server closed it. Timeouts on connect and on each
// request. Thread-safety: one client per thread (not shared).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/http_types.h"

namespace gpuaas::net {

class HttpClient {
 public:
  // base_url: "http://HOST:PORT" (https is not supported yet: an error at first request).
  explicit HttpClient(std::string base_url);
  ~HttpClient();

  // method "GET"/"POST"/...; target "/api/v1/jobs?x=1"; headers extra (e.g. Authorization).
  // A transport failure (refused, timeout) is an error Status (kUnavailable); any HTTP status
  // is a successful Result carrying that status.
  Result<HttpResponse> Request(const std::string& method, const std::string& target,
                               const std::string& body = "",
                               const std::vector<std::pair<std::string, std::string>>& headers = {},
                               int timeout_ms = 30'000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpuaas::net
