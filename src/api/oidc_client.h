// OidcClient: the network half of single sign-on (auth/oidc.h has the protocol's pure parts):
// the provider's discovery document and keys, fetched at the first sign-in and kept (the keys
// again, at most once a minute, when an ID token names a key we do not have: the provider
// rotated them), and the completion of a sign-in: the code exchanged at the token endpoint for
// an ID token, whose signature, issuer, audience, times and nonce are checked, and whose
// username claim names the GPUaaS user (and groups claim its directory groups). docs/adr/0021,
// 0024.
// Thread-safety: every method may be called from any thread (a mutex guards the cache); the
// calls block on the network (bounded by timeout_ms): call them off the event loop.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "auth/jwt.h"
#include "auth/oidc.h"
#include "state/config.h"
#include "state/requests.h"

namespace gpuaas::api {

class OidcClient {
 public:
  explicit OidcClient(PlatformConfig::Oidc settings, int timeout_ms = 10'000);
  const PlatformConfig::Oidc& settings() const { return settings_; }

  // The provider's endpoints (discovery at the first call; an error is not kept).
  Result<OidcEndpoints> Endpoints();
  // Whom the provider vouches for, from the `code` of its redirect: the username claim and the
  // groups claim ([auth.oidc] groups_claim; empty when it has none), from the ID token, else
  // from UserInfo. now_s: the wall clock in seconds (the ID token's times are checked against
  // it).
  Result<DirectoryIdentity> Complete(const std::string& code, const OidcSignIn& sign_in,
                                     int64_t now_s);

 private:
  Result<std::string> Fetch(const std::string& url, const std::string& method,
                            const std::string& body, const std::string& authorization, int* status);
  Result<JwkSet> Keys(bool refresh, int64_t now_s);

  const PlatformConfig::Oidc settings_;
  const int timeout_ms_;
  std::mutex mu_;
  std::optional<OidcEndpoints> endpoints_;
  std::optional<JwkSet> keys_;
  int64_t keys_fetched_s_ = 0;
};

}  // namespace gpuaas::api
