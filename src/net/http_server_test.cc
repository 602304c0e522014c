// HttpServer + HttpClient end to end on 127.0.0.1:0: round trips, keep-alive, decoding, limits,
// long polls, late responses, graceful stop, and client errors.
#include "net/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "net/http_client.h"
#include "net/router.h"

namespace gpuaas::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kWait = std::chrono::seconds(10);  // only a bound against hangs, never a goal

// Requests a handler kept for later, handed over to the test thread.
class Mailbox {
 public:
  void Put(HttpRequest req, Respond respond) {
    std::lock_guard lock(mu_);
    items_.emplace_back(std::move(req), std::move(respond));
    cv_.notify_all();
  }
  // Waits (bounded) for the next held request; false on timeout.
  bool Take(HttpRequest& req, Respond& respond) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kWait, [&] { return !items_.empty(); })) return false;
    req = std::move(items_.front().first);
    respond = std::move(items_.front().second);
    items_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<HttpRequest, Respond>> items_;
};

HttpResponse Text(std::string body) {
  HttpResponse res;
  res.content_type = "text/plain";
  res.body = std::move(body);
  return res;
}

std::string HeaderOf(const HttpResponse& res, const std::string& name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) return v;
  }
  return "";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(Handler handler, HttpServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(loop_, options, std::move(handler));
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(server_->port(), 0);
    runner_ = std::thread([this] { loop_.Run(); });
  }
  void TearDown() override {
    if (runner_.joinable()) {
      loop_.Stop();
      runner_.join();
    }
    server_.reset();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  // Sends raw bytes on a fresh connection and returns everything read until the server closes
  // (bounded by kWait so that a broken server fails the test instead of hanging it).
  std::string RawExchange(const std::string& bytes) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    asio::write(socket, asio::buffer(bytes));
    std::string out;
    boost::system::error_code result = asio::error::timed_out;
    asio::async_read(socket, asio::dynamic_buffer(out),
                     [&](boost::system::error_code ec, size_t) { result = ec; });
    ioc.run_for(kWait);
    EXPECT_EQ(result, asio::error::eof);
    return out;
  }

  EventLoop loop_;
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
};

TEST_F(HttpServerTest, RoundTripCarriesRequestAndResponse) {
  StartServer([](HttpRequest&& req, Respond respond) {
    HttpResponse res = Text(req.method + "|" + req.path + "|" + req.query["x"] + "|" +
                            req.Header("x-custom") + "|" + req.body);
    res.headers.emplace_back("X-Remote", req.remote);
    respond(std::move(res));
  });
  HttpClient client(Url() + "/");
  auto res = client.Request("POST", "/echo/a?x=1", "hi", {{"X-Custom", "v"}});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "POST|/echo/a|1|v|hi");
  EXPECT_EQ(res->content_type, "text/plain");
  EXPECT_EQ(HeaderOf(*res, "server"), "gpuaas");
  EXPECT_EQ(HeaderOf(*res, "content-length"), "19");
  EXPECT_EQ(HeaderOf(*res, "x-remote").rfind("127.0.0.1:", 0), 0u);
}

TEST_F(HttpServerTest, KeepAliveReusesTheConnection) {
  StartServer([](HttpRequest&& req, Respond respond) { respond(Text(req.remote)); });
  HttpClient client(Url());
  auto first = client.Request("GET", "/a");
  auto second = client.Request("GET", "/b");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->body.empty());
  EXPECT_EQ(first->body, second->body);  // same client port: same connection
}

TEST_F(HttpServerTest, DecodesPathAndQuery) {
  StartServer([](HttpRequest&& req, Respond respond) {
    respond(Text(req.path + "|" + req.query["name"] + "|" + req.query["q"] + "|" + req.query["x"] +
                 "|" + std::to_string(req.query.size())));
  });
  HttpClient client(Url());
  auto res = client.Request("GET", "/a%20b/c?name=jane%2Ddoe&q=a+b&x=1&x=2");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->body, "/a b/c|jane-doe|a b|2|3");
}

TEST_F(HttpServerTest, RouterCapturesAnd404And405) {
  Router router;
  router.Add("GET", "/api/v1/jobs/{id}/logs", [](HttpRequest&& req, Respond respond) {
    respond(Text("logs of " + req.params["id"]));
  });
  StartServer(router.AsHandler());
  HttpClient client(Url());
  auto ok = client.Request("GET", "/api/v1/jobs/42/logs");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->body, "logs of 42");
  auto head = client.Request("HEAD", "/api/v1/jobs/42/logs");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(HeaderOf(*head, "content-length"), "10");
  auto missing = client.Request("GET", "/api/v1/nothing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find(R"("code":"not_found")"), std::string::npos);
  auto wrong = client.Request("POST", "/api/v1/jobs/42/logs", "{}");
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_NE(wrong->body.find(R"("code":"method_not_allowed")"), std::string::npos);
  EXPECT_EQ(HeaderOf(*wrong, "allow"), "GET");
}

TEST_F(HttpServerTest, BodyOverTheLimitGets413AndClose) {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(
      [&](HttpRequest&& req, Respond respond) {
        ++calls;
        respond(Text(std::to_string(req.body.size())));
      },
      options);
  HttpClient client(Url());
  auto big = client.Request("POST", "/upload", std::string(256 << 10, 'x'));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->content_type, "application/json");
  EXPECT_EQ(big->body.rfind(R"({"error":{"code":"too_large","message":")", 0), 0u) << big->body;
  EXPECT_EQ(HeaderOf(*big, "connection"), "close");
  EXPECT_EQ(calls.load(), 0);
  // A body at the limit still goes through (on a new connection).
  auto fits = client.Request("POST", "/upload", std::string(1024, 'x'));
  ASSERT_TRUE(fits.ok()) << fits.status().ToString();
  EXPECT_EQ(fits->body, "1024");
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpServerTest, HeaderOverTheLimitIsRejected) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  StartServer([](HttpRequest&&, Respond respond) { respond(Text("no")); }, options);
  HttpClient client(Url());
  auto res = client.Request("GET", "/", "", {{"X-Big", std::string(4096, 'a')}});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 431);
  EXPECT_NE(res->body.find(R"("code":"too_large")"), std::string::npos);
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  StartServer([](HttpRequest&&, Respond respond) { respond(Text("no")); });
  std::string out = RawExchange("GET / HTTQ/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << out;
  EXPECT_NE(out.find(R"("code":"bad_request")"), std::string::npos) << out;
  std::string bad_target = RawExchange("GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(bad_target.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << bad_target;
}

TEST_F(HttpServerTest, Http10GetsAnAnswerAndClose) {
  StartServer([](HttpRequest&&, Respond respond) { respond(Text("old")); });
  std::string out = RawExchange("GET /x HTTP/1.0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("\r\n\r\nold"), std::string::npos) << out;
}

TEST_F(HttpServerTest, LongPollRespondedFromAnotherThread) {
  Mailbox held;
  StartServer([&](HttpRequest&& req, Respond respond) { held.Put(std::move(req), respond); });
  auto pending = std::async(std::launch::async, [&] {
    HttpClient client(Url());
    return client.Request("GET", "/api/v1/agent/poll?wait=10");
  });
  HttpRequest req;
  Respond respond;
  ASSERT_TRUE(held.Take(req, respond));
  EXPECT_EQ(req.query["wait"], "10");
  respond(Text("news"));
  respond(Text("ignored: a second call does nothing"));
  ASSERT_EQ(pending.wait_for(kWait), std::future_status::ready);
  auto res = pending.get();
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "news");
}

TEST_F(HttpServerTest, RespondAfterTheClientLeftIsHarmless) {
  Mailbox held;
  StartServer([&](HttpRequest&& req, Respond respond) {
    if (req.path == "/hold") {
      held.Put(std::move(req), std::move(respond));
    } else {
      respond(Text("fine"));
    }
  });
  {
    HttpClient impatient(Url());
    auto res = impatient.Request("GET", "/hold", "", {}, /*timeout_ms=*/200);
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.status().code(), Code::kUnavailable);
    EXPECT_NE(res.status().message().find("no answer from"), std::string::npos)
        << res.status().message();
  }
  HttpRequest req;
  Respond respond;
  ASSERT_TRUE(held.Take(req, respond));
  respond(Text("too late"));
  HttpClient client(Url());
  auto res = client.Request("GET", "/other");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->body, "fine");
  // The abandoned connection is cleaned up: a graceful stop drains.
  std::promise<void> drained;
  ASSERT_TRUE(client.Request("GET", "/other").ok());  // keeps an idle connection open too
  server_->Stop([&] { drained.set_value(); });
  EXPECT_EQ(drained.get_future().wait_for(kWait), std::future_status::ready);
}

TEST_F(HttpServerTest, StopFinishesInFlightRequestsThenRefuses) {
  Mailbox held;
  StartServer([&](HttpRequest&& req, Respond respond) { held.Put(std::move(req), respond); });
  auto pending = std::async(std::launch::async, [&] {
    HttpClient client(Url());
    return client.Request("POST", "/slow", "{}");
  });
  HttpRequest req;
  Respond respond;
  ASSERT_TRUE(held.Take(req, respond));
  const std::string url = Url();
  std::promise<void> drained;
  server_->Stop([&] { drained.set_value(); });
  auto drained_future = drained.get_future();
  respond(Text("finished"));
  ASSERT_EQ(pending.wait_for(kWait), std::future_status::ready);
  auto res = pending.get();
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "finished");
  EXPECT_EQ(HeaderOf(*res, "connection"), "close");
  EXPECT_EQ(drained_future.wait_for(kWait), std::future_status::ready);
  HttpClient late(url);
  auto refused = late.Request("GET", "/");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
}

TEST_F(HttpServerTest, HandlerThatDropsOrThrowsGets500) {
  StartServer([](HttpRequest&& req, Respond) {
    if (req.path == "/throw") throw std::runtime_error("bug");
    // "/drop": returns without responding and without keeping respond.
  });
  HttpClient client(Url());
  for (const char* path : {"/drop", "/throw"}) {
    auto res = client.Request("GET", path);
    ASSERT_TRUE(res.ok()) << path;
    EXPECT_EQ(res->status, 500) << path;
    EXPECT_NE(res->body.find(R"("code":"internal")"), std::string::npos);
  }
}

TEST_F(HttpServerTest, IdleConnectionsAreClosed) {
  HttpServerOptions options;
  options.idle_timeout_ms = 50;
  StartServer([](HttpRequest&&, Respond respond) { respond(Text("x")); }, options);
  // A connection that never sends anything is closed by the server (read sees EOF).
  EXPECT_EQ(RawExchange(""), "");
  // The client copes with its keep-alive connection closed by the server while idle.
  HttpClient client(Url());
  ASSERT_TRUE(client.Request("GET", "/").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto res = client.Request("GET", "/");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "x");
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAreClosed) {
  HttpServerOptions options;
  options.max_connections = 1;
  StartServer([](HttpRequest&&, Respond respond) { respond(Text("x")); }, options);
  HttpClient first(Url());
  ASSERT_TRUE(first.Request("GET", "/").ok());  // holds the only slot (keep-alive)
  HttpClient second(Url());
  auto res = second.Request("GET", "/");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Code::kUnavailable);
  ASSERT_TRUE(first.Request("GET", "/").ok());
}

}  // namespace
}  // namespace gpuaas::net
