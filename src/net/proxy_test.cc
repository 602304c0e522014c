// HttpForwarder against a real HttpServer upstream: method, target, body and end-to-end headers
// reach it; its status, content type and headers come back without hop-by-hop headers; an
// upstream nobody listens on is kUnavailable.
#include "net/proxy.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "net/event_loop.h"
#include "net/http_server.h"

namespace gpuaas::net {
namespace {

class Upstream {
 public:
  Upstream()
      : server_(loop_, HttpServerOptions{"127.0.0.1:0"}, [](HttpRequest&& req, Respond respond) {
          HttpResponse res;
          res.status = req.method == "POST" ? 201 : 200;
          res.content_type = "text/x-echo";
          res.body = req.method + " " + req.target + " " + req.body +
                     " auth=" + req.Header("authorization") + " x=" + req.Header("x-test");
          res.headers.emplace_back("Set-Cookie", "a=b; Path=/nb/");
          respond(std::move(res));
        }) {
    EXPECT_TRUE(server_.Start().ok());
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~Upstream() {
    loop_.Stop();
    thread_.join();
  }
  int port() const { return server_.port(); }

 private:
  EventLoop loop_;
  HttpServer server_;
  std::thread thread_;
};

Result<HttpResponse> ForwardAndWait(HttpForwarder& f, ForwardRequest req) {
  std::promise<Result<HttpResponse>> p;
  auto fut = p.get_future();
  f.Forward(std::move(req), [&p](Result<HttpResponse> r) { p.set_value(std::move(r)); });
  return fut.get();
}

TEST(HttpForwarderTest, ForwardsRequestAndAnswer) {
  Upstream up;
  HttpForwarder f(2);
  ForwardRequest req;
  req.port = up.port();
  req.method = "POST";
  req.target = "/nb/api/kernels?x=1";
  req.body = "{\"name\":\"python3\"}";
  req.headers = {{"Authorization", "token abc"}, {"X-Test", "yes"}};
  auto r = ForwardAndWait(f, req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->content_type, "text/x-echo");
  EXPECT_EQ(r->body, "POST /nb/api/kernels?x=1 {\"name\":\"python3\"} auth=token abc x=yes");
  bool cookie = false;
  for (const auto& [name, value] : r->headers) {
    EXPECT_FALSE(HttpForwarder::IsHopByHop(name)) << name;
    EXPECT_NE(name, "content-type");
    if (name == "set-cookie") cookie = value == "a=b; Path=/nb/";
  }
  EXPECT_TRUE(cookie);
}

TEST(HttpForwarderTest, UnreachableUpstreamIsUnavailable) {
  int port = 0;
  {
    Upstream gone;  // a port that was free a moment ago
    port = gone.port();
  }
  HttpForwarder f(1);
  ForwardRequest req;
  req.port = port;
  req.method = "GET";
  req.target = "/";
  req.timeout_ms = 5'000;
  auto r = ForwardAndWait(f, req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
}

TEST(HttpForwarderTest, HopByHopHeaders) {
  EXPECT_TRUE(HttpForwarder::IsHopByHop("connection"));
  EXPECT_TRUE(HttpForwarder::IsHopByHop("transfer-encoding"));
  EXPECT_TRUE(HttpForwarder::IsHopByHop("upgrade"));
  EXPECT_FALSE(HttpForwarder::IsHopByHop("set-cookie"));
  EXPECT_FALSE(HttpForwarder::IsHopByHop("authorization"));
}

}  // namespace
}  // namespace gpuaas::net
