// ApiClient: the client CLI's view of the REST API (docs/api.md) over net::HttpClient. Adds the
// Bearer token, sends and parses JSON, and turns every failure into a Status whose message is
// ready for the user:
//   an error answer   -> "not_found: job 42 does not exist"
//   a transport error -> "cannot reach http://...: connection refused (is the server running?
//                         set --url or GPUAAS_URL)"
// Thread-safety: one ApiClient per thread (it owns one HttpClient connection).
#pragma once

#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "base/status.h"

namespace gpuaas::net {
class HttpClient;
}

namespace gpuaas::cli {

class ApiClient {
 public:
  // base_url "http://HOST:PORT" (a trailing '/' is dropped); token may be empty.
  // ca_file: https only, the CA(s) to trust instead of the system's ("" = the system's).
  ApiClient(std::string base_url, std::string token, const std::string& ca_file = "");
  ~ApiClient();

  // A 2xx JSON answer: parsed, and the body as the server sent it (for --json pass-through).
  struct Reply {
    boost::json::value json;
    std::string raw;
  };

  // A JSON call: `body` is sent when not null. A 2xx answer's JSON (null for an empty body).
  Result<Reply> Call(const std::string& method, const std::string& target,
                     const boost::json::value& body = nullptr);
  // A call whose 2xx answer is text (logs, CSV): the body as is.
  Result<std::string> CallText(const std::string& method, const std::string& target);

  const std::string& base_url() const { return base_url_; }

 private:
  struct Answer {
    int status = 0;
    std::string body;
  };
  Result<Answer> Send(const std::string& method, const std::string& target,
                      const std::string& body);
  // The readable Status of a non-2xx answer.
  Status ErrorOf(const Answer& answer) const;

  std::string base_url_;
  std::string token_;
  std::unique_ptr<net::HttpClient> http_;
};

// The Code matching an HTTP status (404 -> kNotFound, ...); kInternal for unknown ones.
Code CodeOfHttpStatus(int status);

}  // namespace gpuaas::cli
