// Placer: the framework that chains the placement plugins for one job. For every acceptable
// class (in the job's order) and every node (in id order) it runs the filters to find the
// earliest start, ranks the nodes with the score and picks devices. Deterministic: ties go to
// the earlier class, then the higher score, then the lower node id.
// Const methods are thread-safe; plugins are owned.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sched/plugins.h"
#include "sched/policy.h"
#include "sched/timeline.h"

namespace gpuaas::sched {

// One way to run a job: where and from when.
struct Option {
  Millis start = kNever;
  std::string gpu_class;
  size_t class_rank = 0;  // position among the job's acceptable classes
  size_t node_pos = 0;    // position in snapshot.nodes
  NodeId node = 0;
  std::vector<int> devices;
  int64_t walltime_s = 0;  // on gpu_class
  int64_t score = 0;
  // A gang (a job larger than any node of the class): whole nodes, (node position, devices)
  // each; the first is also node_pos/node/devices. Empty for a single-node option.
  std::vector<std::pair<size_t, std::vector<int>>> gang = {};
};

struct Evaluation {
  // Set when the job can start at `not_before`: the first class (in the job's order) with room,
  // on the best-scored node.
  std::optional<Option> now;
  // The earliest projected start over all classes and nodes; unset if none is known.
  std::optional<Option> earliest;
  // How far the job got at `not_before` (the furthest (class, node) pair), and that class.
  Stage furthest = Stage::kTooBig;
  std::string furthest_class;
  std::vector<std::string> classes;  // the acceptable classes tried, in order
  // Per class (same positions as `classes`): the best start at not_before, and the earliest
  // start (only with find_earliest); unset = none (or not evaluated).
  std::vector<std::optional<Option>> now_by_class;
  std::vector<std::optional<Option>> earliest_by_class;
};

class Placer {
 public:
  Placer(std::vector<std::unique_ptr<Filter>> filters, std::unique_ptr<Score> score,
         std::unique_ptr<DevicePicker> picker);
  // The v1 chain: DefaultFilters(), BestFitScore, CompactPicker.
  static Placer Default();

  // Precondition: job.gpus >= 1, not_before >= timeline.now(). Without `find_earliest` only
  // starts at not_before are looked for (cheaper): `earliest` is then set only with `now`.
  // With only_class >= 0, only that position of the acceptable classes is evaluated.
  Evaluation Evaluate(const JobView& job, const Timeline& timeline, const Policy& policy,
                      Millis not_before, bool find_earliest = true, int only_class = -1) const;
  // The same into `out`, reusing its memory (a pass evaluates thousands of jobs).
  void EvaluateInto(const JobView& job, const Timeline& timeline, const Policy& policy,
                    Millis not_before, bool find_earliest, int only_class, Evaluation* out) const;

  // Whether the job is a gang on the class: more GPUs than any node has of that class.
  static bool IsGang(const JobView& job, const std::string& gpu_class, const Timeline& timeline);

  // Occupies the option's devices (every slice of a gang) on the time line from `start`.
  static void Occupy(Timeline& timeline, const JobView& job, const Option& o, Millis start);

  // The job's acceptable classes: its gpu_types (only the first without allow_fallback), or else
  // the snapshot's classes in catalogue order (or, with no catalogue, the classes found on nodes in
  // node and device order).
  static std::vector<std::string> AcceptableClasses(const JobView& job, const Snapshot& snapshot);
  // The same into `out` (its memory reused).
  static void AcceptableClassesInto(const JobView& job, const Snapshot& snapshot,
                                    std::vector<std::string>* out);

 private:
  // Runs the filters to a fixed point from not_before; returns the start and sets `failed` to
  // the first filter that does not pass at not_before.
  Millis EarliestOn(const Ask& ask, size_t node_pos, const Timeline& timeline, Millis not_before,
                    Stage* failed) const;

  // EarliestOn for a node whose FreeBound is exact (the default filter chain; static filters
  // known to pass).
  static Millis EarliestOnExact(const Ask& ask, Millis bound, const Timeline& timeline,
                                Millis not_before, Stage* failed);

  void EvaluateClass(const JobView& job, size_t rank, const Timeline& timeline,
                     const Policy& policy, Millis not_before, bool find_earliest, Evaluation& ev,
                     bool& any_stage) const;
  // "Can it start now?" from the time line's index: clean nodes by bucket (best fit), tainted
  // nodes through the filters. Same answer as the filters on every node, much faster.
  void NowFast(const Ask& ask, size_t rank, const Timeline& timeline, Evaluation& ev,
               bool& any_stage) const;
  // A lower bound on the job's start on the node (from device holds only). `exact` (if given)
  // is set when no device of the class has a hold after the one that ends its busy spell from
  // not_before: then each device is busy until some instant and free for good after it, and the
  // bound is where the device filters would put the start, whatever the walltime.
  static Millis FreeBound(const Ask& ask, size_t node_pos, const Timeline& timeline,
                          Millis not_before, bool* exact = nullptr);
  // Gangs: whole free nodes at `start` (largest first), or nullopt.
  std::optional<Option> GangAt(const Ask& ask, size_t rank, const Timeline& timeline,
                               Millis start) const;
  void EvaluateGang(const Ask& ask, size_t rank, const Timeline& timeline, Millis not_before,
                    bool find_earliest, Evaluation& ev, bool& any_stage) const;

  std::vector<std::unique_ptr<Filter>> filters_;
  std::unique_ptr<Score> score_;
  std::unique_ptr<DevicePicker> picker_;
  // The picker is CompactPicker: on a node free of future holds, it takes the lowest clean
  // devices (NowFast then asks the time line for them instead).
  bool compact_picker_ = false;
  // The score is BestFitScore: on a node whose holds are exact, the devices usable from a start
  // are those free by then (Timeline::FreeTimesFromNow), counted without the filters.
  bool best_fit_score_ = false;
};

}  // namespace gpuaas::sched
