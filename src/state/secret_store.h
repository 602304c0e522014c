// SecretStore: the entities' secrets (e.g. a registry token), by entity and name. Values are
// only read to hand them to the node that runs a job asking for them; listings give names and
// times. Kept in one JSON file (mode 0600, written atomically: tmp + fsync + rename) beside the
// database, or in memory only when the path is "". Thread-compatible (the Platform's thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "model/ids.h"

namespace gpuaas {

struct SecretInfo {
  std::string name;
  Millis created_at = 0;
  int64_t size = 0;  // bytes of the value
};

// A secret name is an environment variable name: [A-Z_][A-Z0-9_]*, at most 64 characters, and
// not one the platform or the runtimes set or read themselves (PATH, HOME, LD_*, CUDA_*,
// NVIDIA_*, GPUAAS_*, CONTAINERS_*, ...). InvalidArgument says why.
Status CheckSecretName(const std::string& name);

class SecretStore {
 public:
  static constexpr size_t kMaxValueBytes = 64 * 1024;
  static constexpr size_t kMaxPerEntity = 100;

  explicit SecretStore(std::string path = "") : path_(std::move(path)) {}
  // Reads the file (a missing file is an empty store). Refuses a file others may read.
  Status Load();

  // Sets (creates or replaces) a secret and writes the file; nothing changes on error.
  Status Put(EntityId entity, const std::string& name, const std::string& value, Millis now);
  // NotFound when there is no such secret.
  Status Delete(EntityId entity, const std::string& name);
  std::vector<SecretInfo> List(EntityId entity) const;  // by name
  std::optional<std::string> Value(EntityId entity, const std::string& name) const;

 private:
  struct Entry {
    std::string value;
    Millis created_at = 0;
  };
  Status Save(const std::map<EntityId, std::map<std::string, Entry>>& all) const;

  std::string path_;
  std::map<EntityId, std::map<std::string, Entry>> secrets_;
};

}  // namespace gpuaas
