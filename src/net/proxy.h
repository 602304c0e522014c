// HttpForwarder: forwards requests to local upstream HTTP servers (the Jupyter notebooks behind
// /notebooks/{id}/) from a small pool of worker threads, so that the server's event loop never
// blocks on an upstream. Each forward opens its own connection (HttpClient); the whole answer
// is buffered (up to the client's limits) and handed to `done`.
// WebSocket upgrades do not come here: the route answers them with an HttpTunnel and the
// HttpServer relays the connection itself. Not yet: streaming of large answers (docs/notebooks.md).
// Thread-safety: Forward may be called from any thread; `done` runs on a worker thread. The
// destructor waits for the workers (forwards still queued are answered 503).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "net/http_types.h"

namespace gpuaas::net {

struct ForwardRequest {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string method;
  std::string target;  // path and query as the upstream should see them
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // end-to-end headers only
  int timeout_ms = 60'000;
};

class HttpForwarder {
 public:
  explicit HttpForwarder(int workers = 4);
  ~HttpForwarder();
  HttpForwarder(const HttpForwarder&) = delete;
  HttpForwarder& operator=(const HttpForwarder&) = delete;

  // The upstream's answer (any HTTP status), or kUnavailable when it cannot be reached.
  void Forward(ForwardRequest req, std::function<void(Result<HttpResponse>)> done);

  // Hop-by-hop headers (Connection, Keep-Alive, Transfer-Encoding, Upgrade, ...) that a proxy
  // must not pass on, by lower-case name.
  static bool IsHopByHop(const std::string& lower_name);

 private:
  void Work();
  struct Item {
    ForwardRequest req;
    std::function<void(Result<HttpResponse>)> done;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace gpuaas::net
