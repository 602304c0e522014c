#include "api/artifactory_cache.h"

#include <chrono>
#include <vector>

#include "base/clock.h"

namespace gpuaas::api {

ArtifactoryCache::ArtifactoryCache(Options options) : options_(std::move(options)) {
  if (configured()) thread_ = std::thread([this] { Run(); });
}

ArtifactoryCache::~ArtifactoryCache() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<ArtifactoryCache::Entry> ArtifactoryCache::Lookup(const std::string& entity) {
  if (!configured()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(entity);
  if (it != entries_.end()) return it->second;
  Entry e;
  if (entries_.size() >= options_.max_entities) {
    e.error = "too many entities tracked for Artifactory (limit " +
              std::to_string(options_.max_entities) + ")";
    return e;
  }
  entries_.emplace(entity, e);
  wake_ = true;
  cv_.notify_all();
  return e;
}

void ArtifactoryCache::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  auto next_round = std::chrono::steady_clock::now();
  while (!stopping_) {
    // Who to fetch: everyone when a round is due, else only the entities never fetched.
    const bool round = std::chrono::steady_clock::now() >= next_round;
    std::vector<std::string> names;
    for (const auto& [name, e] : entries_) {
      if (round || !e.fetched) names.push_back(name);
    }
    wake_ = false;
    if (round)
      next_round =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.interval_ms);
    for (const std::string& name : names) {
      lock.unlock();
      auto got = FetchArtifactoryUsage(options_.base_url, options_.token, name, options_.timeout_ms,
                                       options_.ca_file);
      const Millis when = SystemClock().Now();
      lock.lock();
      if (stopping_) return;
      Entry& e = entries_[name];
      e.fetched = true;
      e.fetched_at = when;
      if (got.ok()) {
        e.usage = *got;
        e.ever_ok = true;
        e.error.clear();
      } else {
        e.error = got.status().message();
      }
    }
    cv_.wait_until(lock, next_round, [this] { return stopping_ || wake_; });
  }
}

}  // namespace gpuaas::api
