#include "auth/oidc.h"

#include <openssl/sha.h>

#include <boost/json/parse.hpp>

#include "auth/bytes.h"
#include "base/base64.h"
#include "base/url_encode.h"

namespace json = boost::json;

namespace gpuaas {
namespace {

bool IsHttpUrl(const std::string& s) {
  return (s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0) && s.size() < 2048 &&
         s.find_first_of(" \r\n\t") == std::string::npos;
}

std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Result<std::string> RandomUrlSafe(size_t bytes) {
  unsigned char buf[64];
  GPUAAS_RETURN_IF_ERROR(RandomBytes(buf, bytes));
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(buf), bytes));
}

}  // namespace

Result<OidcEndpoints> ParseDiscovery(std::string_view text, const std::string& issuer) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument("the discovery document is not a JSON object");
  const json::object& o = v.as_object();
  OidcEndpoints e{
      Str(o, "issuer"),   Str(o, "authorization_endpoint"), Str(o, "token_endpoint"),
      Str(o, "jwks_uri"), Str(o, "userinfo_endpoint"),      Str(o, "end_session_endpoint")};
  if (e.issuer != issuer) {
    return InvalidArgument("the discovery document names the issuer \"" + e.issuer.substr(0, 200) +
                           "\", not " + issuer);
  }
  for (const auto& [name, url] :
       {std::pair{"authorization_endpoint", &e.authorization_endpoint},
        std::pair{"token_endpoint", &e.token_endpoint}, std::pair{"jwks_uri", &e.jwks_uri}}) {
    if (!IsHttpUrl(*url)) {
      return InvalidArgument(std::string("the discovery document has no valid ") + name);
    }
  }
  if (!e.userinfo_endpoint.empty() && !IsHttpUrl(e.userinfo_endpoint)) {
    return InvalidArgument("the discovery document's userinfo_endpoint is not a URL");
  }
  if (!e.end_session_endpoint.empty() && !IsHttpUrl(e.end_session_endpoint)) {
    e.end_session_endpoint.clear();  // optional: a provider without a usable one signs no one out
  }
  return e;
}

std::string PkceChallenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

void SignInStore::DropExpired(Millis now) {
  for (auto it = by_state_.begin(); it != by_state_.end();) {
    it = now - it->second.started_at >= lifetime_ms_ ? by_state_.erase(it) : std::next(it);
  }
}

Result<OidcSignIn> SignInStore::Begin(std::string return_to, Millis now) {
  if (by_state_.size() >= max_pending_) DropExpired(now);
  if (by_state_.size() >= max_pending_) {
    return ResourceExhausted("too many sign-ins under way; try again in a few minutes");
  }
  OidcSignIn s;
  GPUAAS_ASSIGN_OR_RETURN(s.state, RandomUrlSafe(24));
  GPUAAS_ASSIGN_OR_RETURN(s.nonce, RandomUrlSafe(24));
  GPUAAS_ASSIGN_OR_RETURN(s.verifier, RandomUrlSafe(48));  // 64 characters (43-128 allowed)
  s.return_to = std::move(return_to);
  s.started_at = now;
  by_state_[s.state] = s;
  return s;
}

Result<OidcSignIn> SignInStore::Take(const std::string& state, Millis now) {
  auto it = by_state_.find(state);
  if (it == by_state_.end()) {
    return NotFound("this sign-in is unknown or was already used: start again");
  }
  OidcSignIn s = std::move(it->second);
  by_state_.erase(it);
  if (now - s.started_at >= lifetime_ms_) {
    return NotFound("this sign-in took too long (over " + std::to_string(lifetime_ms_ / 60000) +
                    " minutes): start again");
  }
  return s;
}

std::string AuthorizationUrl(const OidcEndpoints& provider, const std::string& client_id,
                             const std::string& redirect_uri, const std::string& scopes,
                             const OidcSignIn& s) {
  const std::string& base = provider.authorization_endpoint;
  return base + (base.find('?') == std::string::npos ? "?" : "&") +
         "response_type=code&client_id=" + UrlEncode(client_id) +
         "&redirect_uri=" + UrlEncode(redirect_uri) + "&scope=" + UrlEncode(scopes) +
         "&state=" + UrlEncode(s.state) + "&nonce=" + UrlEncode(s.nonce) +
         "&code_challenge=" + PkceChallenge(s.verifier) + "&code_challenge_method=S256";
}

std::string EndSessionUrl(const OidcEndpoints& provider, const std::string& client_id,
                          const std::string& post_logout_redirect_uri) {
  const std::string& base = provider.end_session_endpoint;
  return base + (base.find('?') == std::string::npos ? "?" : "&") +
         "client_id=" + UrlEncode(client_id) +
         "&post_logout_redirect_uri=" + UrlEncode(post_logout_redirect_uri);
}

std::string TokenRequestBody(const std::string& code, const std::string& redirect_uri,
                             const std::string& verifier) {
  return "grant_type=authorization_code&code=" + UrlEncode(code) +
         "&redirect_uri=" + UrlEncode(redirect_uri) + "&code_verifier=" + UrlEncode(verifier);
}

std::string ClientBasicAuth(const std::string& client_id, const std::string& client_secret) {
  return "Basic " + Base64Encode(UrlEncode(client_id) + ":" + UrlEncode(client_secret));
}

Result<OidcTokens> TokensOf(int http_status, std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
  if (o && o->contains("error")) {
    std::string what = Str(*o, "error").substr(0, 100);
    if (std::string d = Str(*o, "error_description"); !d.empty()) what += ": " + d.substr(0, 300);
    return Unauthenticated("the identity provider refused the sign-in (" + what + ")");
  }
  if (http_status != 200 || !o) {
    return Unavailable("the identity provider's token endpoint answered HTTP " +
                       std::to_string(http_status));
  }
  OidcTokens t{Str(*o, "id_token"), Str(*o, "access_token")};
  if (t.id_token.empty()) return Unauthenticated("the identity provider sent no ID token");
  return t;
}

std::string SafeReturnPath(std::string_view path) {
  if (path.empty() || path.size() > 512 || path[0] != '/' || (path.size() > 1 && path[1] == '/') ||
      (path.size() > 1 && path[1] == '\\')) {
    return "/";
  }
  for (char c : path) {
    if (c < 0x21 || c > 0x7e || c == '\\') return "/";
  }
  return std::string(path);
}

}  // namespace gpuaas
