#include "api/oidc_client.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "auth/directory_groups.h"
#include "net/http_client.h"

namespace gpuaas::api {
namespace {

constexpr size_t kMaxAnswerBytes = 1 << 20;
constexpr int64_t kKeyRefetchS = 60;

// "https://host:port/path?q" -> {"https://host:port", "/path?q"}.
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t slash = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

// A claim that is a non-empty string.
std::optional<std::string> StringClaim(const boost::json::object& o, const std::string& key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v || !v->is_string() || v->as_string().empty()) return std::nullopt;
  return std::string(v->as_string());
}

// The groups of a groups claim: a list of strings (non-strings and names a mapping could not
// hold are skipped), or one string; at most kMaxDirectoryGroups. nullopt: no such claim.
std::optional<std::vector<std::string>> GroupsClaim(const boost::json::object& o,
                                                    const std::string& key) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  auto take = [&out](const boost::json::value& g) {
    if (g.is_string() && out.size() < kMaxDirectoryGroups &&
        CheckGroupName(std::string_view(g.as_string())).ok()) {
      out.emplace_back(g.as_string());
    }
  };
  if (v->is_array()) {
    for (const boost::json::value& g : v->as_array()) take(g);
  } else {
    take(*v);
  }
  return out;
}

}  // namespace

OidcClient::OidcClient(PlatformConfig::Oidc settings, int timeout_ms)
    : settings_(std::move(settings)), timeout_ms_(timeout_ms) {}

Result<std::string> OidcClient::Fetch(const std::string& url, const std::string& method,
                                      const std::string& body, const std::string& authorization,
                                      int* status) {
  auto [origin, target] = SplitUrl(url);
  net::HttpClient client(origin);
  client.set_connect_timeout_ms(timeout_ms_);
  if (!settings_.ca_file.empty()) client.set_ca_file(settings_.ca_file);
  std::vector<std::pair<std::string, std::string>> headers = {{"Accept", "application/json"}};
  if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
  if (method == "POST") {
    headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  auto res = client.Request(method, target, body, headers, timeout_ms_);
  if (!res.ok()) {
    return Unavailable("cannot reach the identity provider (" + res.status().message() + ")");
  }
  if (res->body.size() > kMaxAnswerBytes) {
    return Unavailable("the identity provider's answer from " + url + " is too large");
  }
  if (status) {
    *status = res->status;
  } else if (res->status != 200) {
    return Unavailable("the identity provider answered HTTP " + std::to_string(res->status) +
                       " for " + url);
  }
  return std::move(res->body);
}

Result<OidcEndpoints> OidcClient::Endpoints() {
  std::lock_guard lock(mu_);
  if (endpoints_) return *endpoints_;
  std::string issuer = settings_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  GPUAAS_ASSIGN_OR_RETURN(
      std::string doc, Fetch(issuer + "/.well-known/openid-configuration", "GET", "", "", nullptr));
  auto e = ParseDiscovery(doc, settings_.issuer);
  if (!e.ok()) return Unavailable("identity provider: " + e.status().message());
  endpoints_ = *e;
  return *e;
}

Result<JwkSet> OidcClient::Keys(bool refresh, int64_t now_s) {
  GPUAAS_ASSIGN_OR_RETURN(OidcEndpoints e, Endpoints());
  std::lock_guard lock(mu_);
  if (keys_ && (!refresh || now_s - keys_fetched_s_ < kKeyRefetchS)) return *keys_;
  GPUAAS_ASSIGN_OR_RETURN(std::string doc, Fetch(e.jwks_uri, "GET", "", "", nullptr));
  auto keys = JwkSet::Parse(doc);
  if (!keys.ok()) return Unavailable("identity provider's keys: " + keys.status().message());
  keys_ = *keys;
  keys_fetched_s_ = now_s;
  return *keys;
}

Result<DirectoryIdentity> OidcClient::Complete(const std::string& code, const OidcSignIn& sign_in,
                                               int64_t now_s) {
  GPUAAS_ASSIGN_OR_RETURN(OidcEndpoints e, Endpoints());
  int status = 0;
  GPUAAS_ASSIGN_OR_RETURN(
      std::string answer,
      Fetch(e.token_endpoint, "POST",
            TokenRequestBody(code, settings_.redirect_uri, sign_in.verifier),
            ClientBasicAuth(settings_.client_id, settings_.client_secret), &status));
  GPUAAS_ASSIGN_OR_RETURN(OidcTokens tokens, TokensOf(status, answer));
  GPUAAS_ASSIGN_OR_RETURN(JwkSet keys, Keys(false, now_s));
  auto claims = VerifyJws(tokens.id_token, keys);
  if (!claims.ok() && claims.status().code() == Code::kNotFound) {
    GPUAAS_ASSIGN_OR_RETURN(keys, Keys(true, now_s));
    claims = VerifyJws(tokens.id_token, keys);
  }
  if (!claims.ok()) {
    return Unauthenticated("the identity provider's ID token was refused: " +
                           claims.status().message());
  }
  GPUAAS_RETURN_IF_ERROR(CheckIdTokenClaims(*claims, IdTokenCheck{.issuer = settings_.issuer,
                                                                  .client_id = settings_.client_id,
                                                                  .nonce = sign_in.nonce,
                                                                  .now_s = now_s}));
  const std::string& claim = settings_.username_claim;
  const std::string& groups_claim = settings_.groups_claim;
  std::optional<std::string> name = StringClaim(*claims, claim);
  std::optional<std::vector<std::string>> groups;
  if (!groups_claim.empty()) groups = GroupsClaim(*claims, groups_claim);
  if ((!name || (!groups_claim.empty() && !groups)) && !e.userinfo_endpoint.empty() &&
      !tokens.access_token.empty()) {
    // Core §5.4: a code flow's profile claims may be at the UserInfo endpoint only; its answer
    // counts only for the subject of the ID token (§5.3.2).
    GPUAAS_ASSIGN_OR_RETURN(std::string doc, Fetch(e.userinfo_endpoint, "GET", "",
                                                   "Bearer " + tokens.access_token, nullptr));
    boost::system::error_code ec;
    boost::json::value info = boost::json::parse(doc, ec);
    if (ec || !info.is_object()) {
      return Unavailable("the identity provider's UserInfo answer is not a JSON object");
    }
    if (StringClaim(info.as_object(), "sub") != StringClaim(*claims, "sub")) {
      return Unauthenticated("the identity provider's UserInfo answer is about another subject");
    }
    if (!name) name = StringClaim(info.as_object(), claim);
    if (!groups_claim.empty() && !groups) groups = GroupsClaim(info.as_object(), groups_claim);
  }
  if (!name) {
    return PermissionDenied("the identity provider did not say who you are (no \"" + claim +
                            "\" claim in the ID token or UserInfo)");
  }
  return DirectoryIdentity{*name, groups.value_or(std::vector<std::string>{})};
}

}  // namespace gpuaas::api
