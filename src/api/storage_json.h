// The JSON of an entity's storage: its workspace (quota, last measured usage) and, where
// Artifactory is configured, the figures of its JFrog project from the ArtifactoryCache. Shared
// by GET /api/v1/entities/{name}/storage and GET /api/v1/usage (storage beside compute).
#pragma once

#include <optional>

#include "api/artifactory_cache.h"
#include "api/json_io.h"
#include "state/platform.h"

namespace gpuaas::api {

json::object StorageJson(const Platform::StorageView& v);
// null when Artifactory is not configured; else {"project_key","quota_bytes","used_bytes",
// "repositories","fetched_at","error"} or {"pending": true} before the first fetch.
json::value ArtifactoryJson(const std::optional<ArtifactoryCache::Entry>& e);

}  // namespace gpuaas::api
