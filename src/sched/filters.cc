#include "sched/filters.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace gpuaas::sched {
namespace {

// Devices of the class on the node (healthy ones only, or any), from the time line's counts.
int CountDevices(const Ask& ask, size_t node_pos, const Timeline& tl, bool healthy_only) {
  int c = ask.class_index >= 0 ? ask.class_index : tl.ClassIndex(ask.gpu_class);
  if (c < 0) return 0;
  return healthy_only ? tl.HealthyOn(node_pos, c) : tl.CountOn(node_pos, c);
}

}  // namespace

bool MatchesLabels(const JobView& job, const NodeView& node) {
  for (const auto& [key, value] : job.node_selector) {
    auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return true;
}

Result<int> MinJobGpusOf(const std::map<std::string, std::string>& labels) {
  auto it = labels.find(kMinGpusLabel);
  if (it == labels.end()) return 0;
  int n = 0;
  const std::string& v = it->second;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || ptr != v.data() + v.size() || n < 1 || n > 1024) {
    return InvalidArgument(std::string("label ") + kMinGpusLabel +
                           " must be a number of GPUs from 1 to 1024, got \"" + v + "\"");
  }
  return n;
}

Millis LabelFilter::Earliest(const Ask& ask, size_t node_pos, const Timeline& tl,
                             Millis not_before) const {
  return MatchesSelector(*ask.job, tl.snapshot().nodes[node_pos]) ? not_before : kNever;
}

Millis ClassSizeFilter::Earliest(const Ask& ask, size_t node_pos, const Timeline& tl,
                                 Millis not_before) const {
  return CountDevices(ask, node_pos, tl, false) >= ask.job->gpus ? not_before : kNever;
}

Millis SchedulableFilter::Earliest(const Ask&, size_t node_pos, const Timeline& tl,
                                   Millis not_before) const {
  return tl.snapshot().nodes[node_pos].schedulable ? not_before : kNever;
}

Millis HealthFilter::Earliest(const Ask& ask, size_t node_pos, const Timeline& tl,
                              Millis not_before) const {
  return CountDevices(ask, node_pos, tl, true) >= ask.job->gpus ? not_before : kNever;
}

Millis QuotaFilter::Earliest(const Ask& ask, size_t, const Timeline& tl, Millis not_before) const {
  if (!ask.quota_limit_known) {
    ask.quota_limit = tl.QuotaLimit(ask.job->entity, ask.gpu_class);
    ask.quota_limit_known = true;
  }
  const std::optional<int>& limit = ask.quota_limit;
  if (!limit) return not_before;
  if (*limit < ask.job->gpus) return kNever;
  for (const auto& [from, answer] : ask.quota_memo) {
    if (from == not_before) return answer;
  }
  // From now, with no hold starting later, the peak over the job's walltime is what is held now.
  if (not_before == tl.now()) {
    if (std::optional<int> held = tl.QuotaNowIfFalling(ask.job->entity, ask.gpu_class)) {
      if (*held + ask.job->gpus <= *limit) return not_before;
      if (ask.horizon <= not_before) return kNever;  // (later starts are not asked for)
    }
  }
  Millis answer = QuotaEarliest(ask, tl, not_before, *limit);
  if (ask.quota_memo.size() < 64) ask.quota_memo.push_back({not_before, answer});
  return answer;
}

Millis QuotaFilter::QuotaEarliest(const Ask& ask, const Timeline& tl, Millis not_before,
                                  int limit) const {
  // The entity's held GPUs from not_before on, as a step function (time, held from then): the
  // time line's (kept until the holds change), from the step covering not_before. Then a
  // sliding-window maximum over [t, t + walltime) for each step start t: O(steps).
  const std::vector<std::pair<Millis, int>>& all = tl.QuotaSteps(ask.job->entity, ask.gpu_class);
  const size_t after = static_cast<size_t>(
      std::upper_bound(all.begin(), all.end(), not_before,
                       [](Millis t, const std::pair<Millis, int>& s) { return t < s.first; }) -
      all.begin());
  std::vector<std::pair<Millis, int>> steps;
  steps.reserve(all.size() - after + 1);
  steps.push_back({not_before, after > 0 ? all[after - 1].second : 0});
  steps.insert(steps.end(), all.begin() + static_cast<std::ptrdiff_t>(after), all.end());
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
  // Candidate starts: not_before and every hold end after it up to the horizon, ascending.
  // Most nodes have few holds: kept on the stack.
  const NodeView& node = tl.snapshot().nodes[node_pos];
  Millis small[64];
  size_t count = 0;
  std::vector<Millis> more;
  auto add = [&](Millis t) {
    if (t < not_before || t > ask.horizon || t == kNever) return;
    if (count < 64) {
      small[count++] = t;
    } else {
      more.push_back(t);
    }
  };
  add(not_before);
  const int c = ask.class_index >= 0 ? ask.class_index : tl.ClassIndex(ask.gpu_class);
  for (size_t d = 0; d < node.devices.size(); ++d) {
    const DeviceView& dev = node.devices[d];
    if (tl.DeviceClass(node_pos, d) != c || !dev.healthy) continue;
    for (const Hold& h : tl.DeviceHolds(node_pos, d)) add(h.until);
  }
  Millis* begin = small;
  Millis* end = small + count;
  if (!more.empty()) {
    more.insert(more.end(), small, small + count);
    begin = more.data();
    end = more.data() + more.size();
  }
  std::sort(begin, end);
  end = std::unique(begin, end);
  for (Millis* t = begin; t != end; ++t) {
    if (CountUsable(ask, node_pos, tl, *t) >= ask.job->gpus) return *t;
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
