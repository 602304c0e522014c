#include "api/storage_json.h"

#include "api/dto.h"

namespace gpuaas::api {

json::object StorageJson(const Platform::StorageView& v) {
  return {{"entity", v.entity},
          {"quota_bytes", v.quota_bytes},
          {"used_bytes", v.measured ? json::value(v.used_bytes) : json::value(nullptr)},
          {"measured_at", TimeOrNull(v.measured_at)},
          {"truncated", v.truncated},
          {"over_quota", v.measured && v.used_bytes >= v.quota_bytes},
          {"path", v.path.empty() ? json::value(nullptr) : json::value(json::string(v.path))}};
}

json::value ArtifactoryJson(const std::optional<ArtifactoryCache::Entry>& e) {
  if (!e) return nullptr;
  if (!e->fetched && e->error.empty()) return json::object{{"pending", true}};
  json::object o{
      {"fetched_at", TimeOrNull(e->fetched_at)},
      {"error", e->error.empty() ? json::value(nullptr) : json::value(json::string(e->error))}};
  if (e->ever_ok) {
    o["project_key"] = e->usage.project_key;
    o["quota_bytes"] = e->usage.quota_bytes;
    o["used_bytes"] = e->usage.used_bytes;
    o["repositories"] = e->usage.repositories;
  }
  return o;
}

}  // namespace gpuaas::api
