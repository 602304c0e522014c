// HttpClient against scripted raw servers: reconnection after the server closed an idle
// connection, and the error messages of transport failures and bad base URLs (HTTPS:
// https_test.cc).
#include "net/http_client.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <thread>

namespace gpuaas::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers one request per connection with `bodies[i]` (keep-alive advertised), then closes the
// connection and signals `closed[i]` before accepting the next one.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> bodies)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        bodies_(std::move(bodies)),
        closed_(bodies_.size()) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() { thread_.join(); }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::future<void> closed(size_t i) { return closed_[i].get_future(); }

 private:
  void Serve() {
    for (size_t i = 0; i < bodies_.size(); ++i) {
      tcp::socket socket(ioc_);
      acceptor_.accept(socket);
      std::string in;
      asio::read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n");
      std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                        std::to_string(bodies_[i].size()) + "\r\n\r\n" + bodies_[i];
      asio::write(socket, asio::buffer(out));
      socket.close();
      closed_[i].set_value();
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::string> bodies_;
  std::vector<std::promise<void>> closed_;
  std::thread thread_;
};

TEST(HttpClientTest, ReconnectsWhenTheServerClosedTheIdleConnection) {
  ScriptedServer server({"first", "second", "third"});
  HttpClient client("http://127.0.0.1:" + std::to_string(server.port()));
  auto a = client.Request("GET", "/");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->body, "first");
  EXPECT_EQ(a->content_type, "text/plain");
  server.closed(0).wait();
  // Not idempotent, but the closed connection is detected before anything is sent.
  auto b = client.Request("POST", "/", "{}");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->body, "second");
  server.closed(1).wait();
  auto c = client.Request("GET", "/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->body, "third");
}

TEST(HttpClientTest, NothingListeningIsUnavailableWithReadableMessage) {
  int port;
  {
    asio::io_context ioc;
    tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed again: nothing listens there now
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  HttpClient client(url);
  auto res = client.Request("GET", "/api/v1/jobs");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Code::kUnavailable);
  EXPECT_EQ(res.status().message(), "cannot reach " + url + ": connection refused");
}

TEST(HttpClientTest, RejectsMalformedBaseUrls) {
  for (const char* bad : {"127.0.0.1:8080", "http://", "http://host:notaport", "http://h:0",
                          "ftp://h:1", "https://", "https://h:99999"}) {
    HttpClient client(bad);
    auto r = client.Request("GET", "/");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace gpuaas::net
