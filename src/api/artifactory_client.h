// Artifactory client: an entity's storage quota and usage from JFrog Artifactory, shown beside
// compute usage when `[billing] artifactory_url` is configured. The entity's name is its JFrog
// project key. Two calls:
//   GET {base}/access/api/v1/projects/{key}  -> {"project_key", "storage_quota_bytes", ...}
//     (storage_quota_bytes -1 = unlimited)
//   GET {base}/artifactory/api/storageinfo   -> {"repositoriesSummaryList": [{"repoKey",
//     "usedSpaceInBytes", "projectKey"?, ...}, ...]}: used = the sum over the project's
//     repositories (a repository belongs to a project by "projectKey", or by the "<key>-"
//     prefix of its repoKey when the server does not say).
// Parsing is pure; Fetch blocks on the network (bounded by timeout_ms): call it off the
// Platform's thread or accept the bound. Thread-safety: free functions, no shared state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace gpuaas::api {

struct ArtifactoryUsage {
  std::string project_key;
  int64_t quota_bytes = -1;  // -1 = unlimited
  int64_t used_bytes = 0;
  int repositories = 0;  // repositories counted in used_bytes
};

// From the Projects API answer: the project key and its quota.
Result<ArtifactoryUsage> ParseJfrogProject(std::string_view json);
// From the storage info answer: adds the project's repositories to `usage`.
Status AddJfrogStorageInfo(std::string_view json, ArtifactoryUsage& usage);

// Both calls against base_url ("https://host" or "http://host:port"); token as Bearer ("" =
// none); ca_file: https, the CA(s) to trust instead of the system's.
Result<ArtifactoryUsage> FetchArtifactoryUsage(const std::string& base_url,
                                               const std::string& token,
                                               const std::string& project_key,
                                               int timeout_ms = 3000,
                                               const std::string& ca_file = "");

}  // namespace gpuaas::api
