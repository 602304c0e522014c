// Scheduling scenarios: small text files (tests/scenarios/*.scn) that describe a cluster,
// quotas, jobs arriving over time and what must happen (after DuckDB's sqllogictest). This is
// the parser; scenario_runner.h replays one. The format (times are seconds from the start, or
// "90s", "30m", "2h", "1d"):
//
//   # comment
//   policy [NAME] [order=priority|fifo|fair-share|sjf-oracle] [backfill=on|off]
//          [reservations=1] [strict=on|off] [default_walltime=1d] [max_estimates=N]
//          [preempt=on|off] [reclaim=on|off] [grace=5m] [half_life=7d] [small_first=2]
//          [usage_delay=4h (0 = the strict order by usage)]
//   class h200 speed=1 rate=3.5             (optional; else classes in order of appearance)
//   node n1 h200x8 l40sx4 [cordoned] [unhealthy=0,3] [labels=zone:eu,rack:a]
//   quota acme h200=8 l40s=4                (limit, borrowing included)
//   guarantee acme h200=8                   (always obtainable within the grace period)
//   share acme 2                            (fair-share weight; default 1)
//   usage acme 100                          (GPU-hours used just before time 0; decays)
//   job 1 at=0 entity=acme gpus=2 [types=h200,l40s] [walltime=1h] runs=10m [priority=0]
//          [class=production] [preemptible=no] [fallback=no] [speeds=h200:1,l40s:0.4]
//          [select=zone:eu] [one_node=on]
//   at 100 cordon n1 | uncordon n1 | fail n1 3 | heal n1 3 | quota acme h200=4
//   expect at=0 job=1 [node=n1] [devices=0,1] [class=h200] [started=0] [state=running]
//                     [nodes=n1,n2] [preemptions=1] [reason~"..."]   (placement/preemption)
//   expect at=0 job=2 waiting [reason~"over quota"] [reason="..."] [position=1]
//                     [estimate=3600|unknown]
// States: queued, running, stopping (preempted, in its grace period), finished, timed_out. A
// preempted job goes back to the queue (same submission time) once its grace period is over.
//
// Pure (parses text; the caller reads the file). Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sched/policy.h"
#include "sched/snapshot.h"

namespace gpuaas::sched {

struct ScenarioNode {
  std::string name;
  std::vector<std::pair<std::string, int>> groups;  // (class, count): device indices in order
  bool schedulable = true;
  std::vector<int> unhealthy;
  std::map<std::string, std::string> labels = {};
};

struct ScenarioJob {
  int line = 0;
  JobId id = 0;
  int64_t at_s = 0;
  std::string entity;
  int gpus = 1;
  std::vector<std::string> types;
  int64_t walltime_s = 0;  // 0 = the policy's default
  int64_t runs_s = 0;      // true run time on its first class
  int priority = 0;
  std::string priority_class;
  bool preemptible = true;
  bool allow_fallback = true;
  bool single_node = false;  // one_node=on: never a multi-node gang (a notebook)
  std::map<std::string, double> speeds;
  std::map<std::string, std::string> selector;
};

struct ScenarioEvent {
  int line = 0;
  int64_t at_s = 0;
  std::string verb;  // cordon, uncordon, fail, heal, quota
  std::string node;  // or entity, for quota
  int device = -1;
  std::map<std::string, int> quota;
};

struct Expectation {
  int line = 0;
  int64_t at_s = 0;
  JobId job = 0;
  std::optional<std::string> node, devices, gpu_class, state;  // devices as "0,1"
  std::optional<int64_t> started_s;
  bool waiting = false;
  std::optional<std::string> reason_contains, reason_equals;
  std::optional<int> position;
  std::optional<int64_t> estimate_s;  // -1 = unknown
  std::optional<std::string> nodes;   // a gang's nodes, "n1,n2"
  std::optional<int> preemptions;     // times the job was preempted so far
};

struct Scenario {
  std::string file;
  Policy policy;
  std::vector<ClassInfo> classes;
  std::vector<ScenarioNode> nodes;
  std::vector<std::string> entities;  // id = position + 1
  std::map<std::string, std::map<std::string, int>> quotas;
  std::map<std::string, std::map<std::string, int>> guarantees;
  std::map<std::string, double> shares;
  std::map<std::string, double> usage;  // GPU-hours before time 0
  std::vector<ScenarioJob> jobs;
  std::vector<ScenarioEvent> events;
  std::vector<Expectation> expectations;
};

// Errors are kInvalidArgument "FILE:LINE: message".
Result<Scenario> ParseScenario(std::string_view text, std::string_view file);

}  // namespace gpuaas::sched
