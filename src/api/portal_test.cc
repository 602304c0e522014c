// Tests of the portal's static file serving and the session cookie parsing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "api/handler_support.h"
#include "api/portal.h"

namespace gpuaas::api {
namespace {

class PortalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gpuaas-portal-test-XXXXXX";
    char* p = mkdtemp(tmpl);
    ASSERT_NE(p, nullptr);
    dir_ = p;
    std::filesystem::create_directories(dir_ + "/assets");
    Write("index.html", "<!doctype html><title>portal</title>");
    Write("assets/app-1234.js", "console.log(1)");
    Write("favicon.svg", "<svg/>");
    Write(".secret", "no");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& body) {
    std::ofstream(dir_ + "/" + rel) << body;
  }
  // Runs the portal handler; `api_calls` counts requests passed to the API.
  net::HttpResponse Get(const std::string& path, const std::string& method = "GET") {
    net::Handler h = WithPortal(
        [this](net::HttpRequest&&, net::Respond r) {
          ++api_calls_;
          net::HttpResponse res;
          res.status = 299;
          r(std::move(res));
        },
        PortalOptions{dir_});
    net::HttpRequest req;
    req.method = method;
    req.path = path;
    req.target = path;
    net::HttpResponse out;
    h(std::move(req), [&out](net::HttpResponse r) { out = std::move(r); });
    return out;
  }
  static std::string HeaderOf(const net::HttpResponse& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "";
  }

  std::string dir_;
  int api_calls_ = 0;
};

TEST_F(PortalTest, ServesIndexAtRootAndForClientRoutes) {
  for (const char* path : {"/", "/jobs/12", "/operators", "/entity/"}) {
    auto r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
    EXPECT_NE(r.body.find("<title>portal</title>"), std::string::npos) << path;
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache") << path;
    EXPECT_FALSE(HeaderOf(r, "Content-Security-Policy").empty()) << path;
  }
  EXPECT_EQ(api_calls_, 0);
}

TEST_F(PortalTest, HashedAssetsAreCachedForGood) {
  auto r = Get("/assets/app-1234.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "console.log(1)");
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "public, max-age=31536000, immutable");
  auto svg = Get("/favicon.svg", "HEAD");
  EXPECT_EQ(svg.status, 200);
  EXPECT_EQ(svg.content_type, "image/svg+xml");
  EXPECT_EQ(HeaderOf(svg, "Cache-Control"), "no-cache");
}

TEST_F(PortalTest, MissingFilesAndUnsafePathsAre404) {
  EXPECT_EQ(Get("/assets/missing.js").status, 404);
  EXPECT_EQ(Get("/missing.png").status, 404);
  EXPECT_EQ(Get("/.secret").status, 404);
  EXPECT_EQ(Get("/assets/../.secret").status, 404);
  EXPECT_EQ(Get("/../etc/passwd").status, 404);
}

TEST_F(PortalTest, NeverShadowsTheApi) {
  for (const char* path : {"/api/v1/jobs", "/api", "/healthz", "/readyz", "/metrics",
                           "/notebooks/3/", "/notebooks/3/api/kernels"}) {
    EXPECT_EQ(Get(path).status, 299) << path;
  }
  EXPECT_EQ(Get("/", "POST").status, 299);  // only GET/HEAD are portal requests
  EXPECT_EQ(api_calls_, 8);
  // Look-alike paths are portal routes.
  EXPECT_EQ(Get("/apis").status, 200);
  EXPECT_EQ(Get("/metricsboard").status, 200);
}

TEST(PortalPaths, ContentTypes) {
  EXPECT_EQ(ContentTypeFor("a/b.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("x.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("noext"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("dir.v2/noext"), "application/octet-stream");
}

net::HttpRequest WithHeaders(std::string method,
                             std::vector<std::pair<std::string, std::string>> headers) {
  net::HttpRequest req;
  req.method = std::move(method);
  req.headers = std::move(headers);
  return req;
}

TEST(SessionCookie, ReadFromCookieHeader) {
  auto req = WithHeaders("GET", {{"cookie", "a=1; gpuaas_session=gpa_abc; b=2"}});
  EXPECT_EQ(SessionToken(req), "gpa_abc");
  EXPECT_EQ(RequestToken(req), "gpa_abc");
  EXPECT_EQ(SessionToken(WithHeaders("GET", {{"cookie", "xgpuaas_session=1"}})), "");
}

TEST(SessionCookie, BearerWinsAndCrossOriginWritesIgnoreTheCookie) {
  auto both =
      WithHeaders("POST", {{"authorization", "Bearer gpa_t"}, {"cookie", "gpuaas_session=gpa_c"}});
  EXPECT_EQ(RequestToken(both), "gpa_t");
  auto same = WithHeaders("POST", {{"host", "127.0.0.1:8080"},
                                   {"origin", "http://127.0.0.1:8080"},
                                   {"cookie", "gpuaas_session=gpa_c"}});
  EXPECT_EQ(RequestToken(same), "gpa_c");
  auto cross = WithHeaders("POST", {{"host", "127.0.0.1:8080"},
                                    {"origin", "http://evil.example"},
                                    {"cookie", "gpuaas_session=gpa_c"}});
  EXPECT_EQ(RequestToken(cross), "");
  cross.method = "GET";
  EXPECT_EQ(RequestToken(cross), "gpa_c");
}

}  // namespace
}  // namespace gpuaas::api
