// The scheduling framework's plugin points (after Nomad's iterators and the Kubernetes
// scheduling framework): a QueueOrder sorts the queue; Filters say from when a job can run on a
// node with a class; a Score ranks the feasible nodes; a DevicePicker chooses the devices.
// A new policy is a new plugin, not an `if` in the framework. Plugins are stateless and
// deterministic; const methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sched/snapshot.h"
#include "sched/timeline.h"

namespace gpuaas::sched {

// How far a (job, class, node) pair gets through the filters, in filter order. A job's reason
// for waiting comes from the pair that got furthest.
enum class Stage {
  kLabels,         // the node lacks a label of the job's node_selector
  kTooBig,         // the node has fewer devices of the class than the job asks
  kUnschedulable,  // the node is down, cordoned or draining
  kUnhealthy,      // too few healthy devices of the class
  kQuota,          // the entity's limit for the class
  kBusy,           // the devices are held (by running jobs, placements or reservations)
  kFits,
};
const char* StageName(Stage stage);

// One job asking for one class.
struct Ask {
  const JobView* job = nullptr;
  std::string gpu_class;
  int64_t walltime_s = 0;  // on this class
  // Filters need not look for a start later than this (they may answer kNever instead): a pass
  // that only asks "can it start now?" sets it to now, which keeps that question cheap.
  Millis horizon = kNever;
  // QuotaFilter's answers for this ask by not_before (quota does not depend on the node).
  mutable std::vector<std::pair<Millis, Millis>> quota_memo = {};
  // QuotaFilter's look-up of the entity's limit on the class, once per ask (it is asked again at
  // every node an earliest-start search visits).
  mutable bool quota_limit_known = false;
  mutable std::optional<int> quota_limit = {};
  // Timeline::ClassIndex(gpu_class) when known (-1 = look it up).
  int class_index = -1;
};

// A queued job as a pass walks the queue: the fields it reads for every job copied next to the
// pointer (a long queue in order would otherwise chase one pointer per job, out of memory order).
struct QueueEntry {
  const JobView* job = nullptr;
  JobId id = 0;
  EntityId entity = 0;
  int gpus = 0;
};

class QueueOrder {
 public:
  virtual ~QueueOrder() = default;
  // Sorts the queue in the order jobs are considered. Must be a strict total order (end with id).
  virtual void Sort(std::vector<QueueEntry>& queue) const = 0;
  // The same when the first `sorted` entries are in this order already (the others, new ones,
  // are put in place among them). An order may do it with less work than a sort (keys for the
  // new entries and for those a binary search visits); this one sorts the whole queue.
  virtual void SortTail(std::vector<QueueEntry>& queue, size_t sorted) const {
    (void)sorted;
    Sort(queue);
  }
  // The same on bare pointers.
  void Sort(std::vector<const JobView*>& queue) const;
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual Stage stage() const = 0;
  // The earliest start >= not_before (>= timeline.now()) at which a job of ask.walltime_s
  // starting then passes this filter on nodes[node_pos]; kNever if none is known.
  virtual Millis Earliest(const Ask& ask, size_t node_pos, const Timeline& timeline,
                          Millis not_before) const = 0;
};

class Score {
 public:
  virtual ~Score() = default;
  // Higher is better. Only called for nodes where the job fits from `start`.
  virtual int64_t Rank(const Ask& ask, size_t node_pos, const Timeline& timeline,
                       Millis start) const = 0;
  // No node ranks higher than this for the ask (a search may stop at a node that reaches it).
  virtual int64_t Ceiling(const Ask&) const { return std::numeric_limits<int64_t>::max(); }
};

class DevicePicker {
 public:
  virtual ~DevicePicker() = default;
  // ask.job->gpus device indices (ascending) free over [start, start + walltime). Only called
  // where the filters passed.
  virtual std::vector<int> Pick(const Ask& ask, size_t node_pos, const Timeline& timeline,
                                Millis start) const = 0;
};

// Healthy devices of the class on nodes[node_pos] that are free over [start, start + walltime).
std::vector<int> UsableDevices(const Ask& ask, size_t node_pos, const Timeline& timeline,
                               Millis start);
// How many UsableDevices there are (without building the list).
int CountUsable(const Ask& ask, size_t node_pos, const Timeline& timeline, Millis start);

}  // namespace gpuaas::sched
