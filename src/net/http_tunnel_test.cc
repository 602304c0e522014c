// HttpServer tunnels (HttpTunnel, the WebSocket hook) against a real upstream on 127.0.0.1: the
// handler-chosen request head and the client's early bytes reach the upstream, bytes flow both
// ways, either side closing ends the tunnel, and the limits (502 upstream down, 503 too many
// tunnels, idle timeout, 500 for a tunnel without Upgrade, Stop closes tunnels).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "net/http_server.h"

namespace gpuaas::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kWait = std::chrono::seconds(10);  // only a bound against hangs, never a goal

// An upstream that answers one upgrade request with 101, then echoes every chunk it reads as
// "echo:<bytes>" until the peer closes (or after "bye"). Records the request head it saw and
// whether it saw EOF.
class EchoUpstream {
 public:
  EchoUpstream() : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~EchoUpstream() {
    {  // wakes a blocking accept that never got a connection (closing does not)
      asio::io_context ioc;
      tcp::socket poke(ioc);
      boost::system::error_code ignored;
      poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ignored);
    }
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  // Waits (bounded) for the connection to end; the head it read and whether it got EOF.
  bool Finished() { return done_.get_future().wait_for(kWait) == std::future_status::ready; }
  std::string head() {
    std::lock_guard lock(mu_);
    return head_;
  }
  bool saw_eof() const { return saw_eof_; }

 private:
  void Serve() {
    boost::system::error_code ec;
    tcp::socket s(ioc_);
    acceptor_.accept(s, ec);
    if (ec) return done_.set_value();
    std::string buf;
    size_t n = asio::read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", ec);
    if (ec) return done_.set_value();
    {
      std::lock_guard lock(mu_);
      head_ = buf.substr(0, n);
    }
    std::string early = buf.substr(n);
    asio::write(s,
                asio::buffer(std::string("HTTP/1.1 101 Switching Protocols\r\n"
                                         "Upgrade: test\r\nConnection: Upgrade\r\n\r\n")),
                ec);
    if (!early.empty()) asio::write(s, asio::buffer("echo:" + early), ec);
    char chunk[4096];
    for (;;) {
      size_t m = s.read_some(asio::buffer(chunk), ec);
      if (ec) {
        saw_eof_ = ec == asio::error::eof || ec == asio::error::connection_reset;
        break;
      }
      asio::write(s, asio::buffer("echo:" + std::string(chunk, m)), ec);
      if (ec || std::string(chunk, m) == "bye") break;
    }
    done_.set_value();
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::string head_;
  std::atomic<bool> saw_eof_{false};
  std::promise<void> done_;
};

// A blocking client socket with bounded reads.
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void Send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // Reads until `want` appears in what was received (or EOF / kWait); returns all of it.
  std::string ReadUntil(const std::string& want) {
    boost::system::error_code result = asio::error::timed_out;
    ioc_.restart();
    asio::async_read_until(socket_, asio::dynamic_buffer(in_), want,
                           [&](boost::system::error_code ec, size_t) { result = ec; });
    ioc_.run_for(kWait);
    last_ = result;
    std::string out = std::move(in_);
    in_.clear();
    return out;
  }
  // Reads until the server closes (bounded); everything read.
  std::string ReadToEnd() {
    boost::system::error_code result = asio::error::timed_out;
    ioc_.restart();
    asio::async_read(socket_, asio::dynamic_buffer(in_),
                     [&](boost::system::error_code ec, size_t) { result = ec; });
    ioc_.run_for(kWait);
    last_ = result;
    std::string out = std::move(in_);
    in_.clear();
    return out;
  }
  boost::system::error_code last() const { return last_; }
  void Close() { socket_.close(); }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  std::string in_;
  boost::system::error_code last_;
};

constexpr const char* kUpgrade =
    "GET /ws/chan?x=1 HTTP/1.1\r\nHost: portal\r\nUpgrade: test\r\nConnection: Upgrade\r\n"
    "Authorization: Bearer secret\r\n\r\n";

class HttpTunnelTest : public ::testing::Test {
 protected:
  // The handler tunnels every Upgrade request to `upstream_port` (with its own headers) and
  // answers anything else with a tunnel too (to check the 500).
  void StartServer(int upstream_port, HttpServerOptions options = {},
                   std::function<bool()> still_allowed = nullptr) {
    options.listen = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(
        loop_, options, [upstream_port, still_allowed](HttpRequest&& req, Respond respond) {
          HttpTunnel t;
          t.still_allowed = still_allowed;
          t.port = upstream_port;
          t.target = req.target;
          t.headers = {{"Host", "127.0.0.1:" + std::to_string(upstream_port)},
                       {"Upgrade", req.Header("upgrade")},
                       {"Connection", "Upgrade"},
                       {"Authorization", "token upstream-secret"}};
          respond(TunnelResponse(std::move(t)));
        });
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    runner_ = std::thread([this] { loop_.Run(); });
  }
  void TearDown() override {
    if (runner_.joinable()) {
      loop_.Stop();
      runner_.join();
    }
    server_.reset();
  }

  EventLoop loop_;
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
};

TEST_F(HttpTunnelTest, RelaysBothWaysWithTheHandlersHead) {
  EchoUpstream up;
  StartServer(up.port());
  Client c(server_->port());
  c.Send(std::string(kUpgrade) + "early");  // bytes right after the head must not be lost
  std::string got = c.ReadUntil("echo:early");
  EXPECT_EQ(got.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("echo:early"), std::string::npos) << got;
  c.Send("ping-1");
  EXPECT_NE(c.ReadUntil("echo:ping-1").find("echo:ping-1"), std::string::npos);
  std::string big(100'000, 'z');  // more than one pump buffer
  c.Send(big);
  std::string back;
  while (back.size() < big.size() && !c.last()) {
    std::string part = c.ReadUntil("z");
    for (char ch : part) back += ch == 'z' ? "z" : "";
  }
  EXPECT_EQ(back.size(), big.size());
  c.Close();
  ASSERT_TRUE(up.Finished());
  EXPECT_TRUE(up.saw_eof());  // the client closing closes the upstream side
  const std::string head = up.head();
  EXPECT_EQ(head.rfind("GET /ws/chan?x=1 HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Authorization: token upstream-secret\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Bearer secret"), std::string::npos) << head;
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(up.port())), std::string::npos);
}

TEST_F(HttpTunnelTest, UpstreamClosingClosesTheClient) {
  EchoUpstream up;
  StartServer(up.port());
  Client c(server_->port());
  c.Send(kUpgrade);
  ASSERT_NE(c.ReadUntil("\r\n\r\n").find("101"), std::string::npos);
  c.Send("bye");  // the upstream closes after it
  std::string got = c.ReadToEnd();
  EXPECT_EQ(got, "echo:bye");
  EXPECT_EQ(c.last(), asio::error::eof);
  ASSERT_TRUE(up.Finished());
}

TEST_F(HttpTunnelTest, UpstreamDownGets502) {
  int dead_port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    dead_port = a.local_endpoint().port();
  }
  StartServer(dead_port);
  Client c(server_->port());
  c.Send(kUpgrade);
  std::string got = c.ReadToEnd();
  EXPECT_EQ(got.rfind("HTTP/1.1 502", 0), 0u) << got;
  EXPECT_NE(got.find("\"bad_gateway\""), std::string::npos) << got;
}

TEST_F(HttpTunnelTest, TooManyTunnelsGets503) {
  EchoUpstream up;
  HttpServerOptions options;
  options.max_tunnels = 1;
  StartServer(up.port(), options);
  Client first(server_->port());
  first.Send(kUpgrade);
  ASSERT_NE(first.ReadUntil("\r\n\r\n").find("101"), std::string::npos);
  Client second(server_->port());
  second.Send(kUpgrade);
  std::string got = second.ReadToEnd();
  EXPECT_EQ(got.rfind("HTTP/1.1 503", 0), 0u) << got;
  first.Send("still-here");
  EXPECT_NE(first.ReadUntil("echo:still-here").find("echo:still-here"), std::string::npos);
}

TEST_F(HttpTunnelTest, IdleTunnelIsClosed) {
  EchoUpstream up;
  HttpServerOptions options;
  options.tunnel_idle_timeout_ms = 100;
  StartServer(up.port(), options);
  Client c(server_->port());
  c.Send(kUpgrade);
  ASSERT_NE(c.ReadUntil("\r\n\r\n").find("101"), std::string::npos);
  c.ReadToEnd();  // nothing flows: the server closes both sides
  EXPECT_EQ(c.last(), asio::error::eof);
  ASSERT_TRUE(up.Finished());
  EXPECT_TRUE(up.saw_eof());
}

// The handler's still_allowed is asked while the tunnel is open: busy or not, a "no" closes
// both sides (a revoked token must not keep a notebook's kernel socket).
TEST_F(HttpTunnelTest, ATunnelNoLongerAllowedIsClosed) {
  EchoUpstream up;
  HttpServerOptions options;
  options.tunnel_recheck_ms = 20;
  auto allowed = std::make_shared<std::atomic<bool>>(true);
  auto asked = std::make_shared<std::atomic<int>>(0);
  StartServer(up.port(), options, [allowed, asked] {
    ++*asked;
    return allowed->load();
  });
  Client c(server_->port());
  c.Send(kUpgrade);
  ASSERT_NE(c.ReadUntil("\r\n\r\n").find("101"), std::string::npos);
  const auto until = std::chrono::steady_clock::now() + kWait;
  while (asked->load() < 3 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(asked->load(), 3) << "still_allowed is never asked";
  c.Send("still-allowed");  // a yes keeps it open
  EXPECT_NE(c.ReadUntil("echo:still-allowed").find("echo:still-allowed"), std::string::npos);
  allowed->store(false);
  c.ReadToEnd();
  EXPECT_EQ(c.last(), asio::error::eof);
  ASSERT_TRUE(up.Finished());
  EXPECT_TRUE(up.saw_eof());
}

TEST_F(HttpTunnelTest, TunnelAnswerWithoutUpgradeGets500) {
  EchoUpstream up;
  StartServer(up.port());
  Client c(server_->port());
  c.Send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = c.ReadToEnd();
  EXPECT_EQ(got.rfind("HTTP/1.1 500", 0), 0u) << got;
}

TEST_F(HttpTunnelTest, StopClosesOpenTunnelsAndDrains) {
  EchoUpstream up;
  StartServer(up.port());
  Client c(server_->port());
  c.Send(kUpgrade);
  ASSERT_NE(c.ReadUntil("\r\n\r\n").find("101"), std::string::npos);
  std::promise<void> drained;
  server_->Stop([&] { drained.set_value(); });
  EXPECT_EQ(drained.get_future().wait_for(kWait), std::future_status::ready);
  c.ReadToEnd();
  EXPECT_EQ(c.last(), asio::error::eof);
}

}  // namespace
}  // namespace gpuaas::net
