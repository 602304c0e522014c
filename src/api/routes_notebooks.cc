// /notebooks/{id}/... : the authenticated proxy in front of each running Jupyter notebook
// (docs/notebooks.md), and the idle check that reads each notebook's kernels through the same
// forwarding. The caller authenticates with a Bearer token or the portal's session cookie;
// another entity's notebook is a 404 like the API's. The notebook's own token is added here,
// so users never see it. Upstreams are on 127.0.0.1 (embedded agents only for now).
// Handlers run on the server's loop; forwards run on the HttpForwarder's workers; WebSocket
// upgrades are answered with an HttpTunnel that the HttpServer relays on its loop.
#include <cstdlib>
#include <memory>

#include "api/handler_support.h"
#include "api/routes.h"
#include "base/log.h"
#include "base/time.h"
#include "net/proxy.h"

namespace gpuaas::api {
namespace {

constexpr int kMaxDepth = 16;  // path segments after /notebooks/{id}

struct NotebookService {
  explicit NotebookService(Platform& p) : platform(p) {}
  Platform& platform;
  net::HttpForwarder forwarder;
};

// The Cookie header without the portal's session cookie (it must not reach Jupyter).
std::string StripSessionCookie(const std::string& cookie) {
  std::string out;
  size_t i = 0;
  while (i < cookie.size()) {
    size_t j = cookie.find(';', i);
    if (j == std::string::npos) j = cookie.size();
    std::string part = cookie.substr(i, j - i);
    size_t b = part.find_first_not_of(' ');
    part = b == std::string::npos ? "" : part.substr(b);
    if (!part.empty() && part.rfind(std::string(kSessionCookie) + "=", 0) != 0) {
      if (!out.empty()) out += "; ";
      out += part;
    }
    i = j + 1;
  }
  return out;
}

// Jupyter's "2026-11-24T11:30:00.123456Z" -> Millis (0 when unreadable).
Millis ParseJupyterTime(std::string s) {
  size_t dot = s.find('.');
  if (dot != std::string::npos) {
    size_t end = s.find_first_not_of("0123456789", dot + 1);
    std::string frac = s.substr(dot + 1, (end == std::string::npos ? s.size() : end) - dot - 1);
    frac = (frac + "000").substr(0, 3);
    s = s.substr(0, dot + 1) + frac + (end == std::string::npos ? "Z" : s.substr(end));
  }
  if (s.find('+') != std::string::npos && s.size() >= 6 && s.substr(s.size() - 6) == "+00:00") {
    s = s.substr(0, s.size() - 6) + "Z";
  }
  auto t = ParseRfc3339(s);
  return t.ok() ? *t : 0;
}

// An Upgrade request (Jupyter's kernel and terminal WebSockets): the server tunnels the
// connection to Jupyter after the same authorisation as HTTP. A browser always sends Origin on
// a WebSocket; with the session cookie, it must be this server (else anyone's page could open
// a socket with the user's cookie: cross-site WebSocket hijacking).
net::HttpResponse Upgrade(Platform& platform, const Platform::NotebookTarget& t,
                          const net::HttpRequest& req) {
  if (req.method != "GET") {
    return net::ErrorResponse(400, "bad_request", "an Upgrade request must be a GET");
  }
  const std::string& origin = req.Header("origin");
  if (BearerToken(req).empty() && !origin.empty()) {
    size_t scheme = origin.find("://");
    std::string host = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
    if (host != req.Header("host")) {
      return net::ErrorResponse(403, "forbidden",
                                "cross-origin WebSocket with the session cookie is refused");
    }
  }
  net::HttpTunnel tunnel;
  tunnel.host = t.host;
  tunnel.port = t.port;
  tunnel.method = req.method;
  tunnel.target = req.target;
  tunnel.headers.emplace_back("Host", t.host + ":" + std::to_string(t.port));
  tunnel.headers.emplace_back("Connection", "Upgrade");
  tunnel.headers.emplace_back("Upgrade", req.Header("upgrade"));
  for (const auto& [name, value] : req.headers) {
    if (net::HttpForwarder::IsHopByHop(name) || name == "authorization" || name == "origin" ||
        name == "referer") {
      continue;
    }
    if (name == "cookie") {
      std::string kept = StripSessionCookie(value);
      if (!kept.empty()) tunnel.headers.emplace_back("Cookie", kept);
      continue;
    }
    tunnel.headers.emplace_back(name, value);
  }
  tunnel.headers.emplace_back("Authorization", "token " + t.token);
  tunnel.headers.emplace_back("X-Forwarded-For", req.remote);
  // The socket outlives this request (a kernel's stays open for hours): it is closed within
  // seconds once the same checks would refuse the request (a revoked or expired token, a
  // disabled user, a notebook that stopped). Asked on the loop, the Platform's thread.
  tunnel.still_allowed = [&platform, token = RequestToken(req), job = t.job] {
    auto who = platform.Authenticate(token);
    return who.ok() && platform.NotebookFor(*who, job).ok();
  };
  return net::TunnelResponse(std::move(tunnel));
}

void Proxy(const std::shared_ptr<NotebookService>& svc, const Principal& who,
           net::HttpRequest&& req, net::Respond respond) {
  auto id = PathId(req, "id");
  if (!id) return respond(ErrorOf(NotFound("notebook does not exist")));
  auto target = svc->platform.NotebookFor(who, *id);
  if (!target.ok()) return respond(ErrorOf(target.status()));
  const std::string base = "/notebooks/" + std::to_string(*id);
  if (req.target == base || req.target.rfind(base + "?", 0) == 0) {
    net::HttpResponse res;
    res.status = 302;
    res.content_type = "";
    res.headers.emplace_back("Location", base + "/" + req.target.substr(base.size()));
    return respond(std::move(res));
  }
  if (!req.Header("upgrade").empty()) return respond(Upgrade(svc->platform, *target, req));
  net::ForwardRequest f;
  f.host = target->host;
  f.port = target->port;
  f.method = req.method;
  f.target = req.target;
  f.body = std::move(req.body);
  for (auto& [name, value] : req.headers) {
    if (net::HttpForwarder::IsHopByHop(name) || name == "authorization" || name == "origin" ||
        name == "referer" || name == "user-agent") {
      continue;
    }
    if (name == "cookie") {
      std::string kept = StripSessionCookie(value);
      if (!kept.empty()) f.headers.emplace_back("Cookie", kept);
      continue;
    }
    f.headers.emplace_back(name, value);
  }
  f.headers.emplace_back("Authorization", "token " + target->token);
  f.headers.emplace_back("X-Forwarded-For", req.remote);
  svc->forwarder.Forward(std::move(f), [respond](Result<net::HttpResponse> r) {
    if (!r.ok()) {
      return respond(net::ErrorResponse(502, "bad_gateway",
                                        "the notebook does not answer: " + r.status().message()));
    }
    respond(std::move(r.value()));
  });
}

// Reads one notebook's kernels and reports its last kernel activity to the Platform.
void Probe(const std::shared_ptr<NotebookService>& svc, const Platform::NotebookTarget& t) {
  auto get = [&](const std::string& path) {
    net::ForwardRequest f;
    f.host = t.host;
    f.port = t.port;
    f.method = "GET";
    f.target = "/notebooks/" + std::to_string(t.job) + path;
    f.headers.emplace_back("Authorization", "token " + t.token);
    f.timeout_ms = 10'000;
    return f;
  };
  std::weak_ptr<NotebookService> weak = svc;
  JobId job = t.job;
  svc->forwarder.Forward(get("/api/kernels"), [weak, job](Result<net::HttpResponse> r) {
    auto s = weak.lock();
    if (!s || !r.ok() || r->status != 200) return;  // unreachable: try again next time
    Millis last = 0;
    bool busy = false;
    try {
      json::value v = json::parse(r->body);
      for (const auto& k : v.as_array()) {
        const auto& o = k.as_object();
        if (auto* st = o.if_contains("execution_state"); st && st->is_string()) {
          busy = busy || st->as_string() == "busy";
        }
        if (auto* la = o.if_contains("last_activity"); la && la->is_string()) {
          last = std::max(last, ParseJupyterTime(std::string(la->as_string())));
        }
      }
    } catch (const std::exception& e) {
      GLOG_WARN("notebook {}: unreadable /api/kernels: {}", job, e.what());
      return;
    }
    s->platform.PostNotebookActivity(job, last, busy);
  });
}

// Environment variables read once at start override [notebooks] of the config file (kept for
// quick experiments; docs/notebooks.md).
void ApplyEnvironment(Platform& p) {
  Platform::NotebookConfig c = p.notebook_config();
  if (const char* v = std::getenv("GPUAAS_NOTEBOOK_IDLE_TIMEOUT")) {
    if (auto s = ParseDurationSeconds(v); s.ok() && *s > 0) c.idle_timeout_ms = *s * 1000;
  }
  if (const char* v = std::getenv("GPUAAS_NOTEBOOK_IDLE_CHECK")) {
    if (auto s = ParseDurationSeconds(v); s.ok() && *s > 0) c.idle_check_interval_ms = *s * 1000;
  }
  if (const char* v = std::getenv("GPUAAS_NOTEBOOK_PORTS")) {
    int lo = 0, hi = 0;
    if (std::sscanf(v, "%d-%d", &lo, &hi) == 2 && lo > 0 && lo <= hi && hi < 65536) {
      c.port_min = lo;
      c.port_max = hi;
    }
  }
  p.ConfigureNotebooks(c);
}

}  // namespace

void RegisterNotebookRoutes(net::Router& r, Platform& p) {
  ApplyEnvironment(p);
  auto svc = std::make_shared<NotebookService>(p);
  auto handler =
      Authed(p, [svc](const Principal& who, net::HttpRequest&& req, net::Respond respond) {
        Proxy(svc, who, std::move(req), std::move(respond));
      });
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    std::string pattern = "/notebooks/{id}";
    for (int depth = 0; depth <= kMaxDepth; ++depth) {
      r.Add(method, pattern, handler);
      pattern += "/{p" + std::to_string(depth) + "}";
    }
  }
  std::weak_ptr<NotebookService> weak = svc;
  p.StartNotebookIdleCheck([weak](std::vector<Platform::NotebookTarget> running) {
    auto s = weak.lock();
    if (!s) return;
    for (const auto& t : running) Probe(s, t);
  });
}

}  // namespace gpuaas::api
