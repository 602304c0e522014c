// Shared steps of the API handlers: authenticate the caller, answer a Platform callback.
// Private to api/*.cc.
#pragma once

#include <functional>

#include "api/json_io.h"
#include "auth/principal.h"
#include "net/http_types.h"
#include "state/platform.h"

namespace gpuaas::api {

// The bearer token of a request ("" if none).
std::string BearerToken(const net::HttpRequest& req);

// The portal's session cookie (HttpOnly, SameSite=Strict; its value is the user's token).
inline constexpr const char* kSessionCookie = "gpuaas_session";
// The Set-Cookie value of a session (`clear`: its removal). `secure` when the server speaks
// HTTPS: the browser then never sends the token in the clear.
std::string SessionCookieHeader(const std::string& value, bool clear, bool secure);
// Set by the single sign-on's callback on its answer ("NAME ROLE ENTITY" of the user it
// signed in) for the audit trail, which removes it before the answer leaves (api/audit.h).
inline constexpr const char* kSignedInHeader = "X-Gpuaas-Signed-In";
// The value of the session cookie ("" if none).
std::string SessionToken(const net::HttpRequest& req);
// The caller's token: the bearer token, else the session cookie. A cookie on a request that
// changes state (not GET/HEAD) from another origin (Origin header not matching Host) is ignored.
std::string RequestToken(const net::HttpRequest& req);
// A token is only ever `gpa_` + hex: false for anything else (that could break a header).
bool PlausibleToken(const std::string& t);

// Wraps a handler that needs a caller (token from RequestToken): answers 401 itself when the
// token is missing or bad.
using AuthedHandler =
    std::function<void(const Principal& who, net::HttpRequest&& req, net::Respond respond)>;
net::Handler Authed(Platform& platform, AuthedHandler h);

// A Platform Done<T> that answers `status` with `encode(value)`, or the contract's error.
template <typename T, typename Encode>
std::function<void(Result<T>)> Answer(net::Respond respond, int status, Encode encode) {
  return [respond = std::move(respond), status, encode](Result<T> r) {
    if (!r.ok()) return respond(ErrorOf(r.status()));
    respond(JsonResponse(status, encode(r.value())));
  };
}

// A non-negative integer query parameter, `dflt` when absent or empty, else InvalidArgument.
Result<int64_t> QueryInt(const net::HttpRequest& req, const char* key, int64_t dflt);

// Parses a positive integer id from a path parameter, or answers 404 like a missing object.
std::optional<int64_t> PathId(const net::HttpRequest& req, const char* name);

}  // namespace gpuaas::api
