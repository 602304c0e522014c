// Wire-format helpers of the HTTP server, kept apart from the connection logic so that they can
// be tested without sockets: request-target parsing (Boost.URL) and response-head formatting.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "base/status.h"
#include "net/http_types.h"

namespace gpuaas::net {

// Fills req.path (percent-decoded) and req.query (decoded, '+' as space, last value wins) from
// req.target. Accepts origin-form ("/a/b?x=1") only; anything else is InvalidArgument.
Status ParseTarget(HttpRequest& req);

// Whether a response with this status carries no body (1xx, 204, 304).
bool StatusHasNoBody(int status);

// Appends the status line and header block (ending in the blank line) of `res` to `out`:
// Server, Content-Type, Content-Length (from res.body), `Connection: close` when `close`, or
// `Connection: keep-alive` when `keep_alive_http10`, and res.headers. Extra headers that contain
// CR/LF or that would duplicate framing headers (content-length, transfer-encoding, connection)
// are dropped.
void AppendResponseHead(std::string& out, const HttpResponse& res, bool close,
                        bool keep_alive_http10);

}  // namespace gpuaas::net
