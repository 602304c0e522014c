// The audit trail's API side (docs/operations.md "Audit trail", docs/adr/0018).
// WithAudit wraps the API handler: every request that may change state (any method but GET,
// HEAD and OPTIONS, and the single sign-on's GET callback and logout), and every request refused as
// unauthenticated or forbidden (401/403, any method; a read only if it carried a token), becomes
// one line of the AuditLog: who (from the request's token, as the handlers authenticate it), from
// where, what (method and path, never the body or the query), and the status answered. The client
// gets its answer only once the line is on disk. Not audited: the agent protocol
// (/api/v1/agent/...: heartbeats, many per second), the notebook proxy (/notebooks/...: the user's
// own Jupyter traffic) and the read-only computations POSTed with a body (/api/v1/estimate,
// /api/v1/sizing), and the device login's polls that learn nothing yet (POST
// /api/v1/auth/device/token answered 202 or 429: one every 5 s while a user goes to the portal; the
// poll that collects the token is audited). GET /api/v1/audit reads it back: platform admins every
// line, entity admins the lines of their entity's users, members nothing (403). Thread-safety: the
// handlers run on the Platform's executor; the log's writer answers from its own thread (Respond
// may be called from any thread).
#pragma once

#include <memory>

#include "auth/audit_log.h"
#include "net/http_types.h"
#include "net/router.h"
#include "state/platform.h"

namespace gpuaas::api {

net::Handler WithAudit(net::Handler api, Platform& platform, std::shared_ptr<AuditLog> log);
void RegisterAuditRoutes(net::Router& router, Platform& platform, std::shared_ptr<AuditLog> log);

}  // namespace gpuaas::api
