// Router: segment matching without allocations on the hot path (segments are string_views into
// the request path); captures are copied only for the route that matched.
#include "net/router.h"

#include <cstdio>
#include <string_view>
#include <utility>

namespace gpuaas::net {
namespace {

// Returns the next non-empty segment of `rest` and advances it; "" when none is left. Empty
// segments ("//", a trailing "/") are skipped, so "/jobs/" matches "/jobs".
std::string_view NextSegment(std::string_view& rest) {
  size_t start = rest.find_first_not_of('/');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find('/');
  std::string_view seg = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return seg;
}

bool IsCapture(const std::string& seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// Whether `path` matches `segments`; fills `params` only when `params` is not null.
bool Match(const std::vector<std::string>& segments, std::string_view path,
           std::map<std::string, std::string>* params) {
  for (const std::string& want : segments) {
    std::string_view got = NextSegment(path);
    if (got.empty()) return false;
    if (IsCapture(want)) {
      if (params) (*params)[want.substr(1, want.size() - 2)] = std::string(got);
    } else if (got != want) {
      return false;
    }
  }
  return NextSegment(path).empty();
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;  // UTF-8 bytes pass through unchanged
        }
    }
  }
  out += '"';
}

}  // namespace

void Router::Add(const std::string& method, const std::string& pattern, Handler handler) {
  Route route;
  route.method = method;
  std::string_view rest = pattern;
  for (std::string_view seg = NextSegment(rest); !seg.empty(); seg = NextSegment(rest)) {
    route.segments.emplace_back(seg);
  }
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::Dispatch(HttpRequest&& req, Respond respond) const {
  const Route* found = nullptr;
  const Route* head_fallback = nullptr;  // a GET route serves HEAD when no HEAD route exists
  std::string allowed;
  for (const Route& route : routes_) {
    if (!Match(route.segments, req.path, nullptr)) continue;
    if (route.method == req.method) {
      found = &route;
      break;
    }
    if (req.method == "HEAD" && route.method == "GET" && !head_fallback) head_fallback = &route;
    if (allowed.find(route.method) == std::string::npos) {
      if (!allowed.empty()) allowed += ", ";
      allowed += route.method;
    }
  }
  if (!found) found = head_fallback;
  if (!found) {
    if (allowed.empty()) {
      respond(ErrorResponse(404, "not_found", "no route for " + req.path));
    } else {
      HttpResponse res =
          ErrorResponse(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
      res.headers.emplace_back("Allow", std::move(allowed));
      respond(std::move(res));
    }
    return;
  }
  Match(found->segments, req.path, &req.params);
  found->handler(std::move(req), std::move(respond));
}

Handler Router::AsHandler() const {
  return
      [this](HttpRequest&& req, Respond respond) { Dispatch(std::move(req), std::move(respond)); };
}

HttpResponse ErrorResponse(int status, const std::string& code, const std::string& message) {
  HttpResponse res;
  res.status = status;
  res.body.reserve(40 + code.size() + message.size());
  res.body += "{\"error\":{\"code\":";
  AppendJsonString(res.body, code);
  res.body += ",\"message\":";
  AppendJsonString(res.body, message);
  res.body += "}}";
  return res;
}

}  // namespace gpuaas::net
