// Tests of the Artifactory client: parsing answers in the shape JFrog documents for the
// Projects API (GET /access/api/v1/projects/{key}) and storage info
// (GET /artifactory/api/storageinfo), and the HTTP calls against a local server that serves
// those answers (net::HttpServer on 127.0.0.1:0).
#include "api/artifactory_client.h"

#include "api/artifactory_cache.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "net/http_server.h"
#include "net/router.h"

namespace gpuaas::api {
namespace {

// Answers as JFrog documents them (Create Project / Get Project sample; storage info summary).
constexpr char kProject[] = R"({
  "display_name": "acme", "description": "Acme's models",
  "admin_privileges": {"manage_members": true, "manage_resources": true,
                       "index_resources": true},
  "storage_quota_bytes": 300000000000, "soft_limit": false,
  "storage_quota_email_notification": true, "project_key": "acme"})";
constexpr char kUnlimited[] = R"({"project_key": "beta", "storage_quota_bytes": -1})";
constexpr char kStorageInfo[] = R"({
  "binariesSummary": {"binariesCount": "125", "binariesSize": "3.48 GB"},
  "repositoriesSummaryList": [
    {"repoKey": "acme-models", "repoType": "LOCAL", "foldersCount": 2, "filesCount": 10,
     "usedSpace": "1.2 GB", "usedSpaceInBytes": 1200000000, "itemsCount": 12,
     "packageType": "Generic", "projectKey": "acme", "percentage": "34%"},
    {"repoKey": "acme-datasets", "repoType": "LOCAL", "usedSpaceInBytes": "34567",
     "projectKey": "acme"},
    {"repoKey": "acme-lookalike", "repoType": "LOCAL", "usedSpaceInBytes": 999,
     "projectKey": "other"},
    {"repoKey": "beta-cache", "repoType": "REMOTE", "usedSpaceInBytes": 5000},
    {"repoKey": "TOTAL", "repoType": "NA", "usedSpaceInBytes": 1200040566}
  ]})";

TEST(ArtifactoryParse, ProjectAndStorageInfo) {
  auto u = ParseJfrogProject(kProject);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->project_key, "acme");
  EXPECT_EQ(u->quota_bytes, 300'000'000'000);
  ASSERT_TRUE(AddJfrogStorageInfo(kStorageInfo, *u).ok());
  EXPECT_EQ(u->used_bytes, 1'200'034'567);  // not "other"'s repository, not TOTAL
  EXPECT_EQ(u->repositories, 2);
  auto beta = ParseJfrogProject(kUnlimited);
  ASSERT_TRUE(beta.ok());
  EXPECT_EQ(beta->quota_bytes, -1);
  ASSERT_TRUE(AddJfrogStorageInfo(kStorageInfo, *beta).ok());
  EXPECT_EQ(beta->used_bytes, 5000);  // no projectKey: by the "beta-" prefix
}

TEST(ArtifactoryParse, RejectsWrongShapes) {
  EXPECT_FALSE(ParseJfrogProject("not json").ok());
  EXPECT_FALSE(ParseJfrogProject("[1]").ok());
  EXPECT_FALSE(ParseJfrogProject(R"({"project_key": "x"})").ok());
  EXPECT_FALSE(ParseJfrogProject(R"({"storage_quota_bytes": 1.5})").ok());
  ArtifactoryUsage u;
  u.project_key = "acme";
  EXPECT_FALSE(AddJfrogStorageInfo(R"({"repositoriesSummaryList": 3})", u).ok());
  EXPECT_FALSE(
      AddJfrogStorageInfo(R"({"repositoriesSummaryList": [{"repoKey": "acme-x"}]})", u).ok());
}

class FakeArtifactory {
 public:
  // cert and key given: HTTPS with them.
  explicit FakeArtifactory(const std::string& cert = "", const std::string& key = "") {
    router_.Add("GET", "/access/api/v1/projects/{key}",
                [this](net::HttpRequest&& req, net::Respond respond) {
                  auth_ = req.Header("authorization");
                  net::HttpResponse res;
                  if (req.params["key"] == "acme") {
                    res.body = kProject;
                  } else {
                    res = net::ErrorResponse(404, "not_found", "no such project");
                  }
                  respond(std::move(res));
                });
    router_.Add("GET", "/artifactory/api/storageinfo",
                [](net::HttpRequest&&, net::Respond respond) {
                  net::HttpResponse res;
                  res.body = kStorageInfo;
                  respond(std::move(res));
                });
    net::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    scheme_ = cert.empty() ? "http" : "https";
    server_ = std::make_unique<net::HttpServer>(loop_, o, router_.AsHandler());
    EXPECT_TRUE(server_->Start().ok());
    thread_ = std::thread([this] { loop_.Run(); });
  }
  ~FakeArtifactory() {
    loop_.Post([this] { server_.reset(); });
    loop_.Post([this] { loop_.Stop(); });
    thread_.join();
  }
  std::string url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_()); }
  std::string auth() {
    std::string a;
    std::promise<void> done;
    loop_.Post([&] {
      a = auth_;
      done.set_value();
    });
    done.get_future().wait();
    return a;
  }

 private:
  int port_() const { return server_ ? server_->port() : 0; }
  net::EventLoop loop_;
  net::Router router_;
  std::unique_ptr<net::HttpServer> server_;
  std::thread thread_;
  std::string auth_;  // loop thread only
  std::string scheme_;
};

TEST(ArtifactoryFetch, ReadsQuotaAndUsageOverHttp) {
  FakeArtifactory fake;
  auto u = FetchArtifactoryUsage(fake.url(), "secret", "acme", 5000);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->quota_bytes, 300'000'000'000);
  EXPECT_EQ(u->used_bytes, 1'200'034'567);
  EXPECT_EQ(fake.auth(), "Bearer secret");
  auto missing = FetchArtifactoryUsage(fake.url(), "", "nope", 5000);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

// Production Artifactory is HTTPS, often under a company CA: the same calls over TLS, with the
// CA file given (a self-signed certificate made here by the openssl program).
TEST(ArtifactoryFetch, ReadsOverHttpsWithTheCompanyCa) {
  char tmpl[] = "/tmp/gpuaas-artifactory-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, cert = dir + "/ca.crt", key = dir + "/ca.key";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 "
      "-subj /CN=artifactory -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  {
    FakeArtifactory fake(cert, key);
    auto u = FetchArtifactoryUsage(fake.url(), "secret", "acme", 5000, cert);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(u->used_bytes, 1'200'034'567);
    EXPECT_EQ(fake.auth(), "Bearer secret");
    auto untrusted = FetchArtifactoryUsage(fake.url(), "secret", "acme", 5000);
    EXPECT_EQ(untrusted.status().code(), Code::kUnavailable);
    EXPECT_NE(untrusted.status().message().find("certificate verify failed"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST(ArtifactoryFetch, UnreachableIsUnavailable) {
  auto u = FetchArtifactoryUsage("http://127.0.0.1:1", "", "acme", 1000);
  EXPECT_EQ(u.status().code(), Code::kUnavailable);
}

// Polls the cache until the entity's first fetch has landed (bounded: 10 s).
ArtifactoryCache::Entry FirstFetch(ArtifactoryCache& cache, const std::string& entity) {
  for (int i = 0; i < 1000; ++i) {
    auto e = cache.Lookup(entity);
    if (e && e->fetched) return *e;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "no fetch landed for " << entity;
  return {};
}

TEST(ArtifactoryCache, FetchesOffTheCallerAndKeepsFigures) {
  FakeArtifactory fake;
  ArtifactoryCache cache({fake.url(), "secret", 60'000});
  ASSERT_TRUE(cache.configured());
  auto first = cache.Lookup("acme");
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->fetched);  // answered at once; the thread fetches
  ArtifactoryCache::Entry e = FirstFetch(cache, "acme");
  EXPECT_TRUE(e.ever_ok);
  EXPECT_TRUE(e.error.empty()) << e.error;
  EXPECT_EQ(e.usage.quota_bytes, 300'000'000'000);
  EXPECT_EQ(e.usage.used_bytes, 1'200'034'567);
  EXPECT_GT(e.fetched_at, 0);
  ArtifactoryCache::Entry missing = FirstFetch(cache, "nope");
  EXPECT_FALSE(missing.ever_ok);
  EXPECT_NE(missing.error.find("no project 'nope'"), std::string::npos) << missing.error;
}

TEST(ArtifactoryCache, NotConfiguredAnswersNothingAndUnreachableSaysWhy) {
  ArtifactoryCache off({});
  EXPECT_FALSE(off.configured());
  EXPECT_FALSE(off.Lookup("acme").has_value());
  ArtifactoryCache down({"http://127.0.0.1:1", "", 60'000, 500});
  ArtifactoryCache::Entry e = FirstFetch(down, "acme");
  EXPECT_FALSE(e.ever_ok);
  EXPECT_FALSE(e.error.empty());
}

TEST(ArtifactoryCache, BoundsTheEntitiesItTracks) {
  ArtifactoryCache cache({"http://127.0.0.1:1", "", 60'000, 500, 1});
  EXPECT_TRUE(cache.Lookup("a")->error.empty());
  EXPECT_NE(cache.Lookup("b")->error.find("too many"), std::string::npos);
}

}  // namespace
}  // namespace gpuaas::api
