// JSON Web Tokens signed by an OpenID provider (RFC 7515, 7517, 7519): the provider's public
// keys (its JWK set) and the verification of a compact JWS against them. RS256 and ES256 only,
// the algorithms providers sign ID tokens with; "none", HMAC and any other "alg" are refused,
// so a token cannot choose a weaker check than the key's. Pure; thread-safe (a JwkSet is
// immutable once parsed and may be shared between threads).
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace gpuaas {

class JwkSet {
 public:
  // From a JWKS document ({"keys": [...]}). Signature keys only: RSA (n, e; at least 2048 bits)
  // and EC P-256 (x, y); keys for encryption ("use": "enc") or of other types are skipped. An
  // answer with no usable key, or that is not a JWKS, is an error.
  static Result<JwkSet> Parse(std::string_view json);
  size_t size() const { return keys_.size(); }

  struct Key;  // private to jwt.cc

 private:
  std::vector<std::shared_ptr<const Key>> keys_;
  friend Result<boost::json::object> VerifyJws(std::string_view, const JwkSet&);
};

// The claims of a compact JWS (header.payload.signature) whose signature one of `keys` checks:
// the key named by the header's "kid", or without one each key of the header's algorithm.
// Errors: kNotFound when no key has that kid (the provider may have rotated its keys: fetch
// them again once); kUnauthenticated for anything else (malformed, refused algorithm, bad
// signature), with a message that says which.
Result<boost::json::object> VerifyJws(std::string_view compact, const JwkSet& keys);

// What an ID token must say (OpenID Connect Core §3.1.3.7). now_s and leeway_s in seconds.
struct IdTokenCheck {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  int64_t now_s = 0;
  int64_t leeway_s = 60;     // clock skew tolerated on exp, iat and nbf
  int64_t max_age_s = 3600;  // iat at most this old
};
Status CheckIdTokenClaims(const boost::json::object& claims, const IdTokenCheck& check);

}  // namespace gpuaas
