// HTTPS end to end on 127.0.0.1:0: HttpServer with a certificate and HttpClient over TLS, with
// certificates made for the test by the openssl program (a self-signed one per case, in a
// temporary directory). Trust by CA file and by pin, host name checks, clients on the wrong
// protocol, the server's refusal of bad certificate files, and a tunnel (a notebook's WebSocket)
// relayed from a TLS client to a plain upstream.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"

namespace gpuaas::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A temporary directory with self-signed certificates (EC P-256, ten years), removed at the end.
class CertDir {
 public:
  CertDir() {
    char tmpl[] = "/tmp/gpuaas-https-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  ~CertDir() { std::filesystem::remove_all(dir_); }
  // Writes NAME.crt and NAME.key with these subjectAltNames (e.g. "IP:127.0.0.1,DNS:localhost").
  void Make(const std::string& name, const std::string& alt_names) {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -days 3650 -subj /CN=" +
        name + " -addext subjectAltName=" + alt_names + " -keyout " + Key(name) + " -out " +
        Cert(name) + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string Cert(const std::string& name) const { return dir_ + "/" + name + ".crt"; }
  std::string Key(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  std::string Path(const std::string& file) const { return dir_ + "/" + file; }

 private:
  std::string dir_;
};

HttpResponse Echo(const HttpRequest& req) {
  HttpResponse res;
  res.content_type = "text/plain";
  res.body = req.method + " " + req.target + " " + req.body;
  res.headers.emplace_back("X-Remote", req.remote);  // the client's address and port
  return res;
}

std::string RemoteOf(const HttpResponse& res) {
  for (const auto& [name, value] : res.headers) {
    if (name == "x-remote") return value;
  }
  return "";
}

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override { certs_.Make("server", "IP:127.0.0.1,DNS:localhost"); }
  void TearDown() override {
    if (runner_.joinable()) {
      loop_.Stop();
      runner_.join();
    }
    server_.reset();
  }
  Status Start(const std::string& cert, const std::string& key) {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    server_ = std::make_unique<HttpServer>(
        loop_, options, [](HttpRequest req, Respond respond) { respond(Echo(req)); });
    GPUAAS_RETURN_IF_ERROR(server_->Start());
    runner_ = std::thread([this] { loop_.Run(); });
    return Status::Ok();
  }
  void StartServer() {
    Status st = Start(certs_.Cert("server"), certs_.Key("server"));
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  std::string Url(const std::string& scheme = "https", const std::string& host = "127.0.0.1") {
    return scheme + "://" + host + ":" + std::to_string(server_->port());
  }

  CertDir certs_;
  EventLoop loop_;
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
};

TEST_F(HttpsTest, AClientThatTrustsTheCertificateGetsAnswersOnOneConnection) {
  StartServer();
  HttpClient client(Url());
  client.set_ca_file(certs_.Cert("server"));
  std::string remote;
  for (int i = 0; i < 3; ++i) {
    auto res = client.Request("POST", "/api/v1/jobs?n=" + std::to_string(i), "{\"gpus\":2}");
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "POST /api/v1/jobs?n=" + std::to_string(i) + " {\"gpus\":2}");
    // Kept alive: one TLS handshake, the same client port every time.
    if (i == 0) remote = RemoteOf(*res);
    EXPECT_EQ(RemoteOf(*res), remote);
  }
  EXPECT_FALSE(remote.empty());
  // A name in the certificate works as well as its address (and is sent as SNI).
  HttpClient by_name(Url("https", "localhost"));
  by_name.set_ca_file(certs_.Cert("server"));
  auto res = by_name.Request("GET", "/x");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "GET /x ");
}

TEST_F(HttpsTest, AnUntrustedCertificateIsRefusedWithAReadableMessage) {
  StartServer();
  HttpClient client(Url());  // the system's CAs: they never signed this test certificate
  auto res = client.Request("GET", "/");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), Code::kUnavailable);
  const std::string& msg = res.status().message();
  EXPECT_NE(msg.find("cannot reach " + Url() + ": TLS handshake failed: certificate verify failed"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("--ca-file"), std::string::npos) << msg;
  // The server is not hurt by the failed handshake.
  HttpClient trusting(Url());
  trusting.set_ca_file(certs_.Cert("server"));
  EXPECT_TRUE(trusting.Request("GET", "/").ok());
}

TEST_F(HttpsTest, ACertificateForAnotherNameIsRefusedUnlessPinned) {
  certs_.Make("other", "DNS:other.example");
  Status st = Start(certs_.Cert("other"), certs_.Key("other"));
  ASSERT_TRUE(st.ok()) << st.ToString();
  HttpClient by_ca(Url());
  by_ca.set_ca_file(certs_.Cert("other"));  // trusted, but it does not name 127.0.0.1
  auto refused = by_ca.Request("GET", "/");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("TLS handshake failed"), std::string::npos);

  HttpClient pinned(Url());
  pinned.set_pinned_cert_file(certs_.Cert("other"));
  auto res = pinned.Request("GET", "/pinned");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "GET /pinned ");

  certs_.Make("third", "IP:127.0.0.1");
  HttpClient wrong_pin(Url());
  wrong_pin.set_pinned_cert_file(certs_.Cert("third"));  // valid for the address, not the pin
  auto wrong = wrong_pin.Request("GET", "/");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("TLS handshake failed"), std::string::npos);
}

TEST_F(HttpsTest, PlainHttpToTheTlsPortIsToldToUseHttpsAndTheOtherWayRoundFails) {
  StartServer();
  HttpClient plain(Url("http"));
  auto res = plain.Request("GET", "/api/v1/jobs", "", {}, 10'000);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("\"bad_request\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("use https://"), std::string::npos) << res->body;
  // Bytes that are neither TLS nor HTTP: the connection is closed, and the server goes on.
  {
    asio::io_context ioc;
    tcp::socket raw(ioc);
    raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    asio::write(raw, asio::buffer(std::string("\x01\x02garbage")));
    std::string out;
    boost::system::error_code ec;
    asio::read(raw, asio::dynamic_buffer(out), ec);
    EXPECT_TRUE(out.empty()) << out;
  }
  HttpClient trusting(Url());
  trusting.set_ca_file(certs_.Cert("server"));
  EXPECT_TRUE(trusting.Request("GET", "/").ok());

  // An HTTPS client against a plain-HTTP server.
  EventLoop loop;
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  HttpServer http_only(loop, options, [](HttpRequest req, Respond respond) { respond(Echo(req)); });
  ASSERT_TRUE(http_only.Start().ok());
  std::thread runner([&] { loop.Run(); });
  HttpClient tls("https://127.0.0.1:" + std::to_string(http_only.port()));
  tls.set_ca_file(certs_.Cert("server"));
  auto wrong = tls.Request("GET", "/", "", {}, 10'000);
  loop.Stop();
  runner.join();
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("TLS handshake failed"), std::string::npos)
      << wrong.status().message();
}

TEST_F(HttpsTest, TheServerRefusesToStartWithBadCertificateFiles) {
  certs_.Make("other", "DNS:other.example");
  struct Case {
    std::string cert, key, expect;
  };
  { std::ofstream(certs_.Path("garbage.pem")) << "not a certificate\n"; }
  const std::vector<Case> cases = {
      {certs_.Path("missing.crt"), certs_.Key("server"), "cannot load the TLS certificate chain"},
      {certs_.Path("garbage.pem"), certs_.Key("server"), "cannot load the TLS certificate chain"},
      {certs_.Cert("server"), certs_.Path("missing.key"), "cannot load the TLS private key"},
      {certs_.Cert("server"), certs_.Key("other"), "cannot load the TLS private key"},
      {certs_.Cert("server"), "", "both a certificate file and a key file"},
  };
  for (const Case& c : cases) {
    EventLoop loop;
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls_cert_file = c.cert;
    options.tls_key_file = c.key;
    HttpServer server(loop, options, [](HttpRequest req, Respond respond) { respond(Echo(req)); });
    Status st = server.Start();
    ASSERT_FALSE(st.ok()) << c.cert << " " << c.key;
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << st.message();
  }
}

TEST_F(HttpsTest, BadTrustFilesAreClearErrorsAtTheFirstRequest) {
  StartServer();
  HttpClient no_ca(Url());
  no_ca.set_ca_file(certs_.Path("missing.pem"));
  auto a = no_ca.Request("GET", "/");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("cannot load CA certificates from"), std::string::npos);
  HttpClient no_pin(Url());
  no_pin.set_pinned_cert_file(certs_.Path("missing.pem"));
  auto b = no_pin.Request("GET", "/");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("cannot read the pinned certificate"), std::string::npos);
}

TEST_F(HttpsTest, ATunnelRelaysBetweenATlsClientAndAPlainUpstream) {
  // The upstream (a notebook server): answers the upgrade with 101, then echoes one chunk.
  asio::io_context up_ioc;
  tcp::acceptor acceptor(up_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int up_port = acceptor.local_endpoint().port();
  std::string up_head;
  std::thread upstream([&] {
    tcp::socket s(up_ioc);
    acceptor.accept(s);
    std::string buf;
    const size_t n = asio::read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n");
    up_head = buf.substr(0, n);
    asio::write(s, asio::buffer(std::string("HTTP/1.1 101 Switching Protocols\r\n\r\n")));
    char chunk[64];
    const size_t m = s.read_some(asio::buffer(chunk));
    asio::write(s, asio::buffer("echo:" + std::string(chunk, m)));
  });
  HttpServerOptions options;
  options.listen = "127.0.0.1:0";
  options.tls_cert_file = certs_.Cert("server");
  options.tls_key_file = certs_.Key("server");
  server_ = std::make_unique<HttpServer>(loop_, options, [up_port](HttpRequest, Respond respond) {
    HttpTunnel t;
    t.port = up_port;
    t.target = "/ws";
    t.headers = {{"Host", "127.0.0.1"}, {"Upgrade", "test"}, {"Connection", "Upgrade"}};
    respond(TunnelResponse(std::move(t)));
  });
  ASSERT_TRUE(server_->Start().ok());
  runner_ = std::thread([this] { loop_.Run(); });

  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(certs_.Cert("server"));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket> client(ioc, ctx);
  client.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  client.handshake(asio::ssl::stream_base::client);
  asio::write(client, asio::buffer(std::string("GET /notebook/ws HTTP/1.1\r\nHost: x\r\n"
                                               "Upgrade: test\r\nConnection: Upgrade\r\n\r\n")));
  std::string in;
  asio::read_until(client, asio::dynamic_buffer(in), "\r\n\r\n");
  EXPECT_EQ(in.rfind("HTTP/1.1 101", 0), 0u) << in;
  asio::write(client, asio::buffer(std::string("hello")));
  asio::read_until(client, asio::dynamic_buffer(in), "echo:hello");
  EXPECT_NE(in.find("echo:hello"), std::string::npos);
  upstream.join();
  EXPECT_EQ(up_head.rfind("GET /ws HTTP/1.1\r\n", 0), 0u) << up_head;
}

}  // namespace
}  // namespace gpuaas::net
