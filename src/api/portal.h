// The web portal's server side: serves the built single-page app (web/dist, copied to
// build/web by `make build`) at `/`, and answers every GET/HEAD that is not an API path with
// index.html (client-side routes). API paths (/api, /healthz, /readyz, /metrics, /notebooks)
// always reach the API handler, so the portal can never shadow them.
// The session endpoints (POST/DELETE /api/v1/session) and GET /api/v1/classes are API routes,
// registered by RegisterApi (routes_portal.cc).
// Thread-safety: the returned handler only reads files and its immutable options; it may run
// on any thread. Preconditions: `api` outlives the handler.
#pragma once

#include <string>

#include "net/http_types.h"

namespace gpuaas::api {

struct PortalOptions {
  std::string web_dir;  // directory holding index.html and assets/ ("" = portal disabled)
};

// Paths that belong to the API and are never answered with portal files.
bool IsApiPath(const std::string& path);

// A handler that serves the portal's files for GET/HEAD of non-API paths and passes everything
// else to `api`.
net::Handler WithPortal(net::Handler api, PortalOptions options);

// The content type of a file, from its extension ("application/octet-stream" if unknown).
std::string ContentTypeFor(const std::string& path);

}  // namespace gpuaas::api
