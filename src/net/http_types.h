// Plain HTTP request/response values shared by the server, the router, the client and the API.
// No Boost.Beast here: only net/*.cc include Beast, so most of the code compiles fast.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gpuaas::net {

struct HttpRequest {
  std::string method;                        // "GET", "POST", ...
  std::string target;                        // raw target: "/api/v1/jobs?state=queued"
  std::string path;                          // decoded path without query: "/api/v1/jobs"
  std::map<std::string, std::string> query;  // decoded query parameters (last one wins)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote;  // peer address "127.0.0.1:5555"
  // Filled by the router from the matched pattern: "/api/v1/jobs/{id}" -> {"id": "42"}.
  std::map<std::string, std::string> params;

  // First header with this (lower-case) name, or "".
  const std::string& Header(const std::string& lower_name) const;
};

// The answer to an `Upgrade:` request (WebSocket) that hands the connection over to a local
// upstream: the server connects to host:port, writes `METHOD TARGET HTTP/1.1` with exactly these
// headers (the handler chooses them, including Host, Connection and Upgrade) and any bytes the
// client already sent after its request, then relays raw bytes both ways until either side
// closes or the tunnel is idle (HttpServerOptions::tunnel_idle_timeout_ms). The upstream's own
// answer (101 or an error) reaches the client unchanged. Connect failure: 502; over
// HttpServerOptions::max_tunnels: 503; a tunnel answer to a request without Upgrade: 500.
struct HttpTunnel {
  std::string host = "127.0.0.1";  // numeric address
  int port = 0;
  std::string method = "GET";
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  // Asked on the loop every HttpServerOptions::tunnel_recheck_ms while the tunnel is open
  // (unset: never asked); false closes both sides at once. A tunnel outlives the request that
  // opened it, so this is how it ends when the right to it does (a revoked or expired token, a
  // disabled user, a notebook that stopped).
  std::function<bool()> still_allowed;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::shared_ptr<const HttpTunnel> tunnel;  // set: tunnel the connection (above), ignore the rest
};

// A response that tunnels the connection (see HttpTunnel).
HttpResponse TunnelResponse(HttpTunnel tunnel);

// Completes a request. May be called from any thread, exactly once; the server writes the
// response on the connection's own executor.
using Respond = std::function<void(HttpResponse)>;
// A request handler: may respond at once or keep `respond` and call it later (long polls).
using Handler = std::function<void(HttpRequest&& req, Respond respond)>;

}  // namespace gpuaas::net
