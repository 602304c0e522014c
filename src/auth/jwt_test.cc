// The verification of signed tokens against keys made here with OpenSSL (RSA 2048 and P-256),
// exported as a provider exports them (a JWKS) and used to sign as a provider signs.
#include "auth/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json/serialize.hpp>
#include <memory>

#include "base/base64.h"

namespace json = boost::json;

namespace gpuaas {
namespace {

using Pkey = std::shared_ptr<EVP_PKEY>;

Pkey Rsa(unsigned bits = 2048) { return Pkey(EVP_RSA_gen(bits), EVP_PKEY_free); }
Pkey P256() { return Pkey(EVP_EC_gen("P-256"), EVP_PKEY_free); }

std::string Bn(const EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(k, name, &bn), 1);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

json::object Jwk(const Pkey& k, const std::string& kid) {
  if (EVP_PKEY_is_a(k.get(), "RSA")) {
    return {{"kty", "RSA"},
            {"kid", kid},
            {"use", "sig"},
            {"alg", "RS256"},
            {"n", Base64UrlEncode(Bn(k.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", Base64UrlEncode(Bn(k.get(), OSSL_PKEY_PARAM_RSA_E))}};
  }
  unsigned char point[65];
  size_t len = 0;
  EXPECT_EQ(
      EVP_PKEY_get_octet_string_param(k.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len),
      1);
  EXPECT_EQ(len, 65u);
  std::string p(reinterpret_cast<char*>(point), len);
  return {{"kty", "EC"},
          {"crv", "P-256"},
          {"kid", kid},
          {"x", Base64UrlEncode(p.substr(1, 32))},
          {"y", Base64UrlEncode(p.substr(33, 32))}};
}

std::string Jwks(std::initializer_list<json::object> keys) {
  json::array a;
  for (const auto& k : keys) a.push_back(k);
  return json::serialize(json::object{{"keys", a}});
}

std::string Sign(const Pkey& k, const std::string& input) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, k.get()), 1);
  size_t len = 0;
  EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  sig.resize(len);
  if (!EVP_PKEY_is_a(k.get(), "EC")) return sig;
  // DER -> r || s, as JWS wants it.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(es);
  return raw;
}

std::string Token(const Pkey& k, const json::object& header, const json::object& claims) {
  std::string input =
      Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(claims));
  return input + "." + Base64UrlEncode(Sign(k, input));
}

const json::object kClaims = {{"iss", "https://idp.example"},
                              {"sub", "u-42"},
                              {"aud", "gpuaas"},
                              {"nonce", "n0"},
                              {"iat", 1'000'000},
                              {"exp", 1'000'300},
                              {"preferred_username", "alice"}};

TEST(Jwt, VerifiesRs256AndEs256TokensOfTheirKeys) {
  Pkey rsa = Rsa(), ec = P256();
  auto keys = JwkSet::Parse(Jwks({Jwk(rsa, "r1"), Jwk(ec, "e1")}));
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(keys->size(), 2u);
  auto c = VerifyJws(Token(rsa, {{"alg", "RS256"}, {"kid", "r1"}}, kClaims), *keys);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->at("preferred_username").as_string(), "alice");
  auto e = VerifyJws(Token(ec, {{"alg", "ES256"}, {"kid", "e1"}}, kClaims), *keys);
  ASSERT_TRUE(e.ok()) << e.status().message();
  // Without a kid, every key of the algorithm is tried.
  EXPECT_TRUE(VerifyJws(Token(rsa, {{"alg", "RS256"}}, kClaims), *keys).ok());
}

TEST(Jwt, RefusesForgedAlteredAndWeakTokens) {
  Pkey rsa = Rsa(), other = Rsa();
  auto keys = *JwkSet::Parse(Jwks({Jwk(rsa, "r1")}));
  const std::string good = Token(rsa, {{"alg", "RS256"}, {"kid", "r1"}}, kClaims);
  // Another key, claiming to be ours.
  auto forged = VerifyJws(Token(other, {{"alg", "RS256"}, {"kid", "r1"}}, kClaims), keys);
  EXPECT_EQ(forged.status().code(), Code::kUnauthenticated);
  EXPECT_NE(forged.status().message().find("does not verify"), std::string::npos);
  // The payload changed after signing.
  json::object more = kClaims;
  more["preferred_username"] = "admin";
  const size_t a = good.find('.'), b = good.rfind('.');
  std::string altered =
      good.substr(0, a + 1) + Base64UrlEncode(json::serialize(more)) + good.substr(b);
  EXPECT_EQ(VerifyJws(altered, keys).status().code(), Code::kUnauthenticated);
  // "none", HMAC with the public key as secret, and an ES256 header on an RSA signature.
  for (const char* alg : {"none", "HS256", "RS512"}) {
    std::string t = Base64UrlEncode(json::serialize(json::object{{"alg", alg}})) +
                    good.substr(a, b - a) + good.substr(b);
    auto r = VerifyJws(t, keys);
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << alg;
    EXPECT_NE(r.status().message().find("only RS256 and ES256"), std::string::npos) << alg;
  }
  EXPECT_FALSE(VerifyJws(Token(rsa, {{"alg", "ES256"}, {"kid", "r1"}}, kClaims), keys).ok());
  EXPECT_FALSE(VerifyJws("a.b", keys).ok());
  EXPECT_FALSE(VerifyJws("a.b.c.d", keys).ok());
  EXPECT_FALSE(VerifyJws(good + "x", keys).ok());
  EXPECT_FALSE(
      VerifyJws(Token(rsa, {{"alg", "RS256"}, {"kid", "r1"}, {"crit", json::array{"x"}}}, kClaims),
                keys)
          .ok());
}

TEST(Jwt, AnUnknownKeyIdIsNotFoundSoThatKeysAreFetchedAgain) {
  Pkey old_key = Rsa(), new_key = Rsa();
  auto keys = *JwkSet::Parse(Jwks({Jwk(old_key, "2025")}));
  auto r = VerifyJws(Token(new_key, {{"alg", "RS256"}, {"kid", "2026"}}, kClaims), keys);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  auto rotated = *JwkSet::Parse(Jwks({Jwk(old_key, "2025"), Jwk(new_key, "2026")}));
  EXPECT_TRUE(
      VerifyJws(Token(new_key, {{"alg", "RS256"}, {"kid", "2026"}}, kClaims), rotated).ok());
}

TEST(Jwt, KeySetKeepsOnlyUsableSignatureKeys) {
  Pkey weak = Rsa(1024), rsa = Rsa();
  EXPECT_FALSE(JwkSet::Parse(Jwks({Jwk(weak, "w")})).ok());  // under 2048 bits
  json::object enc = Jwk(rsa, "enc");
  enc["use"] = "enc";
  EXPECT_FALSE(JwkSet::Parse(Jwks({enc})).ok());
  json::object hmac = {{"kty", "oct"}, {"k", "c2VjcmV0"}};
  auto mixed = JwkSet::Parse(Jwks({hmac, enc, Jwk(rsa, "s")}));
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->size(), 1u);
  EXPECT_FALSE(JwkSet::Parse("not json").ok());
  EXPECT_FALSE(JwkSet::Parse("{\"keys\": 3}").ok());
  json::object bad_point = Jwk(P256(), "e");
  bad_point["x"] = Base64UrlEncode(std::string(32, '\x01'));  // not on the curve
  EXPECT_FALSE(JwkSet::Parse(Jwks({bad_point})).ok());
}

TEST(IdToken, ChecksIssuerAudienceTimesAndNonce) {
  IdTokenCheck check{
      .issuer = "https://idp.example", .client_id = "gpuaas", .nonce = "n0", .now_s = 1'000'100};
  EXPECT_TRUE(CheckIdTokenClaims(kClaims, check).ok());
  auto with = [](const char* key, json::value v) {
    json::object c = kClaims;
    c[key] = std::move(v);
    return c;
  };
  auto refused = [&](const json::object& c, const char* why) {
    Status s = CheckIdTokenClaims(c, check);
    EXPECT_EQ(s.code(), Code::kUnauthenticated) << why;
    EXPECT_NE(s.message().find(why), std::string::npos) << s.message();
  };
  refused(with("iss", "https://evil.example"), "issuer");
  refused(with("aud", "someone-else"), "not for this client");
  refused(with("aud", json::array{"a", "b"}), "not for this client");
  EXPECT_TRUE(CheckIdTokenClaims(with("aud", json::array{"a", "gpuaas"}), check).ok());
  json::object azp = with("aud", json::array{"a", "gpuaas"});
  azp["azp"] = "a";
  refused(azp, "another party");
  refused(with("nonce", "replayed"), "nonce");
  refused(with("exp", 1'000'000), "expired");  // 100 s ago, beyond the 60 s leeway
  EXPECT_TRUE(CheckIdTokenClaims(with("exp", 1'000'050), check).ok());  // within the leeway
  refused(with("iat", 1'000'200), "future");
  refused(with("nbf", 1'000'500), "not valid yet");
  refused(with("sub", ""), "subject");
  json::object no_exp = kClaims;
  no_exp.erase("exp");
  refused(no_exp, "no exp");
  IdTokenCheck later = check;
  later.now_s = 1'000'000 + 2 * 3600;
  Status old = CheckIdTokenClaims(with("exp", 1'000'000 + 3 * 3600), later);
  EXPECT_NE(old.message().find("too old"), std::string::npos) << old.message();
}

}  // namespace
}  // namespace gpuaas
