#include "api/handler_support.h"

#include <charconv>

namespace gpuaas::api {

std::string BearerToken(const net::HttpRequest& req) {
  const std::string& h = req.Header("authorization");
  if (h.size() > 7 && (h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0)) {
    return h.substr(7);
  }
  return "";
}

net::Handler Authed(Platform& platform, AuthedHandler h) {
  return [&platform, h = std::move(h)](net::HttpRequest&& req, net::Respond respond) {
    if (!platform.ready()) return respond(ErrorOf(Unavailable("the server is starting")));
    auto who = platform.Authenticate(BearerToken(req));
    if (!who.ok()) return respond(ErrorOf(who.status()));
    h(who.value(), std::move(req), std::move(respond));
  };
}

std::optional<int64_t> PathId(const net::HttpRequest& req, const char* name) {
  auto it = req.params.find(name);
  if (it == req.params.end()) return std::nullopt;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace gpuaas::api
