#include "auth/oidc.h"

#include <gtest/gtest.h>

#include <set>

namespace gpuaas {
namespace {

TEST(Oidc, DiscoveryMustNameTheConfiguredIssuer) {
  const std::string doc = R"({"issuer": "https://idp.example/realms/bank",
    "authorization_endpoint": "https://idp.example/auth", "token_endpoint":
    "https://idp.example/token", "jwks_uri": "https://idp.example/certs",
    "userinfo_endpoint": "https://idp.example/userinfo"})";
  auto e = ParseDiscovery(doc, "https://idp.example/realms/bank");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->token_endpoint, "https://idp.example/token");
  EXPECT_EQ(e->userinfo_endpoint, "https://idp.example/userinfo");
  EXPECT_EQ(e->end_session_endpoint, "");  // optional
  auto with_logout = ParseDiscovery(
      R"({"issuer": "https://idp.example/realms/bank", "authorization_endpoint": "https://a",
          "token_endpoint": "https://t", "jwks_uri": "https://k",
          "end_session_endpoint": "https://idp.example/logout?realm=bank"})",
      "https://idp.example/realms/bank");
  ASSERT_TRUE(with_logout.ok());
  EXPECT_EQ(EndSessionUrl(*with_logout, "gpu aas", "https://gpuaas.example/"),
            "https://idp.example/logout?realm=bank&client_id=gpu%20aas&post_logout_redirect_uri="
            "https%3A%2F%2Fgpuaas.example%2F");
  auto other = ParseDiscovery(doc, "https://idp.example/realms/other");
  EXPECT_NE(other.status().message().find("names the issuer"), std::string::npos);
  EXPECT_FALSE(ParseDiscovery(R"({"issuer": "i", "authorization_endpoint": "javascript:x",
    "token_endpoint": "https://t", "jwks_uri": "https://j"})",
                              "i")
                   .ok());
  EXPECT_FALSE(ParseDiscovery("[]", "i").ok());
}

TEST(Oidc, PkceChallengeIsRfc7636sExample) {
  EXPECT_EQ(PkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Oidc, ASignInWorksOnceWithinItsLifetime) {
  SignInStore store(3, 600'000);
  auto a = store.Begin("/jobs", 1000);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->verifier.size(), 64u);  // RFC 7636: 43 to 128 characters
  EXPECT_NE(a->state, a->nonce);
  auto taken = store.Take(a->state, 2000);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->return_to, "/jobs");
  EXPECT_EQ(taken->nonce, a->nonce);
  EXPECT_EQ(store.Take(a->state, 2000).status().code(), Code::kNotFound);  // used
  EXPECT_EQ(store.Take("forged", 2000).status().code(), Code::kNotFound);
  auto late = store.Begin("/", 1000);
  auto r = store.Take(late->state, 1000 + 600'000);
  EXPECT_NE(r.status().message().find("took too long"), std::string::npos);
}

TEST(Oidc, SignInsUnderWayAreBoundedAndExpiredOnesMakeRoom) {
  SignInStore store(2, 600'000);
  std::set<std::string> states;
  for (int i = 0; i < 2; ++i) states.insert(store.Begin("/", 0)->state);
  EXPECT_EQ(states.size(), 2u);
  EXPECT_EQ(store.Begin("/", 1).status().code(), Code::kResourceExhausted);
  EXPECT_TRUE(store.Begin("/", 600'000).ok());  // the first two expired
  EXPECT_EQ(store.pending(), 1u);
}

TEST(Oidc, AuthorizationUrlCarriesTheFlowsParameters) {
  OidcEndpoints e{"https://idp",
                  "https://idp/auth?kc_idp_hint=ad",
                  "https://idp/token",
                  "https://idp/certs",
                  "",
                  ""};
  OidcSignIn s{"st", "no", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "/", 0};
  EXPECT_EQ(
      AuthorizationUrl(e, "gpu aas", "https://g/api/v1/auth/oidc/callback", "openid profile", s),
      "https://idp/auth?kc_idp_hint=ad&response_type=code&client_id=gpu%20aas"
      "&redirect_uri=https%3A%2F%2Fg%2Fapi%2Fv1%2Fauth%2Foidc%2Fcallback"
      "&scope=openid%20profile&state=st&nonce=no"
      "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
      "&code_challenge_method=S256");
  EXPECT_EQ(TokenRequestBody("c/1", "https://g/cb", "v"),
            "grant_type=authorization_code&code=c%2F1&redirect_uri=https%3A%2F%2Fg%2Fcb"
            "&code_verifier=v");
  EXPECT_EQ(ClientBasicAuth("a", "b:c"), "Basic YTpiJTNBYw==");
}

TEST(Oidc, TokenAnswers) {
  auto t = TokensOf(200, R"({"id_token": "h.p.s", "access_token": "at", "token_type": "Bearer"})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->id_token, "h.p.s");
  EXPECT_EQ(t->access_token, "at");
  auto refused = TokensOf(400, R"({"error": "invalid_grant", "error_description": "code used"})");
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("invalid_grant: code used"), std::string::npos);
  EXPECT_EQ(TokensOf(502, "<html>").status().code(), Code::kUnavailable);
  EXPECT_EQ(TokensOf(200, R"({"access_token": "at"})").status().code(), Code::kUnauthenticated);
}

TEST(Oidc, ReturnPathsStayOnThisSite) {
  EXPECT_EQ(SafeReturnPath("/jobs?x=1"), "/jobs?x=1");
  EXPECT_EQ(SafeReturnPath(""), "/");
  EXPECT_EQ(SafeReturnPath("//evil.example/x"), "/");
  EXPECT_EQ(SafeReturnPath("/\\evil.example"), "/");
  EXPECT_EQ(SafeReturnPath("https://evil.example"), "/");
  EXPECT_EQ(SafeReturnPath("/a b"), "/");
  EXPECT_EQ(SafeReturnPath("/x\r\nSet-Cookie: a=b"), "/");
  EXPECT_EQ(SafeReturnPath("/" + std::string(600, 'a')), "/");
}

}  // namespace
}  // namespace gpuaas
