// HttpClient: Beast over a private io_context. Each phase (connect; write+read) is an async
// coroutine driven by io_context::run_until(deadline); when the deadline passes first, the
// socket is closed, which aborts the operation, and the phase reports a timeout.
#include "net/http_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <chrono>
#include <exception>

namespace gpuaas::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr int kDefaultConnectTimeoutMs = 5'000;
constexpr std::uint64_t kMaxResponseBody = 256ull << 20;  // logs and exports can be big
constexpr std::uint32_t kMaxResponseHeader = 64 << 10;

std::string LowerFirst(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

std::string ToLower(beast::string_view s) {
  std::string out(s.data(), s.size());
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWithNoCase(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  return ToLower(beast::string_view(s.data(), prefix.size())) == prefix;
}

}  // namespace

struct HttpClient::Impl {
  std::string base_url;  // without trailing slash, for messages
  std::string host;      // without brackets
  std::string port;
  std::string host_header;
  std::string path_prefix;  // "" or "/prefix"
  Status config_error;
  int connect_timeout_ms = kDefaultConnectTimeoutMs;

  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  void ParseBaseUrl(const std::string& url);
  void Close() {
    beast::error_code ignored;
    socket.close(ignored);
    buffer.clear();
    connected = false;
  }
  // Whether a kept-alive connection still looks usable: the server may have closed it while it
  // sat idle (EOF pending) — then we reconnect before sending anything.
  bool StillOpen();
  // Runs `task` on the private io_context until it finishes or `deadline` passes. Returns false
  // on timeout (the socket is then closed).
  bool RunUntil(asio::awaitable<beast::error_code> task, Clock::time_point deadline,
                beast::error_code& ec);
  asio::awaitable<beast::error_code> Connect();
  asio::awaitable<beast::error_code> Exchange(const http::request<http::string_body>& req,
                                              http::response_parser<http::string_body>& parser,
                                              bool& sent);
};

void HttpClient::Impl::ParseBaseUrl(const std::string& url) {
  std::string rest;
  if (StartsWithNoCase(url, "https://")) {
    config_error = InvalidArgument("https is not supported yet (base URL " + url +
                                   "); use http:// or a TLS-terminating proxy");
    return;
  }
  if (!StartsWithNoCase(url, "http://")) {
    config_error = InvalidArgument("base URL must look like http://HOST:PORT, got '" + url + "'");
    return;
  }
  rest = url.substr(7);
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    path_prefix = rest.substr(slash);
    while (!path_prefix.empty() && path_prefix.back() == '/') path_prefix.pop_back();
  }
  port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) {
      config_error = InvalidArgument("bad host in base URL '" + url + "'");
      return;
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        config_error = InvalidArgument("bad host in base URL '" + url + "'");
        return;
      }
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  int port_num = -1;
  auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), port_num);
  if (host.empty() || err != std::errc() || end != port.data() + port.size() || port_num <= 0 ||
      port_num > 65535) {
    config_error = InvalidArgument("base URL must look like http://HOST:PORT, got '" + url + "'");
    return;
  }
  host_header = authority;
  base_url = "http://" + authority + path_prefix;
}

bool HttpClient::Impl::StillOpen() {
  if (!connected || !socket.is_open()) return false;
  char byte;
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) return false;
  const size_t n = socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
  beast::error_code ignored;
  socket.non_blocking(false, ignored);
  // would_block: nothing pending, the normal case. EOF, an error, or stray bytes: unusable.
  return ec == asio::error::would_block && n == 0;
}

bool HttpClient::Impl::RunUntil(asio::awaitable<beast::error_code> task, Clock::time_point deadline,
                                beast::error_code& ec) {
  bool done = false;
  asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, beast::error_code result) {
    done = true;
    ec = e ? beast::error_code(asio::error::fault) : result;
  });
  ioc.restart();
  ioc.run_until(deadline);
  if (done) return true;
  // Timed out: abort whatever is pending and let the coroutine finish.
  resolver.cancel();
  Close();
  ioc.restart();
  ioc.run();
  return false;
}

asio::awaitable<beast::error_code> HttpClient::Impl::Connect() {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {  // a literal address: no resolver thread needed
    auto [cec] = co_await socket.async_connect(tcp::endpoint(address, std::stoi(port)), kTuple);
    co_return cec;
  }
  auto [rec, results] = co_await resolver.async_resolve(host, port, kTuple);
  if (rec) co_return rec;
  auto [cec, endpoint] = co_await asio::async_connect(socket, results, kTuple);
  co_return cec;
}

asio::awaitable<beast::error_code> HttpClient::Impl::Exchange(
    const http::request<http::string_body>& req, http::response_parser<http::string_body>& parser,
    bool& sent) {
  auto [wec, written] = co_await http::async_write(socket, req, kTuple);
  sent = !wec;
  // Even when the write failed, the server may have answered (e.g. 413 before reading the whole
  // body): try to read the answer, and report the write error only if there is none.
  auto [rec, read] = co_await http::async_read(socket, buffer, parser, kTuple);
  if (!rec) co_return beast::error_code();
  co_return wec ? wec : rec;
}

HttpClient::HttpClient(std::string base_url) : impl_(std::make_unique<Impl>()) {
  impl_->ParseBaseUrl(base_url);
}

HttpClient::~HttpClient() = default;

void HttpClient::set_connect_timeout_ms(int ms) { impl_->connect_timeout_ms = ms; }

Result<HttpResponse> HttpClient::Request(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, int timeout_ms) {
  Impl& d = *impl_;
  if (!d.config_error.ok()) return d.config_error;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::milliseconds(timeout_ms);
  const std::string what = method + " " + target;

  http::request<http::string_body> req;
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(d.path_prefix.empty() ? target : d.path_prefix + target);
  req.version(11);
  req.set(http::field::host, d.host_header);
  req.set(http::field::user_agent, "gpuaas");
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    req.insert(name, value);
    if (ToLower(name) == "content-type") has_content_type = true;
  }
  if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();

  // One retry, only when the request surely did not reach the server: a reused connection that
  // failed before the request was written, or (for GET/HEAD, which are safe to repeat) that
  // was closed by the server without a single byte of answer.
  const bool idempotent = verb == http::verb::get || verb == http::verb::head;
  for (int attempt = 0;; ++attempt) {
    if (d.connected && !d.StillOpen()) d.Close();
    const bool reused = d.connected;
    beast::error_code ec;
    if (!d.connected) {
      const auto connect_deadline =
          std::min(deadline, Clock::now() + std::chrono::milliseconds(d.connect_timeout_ms));
      if (!d.RunUntil(d.Connect(), connect_deadline, ec)) {
        return Unavailable("cannot reach " + d.base_url + ": connection timed out");
      }
      if (ec) {
        d.Close();
        return Unavailable("cannot reach " + d.base_url + ": " + LowerFirst(ec.message()));
      }
      d.connected = true;
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    parser.header_limit(kMaxResponseHeader);
    if (verb == http::verb::head) parser.skip(true);
    bool sent = false;
    if (!d.RunUntil(d.Exchange(req, parser, sent), deadline, ec)) {
      return Unavailable("no answer from " + d.base_url + " to " + what + " within " +
                         std::to_string(timeout_ms) + " ms");
    }
    if (ec) {
      d.Close();
      const bool nothing_back = !parser.got_some();
      if (attempt == 0 && reused && nothing_back && (!sent || idempotent)) continue;
      return Unavailable("connection to " + d.base_url + " failed during " + what + ": " +
                         LowerFirst(ec.message()));
    }

    auto msg = parser.release();
    if (!msg.keep_alive()) d.Close();
    HttpResponse res;
    res.status = static_cast<int>(msg.result_int());
    res.content_type = std::string(msg[http::field::content_type]);
    for (const auto& field : msg) {
      res.headers.emplace_back(ToLower(field.name_string()),
                               std::string(field.value().data(), field.value().size()));
    }
    res.body = std::move(msg.body());
    return res;
  }
}

}  // namespace gpuaas::net
