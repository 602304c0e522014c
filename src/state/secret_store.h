// SecretStore: the entities' secrets (e.g. a registry token), by entity and name. Values are
// only read to hand them to the node that runs a job asking for them; listings give names and
// times. Kept in one JSON file (mode 0600, written atomically: tmp + fsync + rename) beside the
// database, or in memory only when the path is "". In the file each value is sealed
// (AES-256-GCM, auth/seal_key.h) under the key of a separate key file, bound to its entity and
// name; the file names the key by its id. Loading a file of the earlier plaintext format, or one
// sealed with the previous key (rotation), seals it again with the current key at once
// (docs/adr/0011). Thread-compatible (the Platform's thread).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/seal_key.h"
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

  // `key_file`: the sealing key ("" = path + ".key"), created on the first load if it and the
  // secrets file are both missing; `previous_key_file`: the key being rotated out ("" = none).
  explicit SecretStore(std::string path = "", std::string key_file = "",
                       std::string previous_key_file = "")
      : path_(std::move(path)),
        key_file_(key_file.empty() && !path_.empty() ? path_ + ".key" : std::move(key_file)),
        previous_key_file_(std::move(previous_key_file)) {}
  // Reads the file (a missing file is an empty store) and opens every value. Refuses a file or
  // key file others may read, a sealed file without its key, and a value that does not open
  // (another key, moved, altered): FailedPrecondition, with the key ids. Nothing is used then.
  Status Load();
  // The sealing key's id ("" in memory only), for the logs and the docs' rotation steps.
  std::string key_id() const { return key_ ? key_->id() : ""; }

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
  // The current key (made if missing, unless a sealed store needs the old one), and the previous
  // key when it is the one that opens the store (`sealed_with`: the store's key id; null for a
  // new or plaintext store).
  struct Keys {
    SealKey current;
    std::optional<SealKey> previous;
  };
  Result<Keys> ChooseKeys(const std::string* sealed_with) const;

  std::string path_, key_file_, previous_key_file_;
  std::optional<SealKey> key_;
  std::map<EntityId, std::map<std::string, Entry>> secrets_;
};

}  // namespace gpuaas
