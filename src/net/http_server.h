// HttpServer: HTTP/1.1 keep-alive server on Boost.Beast coroutines, running on an EventLoop.
// Every request goes to one Handler (usually a Router). Limits: header size, body size, idle
// timeout, concurrent connections; a request over a limit gets the contract's error JSON
// (413 too_large for a big body, 431/400 for headers) without reaching the handler.
// A handler may answer an Upgrade request with TunnelResponse (net/http_types.h): the server
// then relays the connection to a local upstream, asynchronously on the loop.
// With HttpServerOptions::tls_cert_file the server speaks HTTPS only (a plain-HTTP request gets
// a plain 400 "use https://" and the connection is closed).
// Thread-safety: create, Start and Stop on any thread before/after the loop runs; the handler
// is invoked on the loop thread. Destroy the server on the loop thread or while the loop is not
// running (destruction closes every connection at once). A Respond may be called from any thread
// as long as the EventLoop object is alive; after the client went away it is a no-op.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "net/event_loop.h"
#include "net/http_types.h"

namespace gpuaas::net {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
  size_t max_body_bytes = 1 << 20;        // 1 MiB
  size_t max_header_bytes = 16 << 10;     // 16 KiB
  int idle_timeout_ms = 60'000;
  int max_connections = 10'000;
  // Tunnels (HttpTunnel, e.g. WebSocket to a notebook): at most this many at once, each closed
  // after this long without a byte in either direction (or 5 s to connect upstream).
  int max_tunnels = 1'000;
  int tunnel_idle_timeout_ms = 600'000;
  // How often an open tunnel asks HttpTunnel::still_allowed (when the handler set it).
  int tunnel_recheck_ms = 5'000;
  // TLS: both set = every connection is HTTPS (TLS 1.2 or later): the certificate chain (PEM,
  // the server's certificate first) and its private key (PEM, unencrypted). Start fails with a
  // clear message when either cannot be loaded or they do not match. Both empty = plain HTTP.
  std::string tls_cert_file{};
  std::string tls_key_file{};
};

class HttpServer {
 public:
  HttpServer(EventLoop& loop, HttpServerOptions options, Handler handler);
  ~HttpServer();
  // Binds and listens; returns an error (e.g. port in use) without throwing.
  Status Start();
  // The bound port (useful with port 0).
  int port() const;
  // Stops accepting; in-flight requests finish (their response carries `Connection: close`);
  // idle keep-alive connections are closed. on_drained, if given, runs on the loop thread once
  // every connection is closed (e.g. to call loop.Stop() for a graceful shutdown). Runs on the
  // loop (posted when called from another thread).
  void Stop(std::function<void()> on_drained = nullptr);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace gpuaas::net
