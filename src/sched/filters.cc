#include "sched/filters.h"

#include <algorithm>

namespace gpuaas::sched {
namespace {

int CountDevices(const NodeView& node, const std::string& gpu_class, bool healthy_only) {
  int n = 0;
  for (const DeviceView& d : node.devices) {
    if (d.gpu_class == gpu_class && (d.healthy || !healthy_only)) ++n;
  }
  return n;
}

// Candidate start times: not_before and every hold end after it up to the horizon, ascending,
// unique.
std::vector<Millis> Candidates(Millis not_before, Millis horizon, std::vector<Millis> ends) {
  ends.push_back(not_before);
  std::erase_if(ends, [&](Millis t) { return t < not_before || t > horizon || t == kNever; });
  std::sort(ends.begin(), ends.end());
  ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
  return ends;
}

}  // namespace

bool MatchesSelector(const JobView& job, const NodeView& node) {
  for (const auto& [key, value] : job.node_selector) {
    auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return true;
}

Millis LabelFilter::Earliest(const Ask& ask, size_t node_pos, const Timeline& tl,
                             Millis not_before) const {
  return MatchesSelector(*ask.job, tl.snapshot().nodes[node_pos]) ? not_before : kNever;
}

Millis ClassSizeFilter::Earliest(const Ask& ask, size_t node_pos, const Timeline& tl,
                                 Millis not_before) const {
  const NodeView& node = tl.snapshot().nodes[node_pos];
  return CountDevices(node, ask.gpu_class, false) >= ask.job->gpus ? not_before : kNever;
}

Millis SchedulableFilter::Earliest(const Ask&, size_t node_pos, const Timeline& tl,
                                   Millis not_before) const {
  return tl.snapshot().nodes[node_pos].schedulable ? not_before : kNever;
}

Millis HealthFilter::Earliest(const Ask& ask, size_t node_pos, const Timeline& tl,
                              Millis not_before) const {
  const NodeView& node = tl.snapshot().nodes[node_pos];
  return CountDevices(node, ask.gpu_class, true) >= ask.job->gpus ? not_before : kNever;
}

Millis QuotaFilter::Earliest(const Ask& ask, size_t, const Timeline& tl, Millis not_before) const {
  std::optional<int> limit = tl.QuotaLimit(ask.job->entity, ask.gpu_class);
  if (!limit) return not_before;
  if (*limit < ask.job->gpus) return kNever;
  for (const auto& [from, answer] : ask.quota_memo) {
    if (from == not_before) return answer;
  }
  Millis answer = QuotaEarliest(ask, tl, not_before, *limit);
  if (ask.quota_memo.size() < 64) ask.quota_memo.push_back({not_before, answer});
  return answer;
}

Millis QuotaFilter::QuotaEarliest(const Ask& ask, const Timeline& tl, Millis not_before,
                                  int limit) const {
  // The entity's held GPUs from not_before on, as a step function (time, held from then), then
  // a sliding-window maximum over [t, t + walltime) for each step start t: O(H log H).
  std::vector<std::pair<Millis, int>> events;
  int held = 0;
  for (const Hold& h : tl.QuotaHolds(ask.job->entity, ask.gpu_class)) {
    if (h.until <= not_before) continue;
    if (h.from <= not_before) {
      held += h.count;
    } else {
      events.push_back({h.from, h.count});
    }
    if (h.until != kNever) events.push_back({h.until, -h.count});
  }
  std::sort(events.begin(), events.end());
  std::vector<std::pair<Millis, int>> steps = {{not_before, held}};
  for (const auto& [t, delta] : events) {
    if (t == steps.back().first) {
      steps.back().second += delta;
    } else {
      steps.push_back({t, steps.back().second + delta});
    }
  }
  const int room = limit - ask.job->gpus;
  std::vector<size_t> window;  // step positions, values decreasing (a monotonic deque)
  size_t head = 0, right = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    Millis t = steps[i].first;
    if (t > ask.horizon) break;
    Millis end = AddSeconds(t, ask.walltime_s);
    while (right < steps.size() && steps[right].first < end) {
      while (window.size() > head && steps[window.back()].second <= steps[right].second) {
        window.pop_back();
      }
      window.push_back(right++);
      if (head > window.size()) head = window.size();
    }
    while (head < window.size() && window[head] < i) ++head;
    int peak = head < window.size() ? steps[window[head]].second : steps[i].second;
    if (peak <= room) return t;
  }
  return kNever;
}

Millis FreeDevicesFilter::Earliest(const Ask& ask, size_t node_pos, const Timeline& tl,
                                   Millis not_before) const {
  const NodeView& node = tl.snapshot().nodes[node_pos];
  std::vector<Millis> ends;
  for (size_t d = 0; d < node.devices.size(); ++d) {
    const DeviceView& dev = node.devices[d];
    if (dev.gpu_class != ask.gpu_class || !dev.healthy) continue;
    for (const Hold& h : tl.DeviceHolds(node_pos, d)) ends.push_back(h.until);
  }
  for (Millis t : Candidates(not_before, ask.horizon, std::move(ends))) {
    if (static_cast<int>(UsableDevices(ask, node_pos, tl, t).size()) >= ask.job->gpus) return t;
  }
  return kNever;
}

std::vector<std::unique_ptr<Filter>> DefaultFilters() {
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<LabelFilter>());
  f.push_back(std::make_unique<ClassSizeFilter>());
  f.push_back(std::make_unique<SchedulableFilter>());
  f.push_back(std::make_unique<HealthFilter>());
  f.push_back(std::make_unique<QuotaFilter>());
  f.push_back(std::make_unique<FreeDevicesFilter>());
  return f;
}

}  // namespace gpuaas::sched
