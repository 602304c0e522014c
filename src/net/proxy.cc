#include "net/proxy.h"

#include "net/http_client.h"

namespace gpuaas::net {

HttpForwarder::HttpForwarder(int workers) {
  for (int i = 0; i < std::max(1, workers); ++i) workers_.emplace_back([this] { Work(); });
}

HttpForwarder::~HttpForwarder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  for (auto& item : queue_) item.done(Unavailable("the server is stopping"));
}

void HttpForwarder::Forward(ForwardRequest req, std::function<void(Result<HttpResponse>)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back({std::move(req), std::move(done)});
      done = nullptr;
    }
  }
  if (done) return done(Unavailable("the server is stopping"));
  cv_.notify_one();
}

bool HttpForwarder::IsHopByHop(const std::string& n) {
  for (const char* h :
       {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
        "upgrade", "proxy-authorization", "proxy-authenticate", "content-length", "host"}) {
    if (n == h) return true;
  }
  return false;
}

void HttpForwarder::Work() {
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    HttpClient client("http://" + item.req.host + ":" + std::to_string(item.req.port));
    client.set_connect_timeout_ms(2'000);
    auto r = client.Request(item.req.method, item.req.target, item.req.body, item.req.headers,
                            item.req.timeout_ms);
    if (!r.ok()) {
      item.done(r.status());
      continue;
    }
    HttpResponse res = std::move(r.value());
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto& [name, value] : res.headers) {
      if (name == "content-type") {
        res.content_type = value;
      } else if (!IsHopByHop(name)) {
        kept.emplace_back(std::move(name), std::move(value));
      }
    }
    res.headers = std::move(kept);
    item.done(std::move(res));
  }
}

}  // namespace gpuaas::net
