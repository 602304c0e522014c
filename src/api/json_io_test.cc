#include "api/json_io.h"

#include <gtest/gtest.h>

#include <string>

namespace gpuaas::api {
namespace {

std::string Header(const net::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(ErrorOf, AnswersTheContractsShapeAndSaysWhenToRetry) {
  net::HttpResponse busy = ErrorOf(ResourceExhausted("forecasts are already being computed"));
  EXPECT_EQ(busy.status, 429);
  EXPECT_NE(busy.body.find("\"code\":\"rate_limited\""), std::string::npos) << busy.body;
  EXPECT_EQ(Header(busy, "Retry-After"), "5");

  net::HttpResponse starting = ErrorOf(Unavailable("the server is starting"));
  EXPECT_EQ(starting.status, 503);
  EXPECT_EQ(Header(starting, "Retry-After"), "1");

  net::HttpResponse bad = ErrorOf(InvalidArgument("'gpus' must be an integer"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("'gpus' must be an integer"), std::string::npos) << bad.body;
  EXPECT_EQ(Header(bad, "Retry-After"), "");
}

}  // namespace
}  // namespace gpuaas::api
