// HttpClient: Beast over a private io_context. Each phase (connect; write+read) is an async
// coroutine driven by io_context::run_until(deadline); when the deadline passes first, the
// socket is closed, which aborts the operation, and the phase reports a timeout.
// https:// URLs: TLS over the same socket, the server's certificate verified against the
// system's CAs (or the client's CA file) and the URL's host name, or pinned (set_pinned_cert_file).
#include "net/http_client.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <tuple>

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

using X509Ptr = std::shared_ptr<X509>;

// The first certificate of a PEM file, or an error that names the file.
Result<X509Ptr> ReadCertificate(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return InvalidArgument("cannot read the pinned certificate " + path);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) return InvalidArgument("no PEM certificate in " + path);
  return X509Ptr(cert, X509_free);
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
  bool tls = false;         // https://
  std::string ca_file;      // "" = the system's CAs (OpenSSL's default paths)
  std::string pinned_file;  // "" = verify the chain and the host name

  asio::io_context ioc{1};
  tcp::resolver resolver{ioc};
  tcp::socket socket{ioc};                                     // plain HTTP
  std::unique_ptr<asio::ssl::context> tls_context;             // built at the first connection
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_stream;  // one per TLS connection
  X509Ptr pinned;
  beast::flat_buffer buffer;
  bool connected = false;
  bool handshake_failed = false;  // the last Connect failed in the TLS handshake

  void ParseBaseUrl(const std::string& url);
  tcp::socket& Socket() { return tls_stream ? tls_stream->next_layer() : socket; }
  Status MakeTlsContext();
  void Close() {
    beast::error_code ignored;
    Socket().close(ignored);  // a TLS stream is replaced at the next Connect, not reused
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
  template <class S>
  asio::awaitable<beast::error_code> Exchange(S& stream,
                                              const http::request<http::string_body>& req,
                                              http::response_parser<http::string_body>& parser,
                                              bool& sent);
};

Status HttpClient::Impl::MakeTlsContext() {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (!pinned_file.empty()) {
    auto cert = ReadCertificate(pinned_file);
    if (!cert.ok()) return cert.status();
    pinned = *cert;
  } else if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      return InvalidArgument("cannot load CA certificates from " + ca_file + ": " + ec.message());
    }
  } else {
    ctx->set_default_verify_paths(ec);  // honours SSL_CERT_FILE and SSL_CERT_DIR
    if (ec) return InvalidArgument("cannot load the system's CA certificates: " + ec.message());
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  tls_context = std::move(ctx);
  return Status::Ok();
}

void HttpClient::Impl::ParseBaseUrl(const std::string& url) {
  std::string rest;
  tls = StartsWithNoCase(url, "https://");
  if (!tls && !StartsWithNoCase(url, "http://")) {
    config_error = InvalidArgument("base URL must look like http://HOST:PORT, got '" + url + "'");
    return;
  }
  const std::string scheme = tls ? "https://" : "http://";
  rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    path_prefix = rest.substr(slash);
    while (!path_prefix.empty() && path_prefix.back() == '/') path_prefix.pop_back();
  }
  port = tls ? "443" : "80";
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
    config_error =
        InvalidArgument("base URL must look like " + scheme + "HOST:PORT, got '" + url + "'");
    return;
  }
  host_header = authority;
  base_url = scheme + authority + path_prefix;
}

bool HttpClient::Impl::StillOpen() {
  tcp::socket& socket = Socket();
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
  handshake_failed = false;
  if (tls) tls_stream = std::make_unique<asio::ssl::stream<tcp::socket>>(ioc, *tls_context);
  tcp::socket& socket = Socket();
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  const bool literal = !ec;
  if (literal) {  // a literal address: no resolver thread needed
    std::tie(ec) = co_await socket.async_connect(tcp::endpoint(address, std::stoi(port)), kTuple);
  } else {
    auto [rec, results] = co_await resolver.async_resolve(host, port, kTuple);
    if (rec) co_return rec;
    std::tie(ec, std::ignore) = co_await asio::async_connect(socket, results, kTuple);
  }
  if (ec || !tls) co_return ec;
  SSL* ssl = tls_stream->native_handle();
  if (!literal) SSL_set_tlsext_host_name(ssl, host.c_str());  // SNI: names only, never addresses
  if (pinned) {
    // Exactly this certificate, whoever signed it: the peer proves it holds its key.
    tls_stream->set_verify_callback([cert = pinned](bool, asio::ssl::verify_context& vc) {
      X509_STORE_CTX* store = vc.native_handle();
      if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
      X509* leaf = X509_STORE_CTX_get_current_cert(store);
      return leaf != nullptr && X509_cmp(leaf, cert.get()) == 0;
    });
  } else {
    tls_stream->set_verify_callback(asio::ssl::host_name_verification(host));
  }
  std::tie(ec) = co_await tls_stream->async_handshake(asio::ssl::stream_base::client, kTuple);
  handshake_failed = static_cast<bool>(ec);
  co_return ec;
}

template <class S>
asio::awaitable<beast::error_code> HttpClient::Impl::Exchange(
    S& stream, const http::request<http::string_body>& req,
    http::response_parser<http::string_body>& parser, bool& sent) {
  auto [wec, written] = co_await http::async_write(stream, req, kTuple);
  sent = !wec;
  // Even when the write failed, the server may have answered (e.g. 413 before reading the whole
  // body): try to read the answer, and report the write error only if there is none.
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
  if (!rec) co_return beast::error_code();
  co_return wec ? wec : rec;
}

HttpClient::HttpClient(std::string base_url) : impl_(std::make_unique<Impl>()) {
  impl_->ParseBaseUrl(base_url);
}

HttpClient::~HttpClient() = default;

void HttpClient::set_connect_timeout_ms(int ms) { impl_->connect_timeout_ms = ms; }

void HttpClient::set_ca_file(std::string path) {
  impl_->ca_file = std::move(path);
  impl_->tls_context.reset();
}

void HttpClient::set_pinned_cert_file(std::string path) {
  impl_->pinned_file = std::move(path);
  impl_->tls_context.reset();
}

Result<HttpResponse> HttpClient::Request(
    const std::string& method, const std::string& target, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, int timeout_ms) {
  Impl& d = *impl_;
  if (!d.config_error.ok()) return d.config_error;
  if (d.tls && !d.tls_context) {
    if (d.connected) d.Close();
    GPUAAS_RETURN_IF_ERROR(d.MakeTlsContext());
  }
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
        if (d.handshake_failed) {
          return Unavailable("cannot reach " + d.base_url +
                             ": TLS handshake failed: " + LowerFirst(ec.message()) +
                             (ec.category() == asio::error::get_ssl_category()
                                  ? " (is the server's certificate trusted: --ca-file, "
                                    "SSL_CERT_FILE; and does it name this host?)"
                                  : ""));
        }
        return Unavailable("cannot reach " + d.base_url + ": " + LowerFirst(ec.message()));
      }
      d.connected = true;
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    parser.header_limit(kMaxResponseHeader);
    if (verb == http::verb::head) parser.skip(true);
    bool sent = false;
    auto exchange = d.tls_stream ? d.Exchange(*d.tls_stream, req, parser, sent)
                                 : d.Exchange(d.socket, req, parser, sent);
    if (!d.RunUntil(std::move(exchange), deadline, ec)) {
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
