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
  // base_url: "http://HOST:PORT[/prefix]" or "https://..." with an optional trailing slash (a
  // bad one: InvalidArgument at the first request). https verifies the server's certificate
  // chain against the system's CAs (OpenSSL's default paths, which honour SSL_CERT_FILE) and its
  // name against the URL's host (a DNS name or an IP address in its subjectAltName).
  explicit HttpClient(std::string base_url);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Bound on establishing a connection (default 5 s; never longer than the request's timeout).
  void set_connect_timeout_ms(int ms);
  // https: trust the CAs of this PEM file instead of the system's (checked at the first request).
  void set_ca_file(std::string path);
  // https: trust exactly the certificate of this PEM file (its first), whoever signed it and
  // whatever names it holds: a server that shows it proves it holds its key. For a process that
  // talks to its own server (the embedded agents). Wins over set_ca_file.
  void set_pinned_cert_file(std::string path);

  // method "GET"/"POST"/...; target "/api/v1/jobs?x=1"; headers extra (e.g. Authorization).
  // A transport failure (refused, timeout) is an error Status (kUnavailable), e.g.
  // "cannot reach http://127.0.0.1:8080: connection refused"; any HTTP status is a successful
  // Result carrying that status. Response header names are lower-cased. A kept-alive connection
  // the server has closed is replaced transparently (at most one retry, and only when the
  // request cannot have been processed).
  Result<HttpResponse> Request(const std::string& method, const std::string& target,
                               const std::string& body = "",
                               const std::vector<std::pair<std::string, std::string>>& headers = {},
                               int timeout_ms = 30'000);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpuaas::net
