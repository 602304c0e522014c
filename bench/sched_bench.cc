// Scheduler benchmark: one scheduling pass (sched::Schedule, the server's default policy) over
// 1,000 nodes x 8 GPUs (700 H200, 300 L40S) with 100,000 queued jobs of mixed sizes (1-8 GPUs,
// a few 16-GPU gangs), 50 entities (some with limits and guarantees) and classes (h200, l40s,
// or both). Prints pass time p50/p99 over repeated passes and placements per second, for an
// empty cluster and for one half full of running jobs. A plain main (no framework needed);
// deterministic inputs (fixed seed).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "sched/invariants.h"
#include "sched/policy.h"
#include "sched/scheduler.h"

namespace {

using gpuaas::Millis;
using namespace gpuaas::sched;

constexpr Millis kNow = 1'767'225'600'000;

Snapshot MakeCluster(int nodes, int queued, bool half_full, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Snapshot s;
  s.classes = {{"h200", 1.0, 3'100'000}, {"l40s", 0.4, 1'200'000}};
  for (int n = 0; n < nodes; ++n) {
    NodeView v{n + 1, "node" + std::to_string(n + 1), true, {}, {}};
    std::string cls = n % 10 < 7 ? "h200" : "l40s";
    for (int d = 0; d < 8; ++d) v.devices.push_back({d, cls, true, 0});
    v.labels["zone"] = n % 2 ? "eu" : "us";
    s.nodes.push_back(std::move(v));
  }
  for (int e = 1; e <= 50; ++e) {
    s.entity_names[e] = "entity" + std::to_string(e);
    s.decayed_usage[e] = pick(1000);
    if (e % 5 == 0) s.quota_limit[e] = {{"h200", 400}, {"l40s", 200}};
    if (e % 10 == 0) s.quota_guarantee[e] = {{"h200", 64}};
  }
  gpuaas::JobId id = 1;
  if (half_full) {  // every other node fully used by 8 x 1-GPU or 2 x 4-GPU jobs
    for (int n = 0; n < nodes; n += 2) {
      int size = n % 4 ? 1 : 4;
      for (int d = 0; d < 8; d += size) {
        RunningView r{id,
                      1 + pick(50),
                      n + 1,
                      s.nodes[n].devices[0].gpu_class,
                      {},
                      kNow - pick(3600) * 1000,
                      3600 + pick(86400),
                      0};
        for (int k = d; k < d + size; ++k) {
          r.devices.push_back(k);
          s.nodes[n].devices[k].used_by = id;
        }
        s.running.push_back(std::move(r));
        ++id;
      }
    }
  }
  const int sizes[] = {1, 1, 1, 1, 2, 2, 2, 4, 4, 8};
  for (int j = 0; j < queued; ++j) {
    JobView v{id++,
              1 + pick(50),
              sizes[pick(10)],
              {},
              pick(3),
              kNow - pick(86400) * 1000,
              (1 + pick(24)) * 3600};
    int c = pick(10);
    v.gpu_types = c < 5   ? std::vector<std::string>{"h200"}
                  : c < 7 ? std::vector<std::string>{"l40s"}
                          : std::vector<std::string>{"h200", "l40s"};
    if (pick(1000) == 0) v.gpus = 16;  // a gang
    if (pick(50) == 0) v.priority_class = "best-effort";
    s.queued.push_back(std::move(v));
  }
  return s;
}

// The CPU time of this thread (a machine shared with other work stretches wall time, less so
// this).
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// A digest of everything a plan says (placements, waiting jobs with positions, estimates and
// reasons): the same inputs must give the same digest whatever the implementation's speed.
uint64_t Digest(const Plan& plan) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](int64_t v) {
    h ^= static_cast<uint64_t>(v);
    h *= 1099511628211ull;
  };
  for (const Placement& p : plan.placements) {
    mix(p.job);
    mix(p.node);
    for (int d : p.devices) mix(d);
    for (char c : p.reason) mix(c);
  }
  for (const Waiting& w : plan.waiting) {
    mix(w.job);
    mix(w.queue_position);
    mix(w.estimated_start);
    for (char c : ReasonOf(plan, w)) mix(c);
  }
  for (const Preemption& p : plan.preemptions) mix(p.job);
  return h;
}

void Run(const char* name, const Snapshot& s, const Policy& policy, int passes) {
  std::vector<double> ms, cpu_ms;
  size_t placed = 0, waiting = 0, estimated = 0;
  uint64_t digest = 0;
  for (int i = 0; i < passes; ++i) {
    const double c0 = ThreadCpuMs();
    auto t0 = std::chrono::steady_clock::now();
    Plan plan = Schedule(s, policy, kNow);
    auto t1 = std::chrono::steady_clock::now();
    cpu_ms.push_back(ThreadCpuMs() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    placed = plan.placements.size();
    waiting = plan.waiting.size();
    estimated =
        static_cast<size_t>(std::count_if(plan.waiting.begin(), plan.waiting.end(),
                                          [](const Waiting& w) { return w.estimated_start != 0; }));
    if (i == 0) {
      digest = Digest(plan);
      gpuaas::Status st = CheckInvariants(s, plan);
      if (!st.ok()) {
        std::fprintf(stderr, "invariant broken: %s\n", st.message().c_str());
        std::exit(1);
      }
    }
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  double p50 = ms[ms.size() / 2];
  double p99 = ms[std::min(ms.size() - 1, (ms.size() * 99) / 100)];
  std::printf(
      "%-34s nodes=%zu queued=%zu running=%zu | placed=%zu waiting=%zu estimated=%zu | "
      "pass min=%.1f p50=%.1f ms p99=%.1f ms (CPU p50 %.1f ms) | %.0f placements/s (at p50) | "
      "plan %016llx\n",
      name, s.nodes.size(), s.queued.size(), s.running.size(), placed, waiting, estimated, ms[0],
      p50, p99, cpu_ms[cpu_ms.size() / 2], p50 > 0 ? placed / (p50 / 1000.0) : 0.0,
      static_cast<unsigned long long>(digest));
}

constexpr const char* kUsage =
    "usage: sched_bench [PASSES [QUEUED [ESTIMATES [only [empty|half]]]]]\n"
    "  One scheduling pass (the default policy) over 1,000 nodes x 8 GPUs and QUEUED jobs\n"
    "  (default 100000), repeated PASSES times (default 20): pass time min/p50/p99, placements\n"
    "  per second and a digest of the plan, for an empty and a half-full cluster; first with\n"
    "  the policy's 1,000 start estimates, then with ESTIMATES (default 100, the server's\n"
    "  setting). \"only\" skips the first; \"empty\" or \"half\" then runs just that case.\n"
    "  Google Benchmark flags (--benchmark_*, which make bench passes to every *_bench) are\n"
    "  ignored.\n";

// A positive count from the command line, or exit with the usage.
int Count(const std::string& arg, const char* what) {
  char* end = nullptr;
  const long v = std::strtol(arg.c_str(), &end, 10);
  if (arg.empty() || *end != '\0' || v < 0 || v > 10'000'000 ||
      (v == 0 && std::string(what) != "ESTIMATES")) {
    std::fprintf(stderr, "sched_bench: %s must be a positive number, not \"%s\"\n%s", what,
                 arg.c_str(), kUsage);
    std::exit(2);
  }
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg.rfind("--benchmark", 0) == 0) continue;
    args.push_back(arg);
  }
  const int passes = args.size() > 0 ? Count(args[0], "PASSES") : 20;
  const int queued = args.size() > 1 ? Count(args[1], "QUEUED") : 100000;
  const int estimates = args.size() > 2 ? Count(args[2], "ESTIMATES") : 100;
  const bool only_fewer = args.size() > 3 && args[3] == "only";
  const std::string which = args.size() > 4 ? args[4] : "";
  Policy policy = *PolicyByName("default");
  if (!only_fewer) {
    Run("empty cluster, default policy", MakeCluster(1000, queued, false, 42), policy, passes);
    Run("half-full cluster, default policy", MakeCluster(1000, queued, true, 43), policy, passes);
  }
  // What the start estimates cost: the same with fewer of them (the server's setting).
  Policy fewer = policy;
  fewer.max_estimates = estimates;
  std::printf("with max_estimates=%d:\n", fewer.max_estimates);
  if (which != "half") Run("empty cluster", MakeCluster(1000, queued, false, 42), fewer, passes);
  if (which != "empty")
    Run("half-full cluster", MakeCluster(1000, queued, true, 43), fewer, passes);
  return 0;
}
