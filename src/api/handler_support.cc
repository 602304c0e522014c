#include "api/handler_support.h"

#include <cctype>
#include <charconv>

namespace gpuaas::api {

std::string BearerToken(const net::HttpRequest& req) {
  const std::string& h = req.Header("authorization");
  if (h.size() > 7 && (h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0)) {
    return h.substr(7);
  }
  return "";
}

std::string SessionCookieHeader(const std::string& value, bool clear, bool secure) {
  std::string c = std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  if (clear) c += "; Max-Age=0";
  return c;
}

std::string SessionToken(const net::HttpRequest& req) {
  const std::string key = std::string(kSessionCookie) + "=";
  for (const auto& [name, value] : req.headers) {
    if (name != "cookie") continue;
    size_t pos = 0;
    while (pos < value.size()) {
      size_t end = value.find(';', pos);
      if (end == std::string::npos) end = value.size();
      size_t b = value.find_first_not_of(' ', pos);
      if (b != std::string::npos && b < end && value.compare(b, key.size(), key) == 0) {
        return value.substr(b + key.size(), end - b - key.size());
      }
      pos = end + 1;
    }
  }
  return "";
}

bool PlausibleToken(const std::string& t) {
  if (t.empty() || t.size() > 256) return false;
  for (char c : t) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string RequestToken(const net::HttpRequest& req) {
  std::string bearer = BearerToken(req);
  if (!bearer.empty()) return bearer;
  if (req.method != "GET" && req.method != "HEAD") {
    const std::string& origin = req.Header("origin");
    if (!origin.empty()) {
      size_t scheme = origin.find("://");
      std::string host = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
      if (host != req.Header("host")) return "";  // cross-origin: no ambient credentials
    }
  }
  return SessionToken(req);
}

net::Handler Authed(Platform& platform, AuthedHandler h) {
  return [&platform, h = std::move(h)](net::HttpRequest&& req, net::Respond respond) {
    if (!platform.ready()) return respond(ErrorOf(Unavailable("the server is starting")));
    auto who = platform.Authenticate(RequestToken(req));
    if (!who.ok()) return respond(ErrorOf(who.status()));
    h(who.value(), std::move(req), std::move(respond));
  };
}

Result<int64_t> QueryInt(const net::HttpRequest& req, const char* key, int64_t dflt) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty()) return dflt;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) {
    return InvalidArgument(std::string("query parameter '") + key +
                           "' must be a non-negative integer");
  }
  return v;
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
