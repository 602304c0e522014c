// OpenID Connect sign-in, the protocol's pure parts (Core 1.0 and RFC 7636, the authorization
// code flow with PKCE, for a confidential client): the provider's discovery document, the
// sign-ins under way (state, nonce, PKCE verifier; one use each, ten minutes at most), the
// authorization URL a browser is sent to, and the token endpoint's answer. The network calls
// and the routes are api/oidc_client.h and api/routes_sso.cc; docs/adr/0021.
// Thread-safety: free functions are pure; a SignInStore is not thread-safe (the server keeps it
// on its event loop).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace gpuaas {

struct OidcEndpoints {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::string userinfo_endpoint;     // "" when the provider has none
  std::string end_session_endpoint;  // RP-Initiated Logout; "" when the provider has none
};

// From the provider's /.well-known/openid-configuration. Its "issuer" must be `issuer` exactly
// (Discovery §4.3: a document that names another issuer is refused), and the endpoints must be
// http(s) URLs.
Result<OidcEndpoints> ParseDiscovery(std::string_view json, const std::string& issuer);

// The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)).
std::string PkceChallenge(std::string_view verifier);

struct OidcSignIn {
  std::string state;      // names the sign-in in the provider's redirect (CSRF)
  std::string nonce;      // must come back inside the ID token (replay)
  std::string verifier;   // PKCE: proves to the token endpoint that we started the sign-in
  std::string return_to;  // the portal's page to land on ("/" ...)
  Millis started_at = 0;
};

class SignInStore {
 public:
  SignInStore(size_t max_pending, Millis lifetime_ms)
      : max_pending_(max_pending), lifetime_ms_(lifetime_ms) {}
  // A new sign-in (random state, nonce and verifier). ResourceExhausted when max_pending are
  // under way (expired ones are dropped first).
  Result<OidcSignIn> Begin(std::string return_to, Millis now);
  // The sign-in of `state`, removed (a state works once); NotFound when unknown, used or expired.
  Result<OidcSignIn> Take(const std::string& state, Millis now);
  size_t pending() const { return by_state_.size(); }

 private:
  void DropExpired(Millis now);
  const size_t max_pending_;
  const Millis lifetime_ms_;
  std::map<std::string, OidcSignIn> by_state_;
};

// The URL of the provider's authorization endpoint for this sign-in (response_type=code,
// code_challenge_method=S256).
std::string AuthorizationUrl(const OidcEndpoints& provider, const std::string& client_id,
                             const std::string& redirect_uri, const std::string& scopes,
                             const OidcSignIn& sign_in);

// The provider's sign-out page for this client (OpenID Connect RP-Initiated Logout 1.0 §2:
// client_id and post_logout_redirect_uri, which the provider must have registered).
std::string EndSessionUrl(const OidcEndpoints& provider, const std::string& client_id,
                          const std::string& post_logout_redirect_uri);

// The form body of the token request (grant_type=authorization_code; the client authenticates
// with HTTP Basic, client_secret_basic).
std::string TokenRequestBody(const std::string& code, const std::string& redirect_uri,
                             const std::string& verifier);
// "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 §2.3.1).
std::string ClientBasicAuth(const std::string& client_id, const std::string& client_secret);

// The token endpoint's answer: its ID token, and the access token for the UserInfo endpoint
// (where providers that follow Core §5.4 put the profile claims of a code flow). An OAuth
// error answer ({"error", "error_description"}) becomes an Unauthenticated status quoting it.
struct OidcTokens {
  std::string id_token;
  std::string access_token;  // "" when none was issued
};
Result<OidcTokens> TokensOf(int http_status, std::string_view body);

// A page of the portal to return to after signing in: a path of this site ("/..." but not
// "//..."), at most 512 characters of printable ASCII; anything else is "/".
std::string SafeReturnPath(std::string_view path);

}  // namespace gpuaas
