#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json/parse.hpp>
#include <optional>

#include "base/base64.h"

namespace json = boost::json;

namespace gpuaas {

struct JwkSet::Key {
  std::string kid;
  bool ec = false;  // ES256 (P-256) rather than RS256
  std::shared_ptr<EVP_PKEY> pkey;
};

namespace {

constexpr size_t kMaxKeys = 64;
constexpr size_t kMaxTokenBytes = 64 * 1024;

std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn BnFrom(const std::string& bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()), nullptr));
}

// The key of OSSL parameters `params` for an algorithm ("RSA" or "EC").
std::shared_ptr<EVP_PKEY> FromData(const char* type, OSSL_PARAM* params) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
}

std::shared_ptr<EVP_PKEY> RsaKey(const json::object& jwk) {
  auto n = Base64UrlDecode(Str(jwk, "n"));
  auto e = Base64UrlDecode(Str(jwk, "e"));
  if (!n.ok() || !e.ok() || n->empty() || e->empty()) return nullptr;
  Bn bn = BnFrom(*n), be = BnFrom(*e);
  if (!bn || !be || BN_num_bits(bn.get()) < 2048) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get())) {
    return nullptr;
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  return params ? FromData("RSA", params.get()) : nullptr;
}

std::shared_ptr<EVP_PKEY> EcKey(const json::object& jwk) {
  if (Str(jwk, "crv") != "P-256") return nullptr;
  auto x = Base64UrlDecode(Str(jwk, "x"));
  auto y = Base64UrlDecode(Str(jwk, "y"));
  if (!x.ok() || !y.ok() || x->size() != 32 || y->size() != 32) return nullptr;
  std::string point = "\x04" + *x + *y;  // uncompressed
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  return FromData("EC", params);
}

// ES256's signature is r || s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> EcdsaDer(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!sig) return std::nullopt;
  BIGNUM* r = BnFrom(raw.substr(0, 32)).release();
  BIGNUM* s = BnFrom(raw.substr(32)).release();
  if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifySha256(EVP_PKEY* key, std::string_view input, const std::string& signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

Result<json::object> DecodeObject(std::string_view part, const char* what) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes.ok()) return Unauthenticated(std::string("the token's ") + what + " is not base64url");
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  if (ec || !v.is_object()) {
    return Unauthenticated(std::string("the token's ") + what + " is not a JSON object");
  }
  return std::move(v.as_object());
}

// A NumericDate claim (seconds; JSON numbers may come as doubles).
std::optional<int64_t> Seconds(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() < (uint64_t(1) << 62)) return int64_t(v->as_uint64());
  if (v->is_double() && v->as_double() > -1e15 && v->as_double() < 1e15) {
    return int64_t(v->as_double());
  }
  return std::nullopt;
}

}  // namespace

Result<JwkSet> JwkSet::Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::value* keys = !ec && v.is_object() ? v.as_object().if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) return InvalidArgument("not a JWK set ({\"keys\": [...]})");
  JwkSet set;
  for (const json::value& k : keys->as_array()) {
    if (!k.is_object() || set.keys_.size() >= kMaxKeys) continue;
    const json::object& jwk = k.as_object();
    const std::string use = Str(jwk, "use"), kty = Str(jwk, "kty"), alg = Str(jwk, "alg");
    if (!use.empty() && use != "sig") continue;
    auto key = std::make_shared<Key>();
    key->kid = Str(jwk, "kid");
    if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
      key->pkey = RsaKey(jwk);
    } else if (kty == "EC" && (alg.empty() || alg == "ES256")) {
      key->ec = true;
      key->pkey = EcKey(jwk);
    }
    if (key->pkey) set.keys_.push_back(std::move(key));
  }
  if (set.keys_.empty()) {
    return InvalidArgument("the JWK set has no RS256 (RSA, 2048 bits or more) or ES256 key");
  }
  return set;
}

Result<json::object> VerifyJws(std::string_view compact, const JwkSet& keys) {
  if (compact.size() > kMaxTokenBytes) return Unauthenticated("the token is too long");
  const size_t a = compact.find('.');
  const size_t b = a == std::string_view::npos ? a : compact.find('.', a + 1);
  if (b == std::string_view::npos || compact.find('.', b + 1) != std::string_view::npos) {
    return Unauthenticated("not a signed token (header.payload.signature)");
  }
  GPUAAS_ASSIGN_OR_RETURN(json::object header, DecodeObject(compact.substr(0, a), "header"));
  const std::string alg = Str(header, "alg");
  if (alg != "RS256" && alg != "ES256") {
    return Unauthenticated("the token is signed with \"" + alg.substr(0, 16) +
                           "\"; only RS256 and ES256 are accepted");
  }
  if (header.contains("crit")) return Unauthenticated("the token has critical extensions");
  auto signature = Base64UrlDecode(compact.substr(b + 1));
  if (!signature.ok()) return Unauthenticated("the token's signature is not base64url");
  const bool ec = alg == "ES256";
  std::string sig = *signature;
  if (ec) {
    auto der = EcdsaDer(sig);
    if (!der) return Unauthenticated("the token's ES256 signature is not 64 bytes");
    sig = std::move(*der);
  }
  const std::string kid = Str(header, "kid");
  const std::string_view input = compact.substr(0, b);
  bool any = false;
  for (const auto& key : keys.keys_) {
    if (key->ec != ec || (!kid.empty() && key->kid != kid)) continue;
    any = true;
    if (VerifySha256(key->pkey.get(), input, sig)) {
      return DecodeObject(compact.substr(a + 1, b - a - 1), "payload");
    }
  }
  if (!any) return NotFound("no " + alg + " key named \"" + kid.substr(0, 64) + "\"");
  return Unauthenticated("the token's signature does not verify");
}

Status CheckIdTokenClaims(const json::object& claims, const IdTokenCheck& check) {
  if (Str(claims, "iss") != check.issuer) {
    return Unauthenticated("the ID token's issuer is not " + check.issuer);
  }
  const json::value* aud = claims.if_contains("aud");
  bool ours = false;
  size_t audiences = 0;
  if (aud && aud->is_string()) {
    audiences = 1;
    ours = aud->as_string() == check.client_id;
  } else if (aud && aud->is_array()) {
    for (const json::value& x : aud->as_array()) {
      ++audiences;
      ours = ours || (x.is_string() && x.as_string() == check.client_id);
    }
  }
  if (!ours) return Unauthenticated("the ID token is not for this client");
  if (audiences > 1 && claims.contains("azp") && Str(claims, "azp") != check.client_id) {
    return Unauthenticated("the ID token was issued to another party (azp)");
  }
  auto exp = Seconds(claims, "exp");
  auto iat = Seconds(claims, "iat");
  if (!exp || !iat) return Unauthenticated("the ID token has no exp or iat");
  if (*exp + check.leeway_s <= check.now_s) return Unauthenticated("the ID token has expired");
  if (*iat - check.leeway_s > check.now_s)
    return Unauthenticated("the ID token is from the future");
  if (*iat + check.max_age_s + check.leeway_s < check.now_s) {
    return Unauthenticated("the ID token is too old");
  }
  if (auto nbf = Seconds(claims, "nbf"); nbf && *nbf - check.leeway_s > check.now_s) {
    return Unauthenticated("the ID token is not valid yet");
  }
  if (Str(claims, "nonce") != check.nonce || check.nonce.empty()) {
    return Unauthenticated("the ID token's nonce does not match this sign-in");
  }
  if (Str(claims, "sub").empty()) return Unauthenticated("the ID token has no subject");
  return Status::Ok();
}

}  // namespace gpuaas
