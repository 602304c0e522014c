// ArtifactoryCache: the last Artifactory storage figures of each entity, fetched off the event
// loop. A route asks for an entity (Lookup); the first time, the entity joins the set that a
// background thread refreshes every `interval_ms` (FetchArtifactoryUsage, bounded by its timeout),
// and the answer says "pending" until the first fetch lands. Routes therefore never wait on
// Artifactory, however slow or unreachable it is; the figures are at most one interval old.
// Thread-safety: every method may be called from any thread; the destructor stops the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/artifactory_client.h"
#include "base/time.h"

namespace gpuaas::api {

class ArtifactoryCache {
 public:
  struct Options {
    std::string base_url;  // "" = not configured: Lookup answers nothing and no thread runs
    std::string token;
    int64_t interval_ms = 300'000;
    int timeout_ms = 3'000;
    size_t max_entities = 10'000;  // entities tracked at most (the rest answer an error)
    std::string ca_file{};         // https: the CA(s) to trust ("" = the system's)
  };
  struct Entry {
    bool fetched = false;    // false: the first fetch has not landed yet
    Millis fetched_at = 0;   // wall clock of the last fetch (ok or not)
    std::string error;       // the last fetch's error ("" = ok)
    ArtifactoryUsage usage;  // the last good figures (kept when a later fetch fails)
    bool ever_ok = false;    // `usage` holds figures from a good fetch
  };

  explicit ArtifactoryCache(Options options);
  ~ArtifactoryCache();
  ArtifactoryCache(const ArtifactoryCache&) = delete;
  ArtifactoryCache& operator=(const ArtifactoryCache&) = delete;

  bool configured() const { return !options_.base_url.empty(); }
  // The entity's entry (tracking it from now on); nullopt when not configured.
  std::optional<Entry> Lookup(const std::string& entity);

 private:
  void Run();
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;
  bool wake_ = false;  // a new entity waits for its first fetch
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gpuaas::api
