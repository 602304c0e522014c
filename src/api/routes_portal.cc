// The portal's routes: the session cookie endpoints, the GPU class catalogue, and the static
// files of the single-page app (see api/portal.h).
#include <sys/stat.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "api/dto.h"
#include "api/handler_support.h"
#include "api/portal.h"
#include "api/routes.h"

namespace gpuaas::api {
namespace {

constexpr const char* kSecurityHeaders[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
};
constexpr const char* kCsp =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Reads a regular file; nullopt if it is missing or not a regular file.
std::optional<std::string> ReadFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The file a URL path names inside the web dir, or "" when the path is unsafe (.., hidden).
std::string SafeRelative(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos ||
      path.find('\\') != std::string::npos) {
    return "";
  }
  std::string rel;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    if (!seg.empty()) {
      if (seg[0] == '.') return "";  // "..", ".", hidden files
      if (!rel.empty()) rel += '/';
      rel += seg;
    }
    i = j + 1;
  }
  return rel;
}

net::HttpResponse FileResponse(std::string body, const std::string& name, bool immutable) {
  net::HttpResponse res;
  res.status = 200;
  res.content_type = ContentTypeFor(name);
  res.body = std::move(body);
  res.headers.emplace_back("Cache-Control",
                           immutable ? "public, max-age=31536000, immutable" : "no-cache");
  for (const auto& h : kSecurityHeaders) res.headers.emplace_back(h[0], h[1]);
  if (StartsWith(res.content_type, "text/html"))
    res.headers.emplace_back("Content-Security-Policy", kCsp);
  return res;
}

net::HttpResponse PlainResponse(int status, const std::string& text) {
  net::HttpResponse res;
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body = text;
  res.headers.emplace_back("Cache-Control", "no-cache");
  return res;
}

net::HttpResponse ServePortal(const PortalOptions& o, const std::string& path) {
  if (o.web_dir.empty()) return PlainResponse(404, "the web portal is disabled\n");
  std::string rel = SafeRelative(path);
  if (rel.empty() && path != "/" && !path.empty()) return PlainResponse(404, "not found\n");
  if (!rel.empty()) {
    if (auto body = ReadFile(o.web_dir + "/" + rel)) {
      // Vite names everything under assets/ by content hash: cache it for good.
      return FileResponse(std::move(*body), rel, StartsWith(rel, "assets/"));
    }
    // A missing file (it has an extension, or lives under assets/) is a 404; any other path
    // is a client-side route of the app.
    std::string last = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
    if (StartsWith(rel, "assets/") || last.find('.') != std::string::npos) {
      return PlainResponse(404, "not found\n");
    }
  }
  if (auto index = ReadFile(o.web_dir + "/index.html")) {
    return FileResponse(std::move(*index), "index.html", false);
  }
  return PlainResponse(
      404, "the web portal is not built (no index.html in " + o.web_dir + "): run `make build`\n");
}

}  // namespace

bool IsApiPath(const std::string& path) {
  for (const char* p : {"/api", "/healthz", "/readyz", "/metrics", "/notebooks"}) {
    if (StartsWith(path, p)) {
      char next = path.size() > std::strlen(p) ? path[std::strlen(p)] : '/';
      if (next == '/' || next == '?') return true;
    }
  }
  return false;
}

std::string ContentTypeFor(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  size_t dot = path.rfind('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) {
    return "application/octet-stream";
  }
  std::string ext = path.substr(dot);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  return "application/octet-stream";
}

net::Handler WithPortal(net::Handler api, PortalOptions options) {
  return [api = std::move(api), options = std::move(options)](net::HttpRequest&& req,
                                                              net::Respond respond) {
    if ((req.method == "GET" || req.method == "HEAD") && !IsApiPath(req.path)) {
      return respond(ServePortal(options, req.path));
    }
    api(std::move(req), std::move(respond));
  };
}

void RegisterPortalRoutes(net::Router& r, Platform& p) {
  r.Add("POST", "/api/v1/session", [&p](net::HttpRequest&& req, net::Respond respond) {
    if (!p.ready()) return respond(ErrorOf(Unavailable("the server is starting")));
    auto body = ParseObject(req.body);
    if (!body.ok()) return respond(ErrorOf(body.status()));
    auto token = GetString(*body, "token");
    if (!token.ok()) return respond(ErrorOf(token.status()));
    if (!*token || !PlausibleToken(**token)) {
      return respond(ErrorOf(Unauthenticated("a valid token is required")));
    }
    auto who = p.Authenticate(**token);
    if (!who.ok()) return respond(ErrorOf(who.status()));
    if (who->agent) return respond(ErrorOf(Unauthenticated("not a user token")));
    const User* u = p.FindUserById(who->user);
    const Entity* e = p.FindEntityById(who->entity);
    json::object o{{"user", u ? json::value(UserJson(*u, p)) : json::value(nullptr)},
                   {"entity", e ? json::value(EntityJson(*e)) : json::value(nullptr)}};
    net::HttpResponse res = JsonResponse(200, o);
    res.headers.emplace_back(
        "Set-Cookie", SessionCookieHeader(**token, false, !p.config().tls_cert_file.empty()));
    res.headers.emplace_back("Cache-Control", "no-store");
    respond(std::move(res));
  });
  // Sign-out: the cookie is cleared; a session made by a single sign-on or a device login is
  // revoked too (a token pasted at sign-in is left alone: it may serve the CLI and scripts). The
  // session is the cookie's, or the bearer token's (`gpuaas logout`).
  r.Add("DELETE", "/api/v1/session", [&p](net::HttpRequest&& req, net::Respond respond) {
    auto answer = [&p, respond = std::move(respond)](auto&&) {
      net::HttpResponse res;
      res.status = 204;
      res.content_type = "";
      res.headers.emplace_back("Set-Cookie",
                               SessionCookieHeader("", true, !p.config().tls_cert_file.empty()));
      respond(std::move(res));
    };
    const std::string token = RequestToken(req);
    if (!p.ready() || !PlausibleToken(token)) return answer(false);
    p.EndSession(token, std::move(answer));
  });
  r.Add("GET", "/api/v1/classes",
        Authed(p, [&p](const Principal&, net::HttpRequest&&, net::Respond respond) {
          json::array classes;
          for (const GpuClass& c : p.config().classes) {
            classes.push_back(json::object{{"name", c.name},
                                           {"model", c.model},
                                           {"memory_mb", c.memory_mb},
                                           {"hourly_rate", Money(p.prices().HourlyRate(c.name))},
                                           {"speed", c.speed}});
          }
          respond(JsonResponse(200, json::object{{"classes", std::move(classes)}}));
        }));
}

}  // namespace gpuaas::api
