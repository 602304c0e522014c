// HttpServer on Boost.Beast with C++20 coroutines, single-threaded on an EventLoop.
//
// Each connection runs one coroutine (read request -> call handler -> wait for the response ->
// write it) plus a watchdog coroutine that enforces the idle timeout with a single timer whose
// deadline is just a field update per request (no timer re-arming syscalls on the hot path).
// Requests are parsed by a custom Beast parser straight into HttpRequest, and responses are
// written as one formatted header block plus the body, so a request costs few allocations.
// A response carrying an HttpTunnel turns the connection into a raw byte relay to an upstream
// (Tunnel below): two pumps, one per direction, both on the loop; the watchdog closes both sockets
// when the tunnel is idle, and either side closing ends it.
// With a certificate (HttpServerOptions::tls_cert_file) every connection is TLS (1.2 or later)
// over the same socket: Stream below hides which, and the handshake runs under the idle timer.
#include "net/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <tuple>
#include <unordered_set>

#include "base/log.h"
#include "net/http_wire.h"
#include "net/router.h"

namespace gpuaas::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Parses one request directly into an HttpRequest (lower-cased header names, body appended).
class RequestParser final : public http::basic_parser<true> {
 public:
  explicit RequestParser(HttpRequest& req) : req_(req) {}
  int version() const { return version_; }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    req_.method.assign(method.data(), method.size());
    req_.target.assign(target.data(), target.size());
    version_ = version;
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    auto& [lower, val] = req_.headers.emplace_back();
    lower.resize(name.size());
    std::transform(name.begin(), name.end(), lower.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    val.assign(value.data(), value.size());
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length) req_.body.reserve(*length);  // already checked against the body limit
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  HttpRequest& req_;
  int version_ = 11;
};

// A connection's byte stream: the accepted TCP socket, or TLS over it. An AsyncReadStream and
// AsyncWriteStream for Beast and Asio's composed operations; socket() is the TCP socket under
// it either way (closing it aborts whatever is pending, TLS included).
class Stream {
 public:
  using executor_type = tcp::socket::executor_type;

  Stream(tcp::socket socket, asio::ssl::context* tls) : plain_(socket.get_executor()) {
    if (tls) {
      tls_.emplace(std::move(socket), *tls);
    } else {
      plain_ = std::move(socket);
    }
  }
  executor_type get_executor() { return socket().get_executor(); }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  bool is_tls() const { return tls_.has_value(); }
  auto Handshake() { return tls_->async_handshake(asio::ssl::stream_base::server, kTuple); }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return plain_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return plain_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  tcp::socket plain_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
};

// The server's TLS settings: TLS 1.2 and later, the certificate chain and key from PEM files.
Result<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const HttpServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate file and a key file");
  }
  if (o.tls_cert_file.empty()) return std::unique_ptr<asio::ssl::context>();
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) {
    return InvalidArgument("cannot load the TLS certificate chain from " + o.tls_cert_file + ": " +
                           ec.message());
  }
  ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return InvalidArgument("cannot load the TLS private key from " + o.tls_key_file + ": " +
                           ec.message() + " (a PEM key that matches the certificate)");
  }
  return ctx;
}

class Connection;

// Shared state of one server; lives as long as any of its connections.
class ServerCore : public std::enable_shared_from_this<ServerCore> {
 public:
  ServerCore(asio::io_context& ioc, HttpServerOptions options, Handler handler)
      : ioc_(ioc), options_(std::move(options)), handler_(std::move(handler)), acceptor_(ioc) {}

  Status Listen();
  asio::ssl::context* tls() { return tls_.get(); }
  static asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerCore> self);
  void BeginStop(std::function<void()> on_drained);  // loop thread
  void Abort();                                      // closes everything now
  void Remove(Connection* conn);                     // loop thread; idempotent per connection

  asio::io_context& ioc() { return ioc_; }
  const HttpServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  bool stopping() const { return stopping_; }
  int port() const { return port_.load(); }
  int& tunnels() { return tunnels_; }

 private:
  asio::io_context& ioc_;
  const HttpServerOptions options_;
  const Handler handler_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> tls_;  // set by Listen when the options name a certificate
  std::atomic<int> port_{0};
  bool stopping_ = false;
  int tunnels_ = 0;  // open tunnels (loop thread)
  std::unordered_set<Connection*> connections_;
  std::function<void()> on_drained_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerCore> server, tcp::socket socket)
      : server_(std::move(server)),
        stream_(std::move(socket), server_->tls()),
        socket_(stream_.socket()),
        watchdog_(server_->ioc()),
        recheck_(server_->ioc()),
        signal_(server_->ioc()),
        upstream_(server_->ioc()) {
    Touch(server_->options().idle_timeout_ms);
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) {
      remote_ =
          ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
      remote_ += ':';
      remote_ += std::to_string(ep.port());
    }
  }
  ~Connection() { server_->Remove(this); }

  static asio::awaitable<void> Run(std::shared_ptr<Connection> self);
  static asio::awaitable<void> Watchdog(std::shared_ptr<Connection> self);

  // Completes the pending request with `res`; loop thread only.
  void Deliver(HttpResponse res) {
    response_ = std::move(res);
    has_response_ = true;
    signal_.cancel();
  }
  void OnServerStop() {
    if (phase_ == Phase::kTunnel) return CloseSocket();
    if (phase_ == Phase::kReading && buffer_.size() == 0 && (!parser_ || !parser_->got_some())) {
      CloseSocket();
    }
  }
  void Abort() {
    aborted_.store(true);
    CloseSocket();
    signal_.cancel();
  }
  bool aborted() const { return aborted_.load(); }
  asio::io_context& ioc() { return server_->ioc(); }
  bool registered = true;  // owned by ServerCore::Remove

 private:
  enum class Phase { kReading, kHandling, kWriting, kDraining, kTunnel };

  asio::awaitable<bool> Write(bool close, bool keep_alive_http10, bool head_only);
  // TLS port: false when the client's first byte is not a TLS handshake record; a request that
  // looks like plain HTTP is then answered in plain HTTP, 400 "use https://" (as nginx does).
  asio::awaitable<bool> ExpectTls();
  asio::awaitable<void> Drain();
  asio::awaitable<void> Tunnel(std::shared_ptr<Connection> self);
  template <class From, class To>
  static asio::awaitable<void> Pump(std::shared_ptr<Connection> self, From& from, To& to);
  // Closes the tunnel once spec->still_allowed() says no (asked every tunnel_recheck_ms).
  static asio::awaitable<void> Recheck(std::shared_ptr<Connection> self,
                                       std::shared_ptr<const HttpTunnel> spec);
  void Touch(int ms) { deadline_ = Clock::now() + std::chrono::milliseconds(ms); }
  void CloseSocket() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    if (upstream_.is_open()) {
      upstream_.shutdown(tcp::socket::shutdown_both, ignored);
      upstream_.close(ignored);
    }
    watchdog_.cancel();
    recheck_.cancel();
  }

  std::shared_ptr<ServerCore> server_;
  Stream stream_;
  tcp::socket& socket_;  // stream_'s TCP socket
  asio::steady_timer watchdog_;
  asio::steady_timer recheck_;  // a tunnel's still_allowed period
  asio::steady_timer signal_;   // wakes Run when the response arrives
  tcp::socket upstream_;        // the tunnel's upstream, once connected
  beast::flat_buffer buffer_;
  std::string head_;
  std::string remote_;
  Phase phase_ = Phase::kReading;
  RequestParser* parser_ = nullptr;  // the parser of the read in progress, if any
  Clock::time_point deadline_ = Clock::now();
  bool closed_ = false;
  std::atomic<bool> aborted_{false};
  bool has_response_ = false;
  HttpResponse response_;
};

// One request's completion slot: the handler's Respond callbacks share it. Delivers at most one
// response, from any thread; a slot dropped without an answer delivers a 500.
class Exchange {
 public:
  explicit Exchange(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}
  ~Exchange() {
    if (!done_.load()) Send(ErrorResponse(500, "internal", "the handler did not respond"));
  }
  void Complete(HttpResponse res) {
    if (done_.exchange(true)) return;  // exactly once
    Send(std::move(res));
  }

 private:
  void Send(HttpResponse res) {
    if (conn_->aborted()) return;  // the server is gone; nothing to write to
    asio::io_context& ioc = conn_->ioc();
    if (ioc.get_executor().running_in_this_thread()) {
      conn_->Deliver(std::move(res));
    } else {
      asio::post(ioc,
                 [conn = conn_, res = std::move(res)]() mutable { conn->Deliver(std::move(res)); });
    }
  }

  std::shared_ptr<Connection> conn_;
  std::atomic<bool> done_{false};
};

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == beast::http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

asio::awaitable<void> Connection::Run(std::shared_ptr<Connection> self) {
  Connection& c = *self;
  asio::co_spawn(c.ioc(), Watchdog(self), asio::detached);
  const HttpServerOptions& opts = c.server_->options();
  const auto header_limit = static_cast<std::uint32_t>(
      std::min<size_t>(opts.max_header_bytes, std::numeric_limits<std::uint32_t>::max()));
  if (c.stream_.is_tls()) {
    c.Touch(opts.idle_timeout_ms);  // a client that never finishes its handshake is idle
    if (!co_await c.ExpectTls()) {
      c.CloseSocket();
      c.server_->Remove(&c);
      co_return;
    }
    auto [ec] = co_await c.stream_.Handshake();
    if (ec) {
      // A plain-HTTP client, a client that does not trust the certificate, a port scan.
      if (!c.closed_) GLOG_DEBUG("tls handshake with {} failed: {}", c.remote_, ec.message());
      c.CloseSocket();
      c.server_->Remove(&c);
      co_return;
    }
  }
  // A stop that arrived while a response was being written closes the connection after it.
  while (!c.server_->stopping()) {
    HttpRequest req;
    RequestParser parser(req);
    parser.header_limit(header_limit);
    parser.body_limit(opts.max_body_bytes);
    c.phase_ = Phase::kReading;
    c.parser_ = &parser;
    c.Touch(opts.idle_timeout_ms);
    auto [ec, n] = co_await http::async_read(c.stream_, c.buffer_, parser, kTuple);
    c.parser_ = nullptr;
    if (ec) {
      if (c.closed_) break;
      if (ec == http::error::body_limit) {
        c.response_ =
            ErrorResponse(413, "too_large",
                          "request body exceeds " + std::to_string(opts.max_body_bytes) + " bytes");
      } else if (ec == http::error::header_limit) {
        c.response_ = ErrorResponse(
            431, "too_large", "request header exceeds " + std::to_string(header_limit) + " bytes");
      } else if (IsParseError(ec)) {
        c.response_ = ErrorResponse(400, "bad_request", "malformed HTTP request: " + ec.message());
      } else {
        break;  // the peer closed or the socket failed: nothing to answer
      }
      // The rest of the request is still coming: answer, then discard it before closing, so
      // that the client reads the answer instead of a connection reset.
      if (co_await c.Write(/*close=*/true, false, false)) co_await c.Drain();
      break;
    }
    bool close = !parser.keep_alive();
    const bool keep_alive_http10 = !close && parser.version() == 10;
    const bool head_only = req.method == "HEAD";
    if (Status st = ParseTarget(req); !st.ok()) {
      c.response_ = ErrorResponse(400, "bad_request", st.message());
      if (!co_await c.Write(close, keep_alive_http10, head_only) || close) break;
      continue;
    }
    req.remote = c.remote_;
    c.phase_ = Phase::kHandling;
    c.has_response_ = false;
    {
      auto exchange = std::make_shared<Exchange>(self);
      try {
        c.server_->handler()(std::move(req),
                             [exchange](HttpResponse res) { exchange->Complete(std::move(res)); });
      } catch (const std::exception& e) {
        GLOG_ERROR("http handler threw: {}", e.what());
        exchange->Complete(ErrorResponse(500, "internal", "internal error"));
      } catch (...) {
        GLOG_ERROR("http handler threw a non-standard exception");
        exchange->Complete(ErrorResponse(500, "internal", "internal error"));
      }
    }
    while (!c.has_response_ && !c.aborted()) {
      c.signal_.expires_at(Clock::time_point::max());
      co_await c.signal_.async_wait(kTuple);
    }
    if (c.aborted()) break;
    if (c.response_.tunnel) {
      if (parser.upgrade()) {
        co_await c.Tunnel(self);
        break;
      }
      GLOG_ERROR("http handler answered a tunnel to a request without Upgrade: {}", req.target);
      c.response_ = ErrorResponse(500, "internal", "internal error");
      close = true;
    }
    if (c.server_->stopping()) close = true;
    const bool ok = co_await c.Write(close, keep_alive_http10, head_only);
    c.response_ = HttpResponse();
    if (!ok || close) break;
  }
  c.CloseSocket();
  c.server_->Remove(&c);
}

asio::awaitable<void> Connection::Watchdog(std::shared_ptr<Connection> self) {
  Connection& c = *self;
  const auto idle = std::chrono::milliseconds(c.server_->options().idle_timeout_ms);
  while (!c.closed_) {
    c.watchdog_.expires_at(c.deadline_);
    co_await c.watchdog_.async_wait(kTuple);
    if (c.closed_) break;
    const auto now = Clock::now();
    if (c.phase_ == Phase::kHandling) {
      c.deadline_ = now + idle;  // a long poll is not idleness; look again later
    } else if (now >= c.deadline_) {
      c.CloseSocket();  // the pending read or write fails and Run ends
    }
  }
}

asio::awaitable<bool> Connection::Write(bool close, bool keep_alive_http10, bool head_only) {
  phase_ = Phase::kWriting;
  Touch(server_->options().idle_timeout_ms);
  head_.clear();
  AppendResponseHead(head_, response_, close, keep_alive_http10);
  const bool no_body = head_only || StatusHasNoBody(response_.status);
  std::array<asio::const_buffer, 2> buffers = {
      asio::buffer(head_), no_body ? asio::const_buffer() : asio::buffer(response_.body)};
  auto [ec, n] = co_await asio::async_write(stream_, buffers, kTuple);
  co_return !ec;
}

asio::awaitable<bool> Connection::ExpectTls() {
  constexpr unsigned char kHandshakeRecord = 0x16;
  std::array<char, 1> first{};
  auto [ec, n] =
      co_await socket_.async_receive(asio::buffer(first), tcp::socket::message_peek, kTuple);
  if (ec || n == 0) co_return false;
  if (static_cast<unsigned char>(first[0]) == kHandshakeRecord) co_return true;
  if (first[0] < 'A' || first[0] > 'Z') co_return false;  // not a method either: just close
  // Read what the client sent (its request head, usually whole), answer, close.
  std::array<char, 4096> scratch{};
  auto [rec, m] = co_await socket_.async_read_some(asio::buffer(scratch), kTuple);
  if (rec || closed_) co_return false;
  response_ = ErrorResponse(400, "bad_request",
                            "this server speaks HTTPS only: use https:// instead of http://");
  head_.clear();
  AppendResponseHead(head_, response_, /*close=*/true, false);
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(head_), asio::buffer(response_.body)};
  co_await asio::async_write(socket_, buffers, kTuple);
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  co_return false;
}

asio::awaitable<void> Connection::Tunnel(std::shared_ptr<Connection> self) {
  std::shared_ptr<const HttpTunnel> spec = std::move(response_.tunnel);
  response_ = HttpResponse();
  int& tunnels = server_->tunnels();
  const HttpServerOptions& opts = server_->options();
  if (tunnels >= opts.max_tunnels) {
    response_ = ErrorResponse(503, "unavailable",
                              "too many open tunnels (" + std::to_string(opts.max_tunnels) + ")");
    co_await Write(true, false, false);
    co_return;
  }
  ++tunnels;
  struct Release {
    int& n;
    ~Release() { --n; }
  } release{tunnels};
  phase_ = Phase::kTunnel;
  constexpr int kConnectMs = 5'000;
  Touch(kConnectMs);
  watchdog_.cancel();  // re-arms it for the (possibly shorter) deadline
  beast::error_code ec;
  auto address = asio::ip::make_address(spec->host, ec);
  if (!ec && (spec->port <= 0 || spec->port > 65535)) ec = asio::error::invalid_argument;
  if (!ec) {
    std::tie(ec) = co_await upstream_.async_connect(
        tcp::endpoint(address, static_cast<unsigned short>(spec->port)), kTuple);
  }
  if (ec) {
    if (closed_) co_return;
    beast::error_code ignored;
    upstream_.close(ignored);
    response_ = ErrorResponse(502, "bad_gateway", "the upstream does not answer: " + ec.message());
    co_await Write(true, false, false);
    co_return;
  }
  upstream_.set_option(tcp::no_delay(true), ec);
  head_ = spec->method + " " + spec->target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : spec->headers) {
    head_ += name;
    head_ += ": ";
    head_ += value;
    head_ += "\r\n";
  }
  head_ += "\r\n";
  Touch(opts.tunnel_idle_timeout_ms);
  watchdog_.cancel();
  std::array<asio::const_buffer, 2> first = {asio::buffer(head_), buffer_.data()};
  auto [wec, n] = co_await asio::async_write(upstream_, first, kTuple);
  if (wec) co_return;
  buffer_.consume(buffer_.size());
  if (spec->still_allowed) asio::co_spawn(ioc(), Recheck(self, spec), asio::detached);
  asio::co_spawn(ioc(), Pump(self, upstream_, stream_), asio::detached);
  co_await Pump(self, stream_, upstream_);
}

asio::awaitable<void> Connection::Recheck(std::shared_ptr<Connection> self,
                                          std::shared_ptr<const HttpTunnel> spec) {
  Connection& c = *self;
  const auto every = std::chrono::milliseconds(std::max(1, c.server_->options().tunnel_recheck_ms));
  while (!c.closed_) {
    c.recheck_.expires_after(every);
    co_await c.recheck_.async_wait(kTuple);
    if (c.closed_) break;
    if (!spec->still_allowed()) {
      GLOG_INFO("tunnel to {}:{} closed: its caller may no longer use it", spec->host, spec->port);
      c.CloseSocket();  // both pumps' pending reads fail and end
    }
  }
}

// Copies bytes from one socket to the other until either fails or closes, then closes both.
template <class From, class To>
asio::awaitable<void> Connection::Pump(std::shared_ptr<Connection> self, From& from, To& to) {
  Connection& c = *self;
  const int idle_ms = c.server_->options().tunnel_idle_timeout_ms;
  std::vector<char> buf(16 << 10);
  while (!c.closed_) {
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), kTuple);
    if (rec || c.closed_) break;
    c.Touch(idle_ms);
    auto [wec, m] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kTuple);
    if (wec) break;
    c.Touch(idle_ms);
  }
  c.CloseSocket();
}

asio::awaitable<void> Connection::Drain() {
  constexpr int kDrainMs = 2'000;
  phase_ = Phase::kDraining;
  Touch(kDrainMs);
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  size_t budget = 4 * server_->options().max_body_bytes + (1 << 20);
  buffer_.clear();
  auto scratch = buffer_.prepare(16 << 10);
  while (budget > 0 && !closed_) {
    auto [ec, n] = co_await stream_.async_read_some(scratch, kTuple);
    if (ec) break;
    budget -= std::min(n, budget);
  }
}

Status ServerCore::Listen() {
  auto tls = MakeTlsContext(options_);
  if (!tls.ok()) return tls.status();
  tls_ = std::move(*tls);
  const std::string& listen = options_.listen;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("listen address must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  int port = -1;
  const char* first = listen.data() + colon + 1;
  const char* last = listen.data() + listen.size();
  auto [end, perr] = std::from_chars(first, last, port);
  if (perr != std::errc() || end != last || port < 0 || port > 65535) {
    return InvalidArgument("bad port in listen address '" + listen + "'");
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return InvalidArgument("bad host in listen address '" + listen + "'");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return Unavailable("cannot listen on " + listen + ": " + ec.message());
  }
  port_.store(acceptor_.local_endpoint(ec).port());
  return Status::Ok();
}

asio::awaitable<void> ServerCore::AcceptLoop(std::shared_ptr<ServerCore> self) {
  for (;;) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(kTuple);
    if (self->stopping_ || !self->acceptor_.is_open()) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      GLOG_WARN("http accept failed: {}", ec.message());  // e.g. out of file descriptors
      asio::steady_timer backoff(self->ioc_, std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    beast::error_code ignored;
    if (self->connections_.size() >=
        static_cast<size_t>(std::max(0, self->options_.max_connections))) {
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    auto conn = std::make_shared<Connection>(self, std::move(socket));
    self->connections_.insert(conn.get());
    asio::co_spawn(self->ioc_, Connection::Run(std::move(conn)), asio::detached);
  }
}

void ServerCore::BeginStop(std::function<void()> on_drained) {
  stopping_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  if (connections_.empty()) {
    if (on_drained) on_drained();
    return;
  }
  on_drained_ = std::move(on_drained);
  std::vector<Connection*> conns(connections_.begin(), connections_.end());
  for (Connection* conn : conns) conn->OnServerStop();
}

void ServerCore::Abort() {
  stopping_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  on_drained_ = nullptr;
  std::vector<Connection*> conns(connections_.begin(), connections_.end());
  for (Connection* conn : conns) conn->Abort();
}

void ServerCore::Remove(Connection* conn) {
  if (!conn->registered) return;
  conn->registered = false;
  connections_.erase(conn);
  if (stopping_ && connections_.empty() && on_drained_) {
    auto done = std::move(on_drained_);
    on_drained_ = nullptr;
    done();
  }
}

}  // namespace

struct HttpServer::Impl : ServerCore {
  using ServerCore::ServerCore;
  bool started = false;
};

HttpServer::HttpServer(EventLoop& loop, HttpServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(*static_cast<asio::io_context*>(loop.native()),
                                   std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { impl_->Abort(); }

Status HttpServer::Start() {
  if (impl_->started) return FailedPrecondition("server already started");
  GPUAAS_RETURN_IF_ERROR(impl_->Listen());
  impl_->started = true;
  asio::co_spawn(impl_->ioc(), ServerCore::AcceptLoop(impl_), asio::detached);
  return Status::Ok();
}

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop(std::function<void()> on_drained) {
  std::shared_ptr<ServerCore> core = impl_;
  asio::dispatch(core->ioc(), [core, on_drained = std::move(on_drained)]() mutable {
    core->BeginStop(std::move(on_drained));
  });
}

}  // namespace gpuaas::net
