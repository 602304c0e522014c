#include "api/artifactory_client.h"

#include <boost/json.hpp>

#include "net/http_client.h"

namespace gpuaas::api {
namespace {

namespace json = boost::json;

Result<json::value> Parse(std::string_view text, const char* what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec)
    return Unavailable(std::string("artifactory: bad JSON from ") + what + ": " + ec.message());
  return v;
}

// A JSON number that is an exact integer, else nullopt.
std::optional<int64_t> Int(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  if (v->is_string()) {  // some versions send big sizes as strings
    try {
      size_t pos = 0;
      std::string s(v->get_string());
      long long n = std::stoll(s, &pos);
      if (pos == s.size()) return n;
    } catch (...) {
    }
  }
  return std::nullopt;
}

}  // namespace

Result<ArtifactoryUsage> ParseJfrogProject(std::string_view text) {
  GPUAAS_ASSIGN_OR_RETURN(json::value v, Parse(text, "the Projects API"));
  const json::object* o = v.if_object();
  if (o == nullptr) return Unavailable("artifactory: a project must be a JSON object");
  ArtifactoryUsage u;
  if (const json::value* k = o->if_contains("project_key"); k && k->is_string()) {
    u.project_key = std::string(k->get_string());
  }
  auto quota = Int(o->if_contains("storage_quota_bytes"));
  if (!quota) return Unavailable("artifactory: project has no integer storage_quota_bytes");
  u.quota_bytes = *quota < 0 ? -1 : *quota;
  return u;
}

Status AddJfrogStorageInfo(std::string_view text, ArtifactoryUsage& usage) {
  GPUAAS_ASSIGN_OR_RETURN(json::value v, Parse(text, "storageinfo"));
  const json::object* o = v.if_object();
  const json::value* list = o ? o->if_contains("repositoriesSummaryList") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return Unavailable("artifactory: storageinfo has no repositoriesSummaryList");
  }
  const std::string prefix = usage.project_key + "-";
  for (const json::value& r : list->as_array()) {
    const json::object* repo = r.if_object();
    if (repo == nullptr) continue;
    std::string key, project;
    if (const json::value* k = repo->if_contains("repoKey"); k && k->is_string()) {
      key = std::string(k->get_string());
    }
    if (key == "TOTAL") continue;  // the summary row
    bool mine;
    if (const json::value* p = repo->if_contains("projectKey"); p && p->is_string()) {
      mine = p->get_string() == usage.project_key;
    } else {
      mine = key.compare(0, prefix.size(), prefix) == 0;
    }
    if (!mine) continue;
    auto used = Int(repo->if_contains("usedSpaceInBytes"));
    if (!used) return Unavailable("artifactory: repository " + key + " has no usedSpaceInBytes");
    usage.used_bytes += *used;
    ++usage.repositories;
  }
  return Status::Ok();
}

Result<ArtifactoryUsage> FetchArtifactoryUsage(const std::string& base_url,
                                               const std::string& token,
                                               const std::string& project_key, int timeout_ms,
                                               const std::string& ca_file) {
  net::HttpClient client(base_url);
  client.set_connect_timeout_ms(timeout_ms);
  if (!ca_file.empty()) client.set_ca_file(ca_file);
  std::vector<std::pair<std::string, std::string>> headers = {{"Accept", "application/json"}};
  if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
  GPUAAS_ASSIGN_OR_RETURN(
      net::HttpResponse project,
      client.Request("GET", "/access/api/v1/projects/" + project_key, "", headers, timeout_ms));
  if (project.status == 404) {
    return NotFound("artifactory has no project '" + project_key + "'");
  }
  if (project.status != 200) {
    return Unavailable("artifactory answered " + std::to_string(project.status) + " for project " +
                       project_key);
  }
  GPUAAS_ASSIGN_OR_RETURN(ArtifactoryUsage u, ParseJfrogProject(project.body));
  if (u.project_key.empty()) u.project_key = project_key;
  GPUAAS_ASSIGN_OR_RETURN(
      net::HttpResponse info,
      client.Request("GET", "/artifactory/api/storageinfo", "", headers, timeout_ms));
  if (info.status != 200) {
    return Unavailable("artifactory answered " + std::to_string(info.status) + " for storageinfo");
  }
  GPUAAS_RETURN_IF_ERROR(AddJfrogStorageInfo(info.body, u));
  return u;
}

}  // namespace gpuaas::api
