// Router, ErrorResponse, HttpRequest::Header and the wire helpers, without sockets.
#include "net/router.h"

#include <gtest/gtest.h>

#include <optional>

#include "net/http_wire.h"

namespace gpuaas::net {
namespace {

HttpRequest Req(std::string method, std::string path) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.target = req.path;
  return req;
}

// Dispatches synchronously and returns the response (routes here always answer at once).
HttpResponse Call(const Router& router, HttpRequest req) {
  std::optional<HttpResponse> out;
  router.Dispatch(std::move(req), [&](HttpResponse res) { out = std::move(res); });
  EXPECT_TRUE(out.has_value());
  return out.value_or(HttpResponse{});
}

Handler Reply(std::string text) {
  return [text](HttpRequest&& req, Respond respond) {
    HttpResponse res;
    res.body = text;
    for (const auto& [k, v] : req.params) res.body += "|" + k + "=" + v;
    respond(std::move(res));
  };
}

TEST(RouterTest, MatchesLiteralsAndCaptures) {
  Router router;
  router.Add("GET", "/api/v1/jobs", Reply("list"));
  router.Add("GET", "/api/v1/jobs/{id}", Reply("get"));
  router.Add("GET", "/api/v1/jobs/{id}/logs", Reply("logs"));
  router.Add("POST", "/api/v1/jobs/{id}/cancel", Reply("cancel"));
  EXPECT_EQ(Call(router, Req("GET", "/api/v1/jobs")).body, "list");
  EXPECT_EQ(Call(router, Req("GET", "/api/v1/jobs/")).body, "list");
  EXPECT_EQ(Call(router, Req("GET", "/api/v1/jobs/42")).body, "get|id=42");
  EXPECT_EQ(Call(router, Req("GET", "/api/v1/jobs/42/logs")).body, "logs|id=42");
  EXPECT_EQ(Call(router, Req("POST", "/api/v1/jobs/7/cancel")).body, "cancel|id=7");
}

TEST(RouterTest, FirstRegisteredRouteWins) {
  Router router;
  router.Add("GET", "/things/mine", Reply("literal"));
  router.Add("GET", "/things/{id}", Reply("capture"));
  EXPECT_EQ(Call(router, Req("GET", "/things/mine")).body, "literal");
  EXPECT_EQ(Call(router, Req("GET", "/things/other")).body, "capture|id=other");
}

TEST(RouterTest, UnknownPathIs404InContractShape) {
  Router router;
  router.Add("GET", "/api/v1/jobs/{id}", Reply("get"));
  for (const char* path : {"/", "/api/v1/jobs", "/api/v1/jobs/1/extra", "/api/v2/jobs/1"}) {
    HttpResponse res = Call(router, Req("GET", path));
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(res.content_type, "application/json");
    EXPECT_EQ(res.body.rfind(R"({"error":{"code":"not_found","message":")", 0), 0u) << res.body;
  }
}

TEST(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  Router router;
  router.Add("GET", "/api/v1/jobs", Reply("list"));
  router.Add("POST", "/api/v1/jobs", Reply("submit"));
  router.Add("DELETE", "/api/v1/jobs/{id}", Reply("del"));
  HttpResponse res = Call(router, Req("PUT", "/api/v1/jobs"));
  EXPECT_EQ(res.status, 405);
  EXPECT_NE(res.body.find(R"("code":"method_not_allowed")"), std::string::npos) << res.body;
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].first, "Allow");
  EXPECT_EQ(res.headers[0].second, "GET, POST");
}

TEST(RouterTest, HeadFallsBackToGet) {
  Router router;
  router.Add("GET", "/health", Reply("ok"));
  EXPECT_EQ(Call(router, Req("HEAD", "/health")).body, "ok");
  EXPECT_EQ(Call(router, Req("POST", "/health")).status, 405);
}

TEST(RouterTest, AsHandlerDispatches) {
  Router router;
  router.Add("GET", "/x/{a}/{b}", Reply("x"));
  Handler handler = router.AsHandler();
  std::optional<HttpResponse> out;
  handler(Req("GET", "/x/1/2"), [&](HttpResponse res) { out = std::move(res); });
  ASSERT_TRUE(out);
  EXPECT_EQ(out->body, "x|a=1|b=2");
}

TEST(ErrorResponseTest, EscapesJsonStrings) {
  HttpResponse res = ErrorResponse(400, "bad_request", "say \"hi\"\\ \n\t\x01 é");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, R"({"error":{"code":"bad_request","message":"say \"hi\"\\ \n\t\u0001 é"}})");
}

TEST(HttpRequestTest, HeaderFindsFirstOrEmpty) {
  HttpRequest req;
  req.headers = {{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}};
  EXPECT_EQ(req.Header("x-a"), "1");
  EXPECT_EQ(req.Header("x-b"), "2");
  EXPECT_EQ(req.Header("x-c"), "");
}

TEST(HttpWireTest, ParseTargetDecodesPathAndQuery) {
  HttpRequest req;
  req.target = "/a%20b/c?name=jane%2Ddoe&q=a+b&x=1&x=2&flag";
  ASSERT_TRUE(ParseTarget(req).ok());
  EXPECT_EQ(req.path, "/a b/c");
  EXPECT_EQ(req.query.at("name"), "jane-doe");
  EXPECT_EQ(req.query.at("q"), "a b");
  EXPECT_EQ(req.query.at("x"), "2");
  EXPECT_EQ(req.query.at("flag"), "");
  EXPECT_EQ(req.query.size(), 4u);
}

TEST(HttpWireTest, ParseTargetRejectsNonOriginForm) {
  for (const char* target : {"*", "http://example.com/x", "a/b", "/bad%zz"}) {
    HttpRequest req;
    req.target = target;
    EXPECT_FALSE(ParseTarget(req).ok()) << target;
  }
}

TEST(HttpWireTest, ResponseHead) {
  HttpResponse res;
  res.status = 201;
  res.body = "{}";
  res.headers = {{"Location", "/x"}, {"Bad", "a\r\nInjected: 1"}, {"Content-Length", "99"}};
  std::string head;
  AppendResponseHead(head, res, /*close=*/true, false);
  EXPECT_EQ(head,
            "HTTP/1.1 201 Created\r\nServer: gpuaas\r\nContent-Type: application/json\r\n"
            "Content-Length: 2\r\nConnection: close\r\nLocation: /x\r\n\r\n");

  HttpResponse empty;
  empty.status = 204;
  head.clear();
  AppendResponseHead(head, empty, false, /*keep_alive_http10=*/true);
  EXPECT_EQ(head, "HTTP/1.1 204 No Content\r\nServer: gpuaas\r\nConnection: keep-alive\r\n\r\n");
}

}  // namespace
}  // namespace gpuaas::net
