// Requests and answers of the Platform (already decoded from JSON by api/; validated by the
// Platform against the rules). Plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "model/job.h"
#include "model/node.h"
#include "model/user.h"
#include "sizing/service_size.h"
#include "sizing/training_size.h"
#include "telemetry/network_rates.h"
#include "telemetry/sample.h"

namespace gpuaas {

struct EntityRequest {
  std::string name;
  std::map<std::string, int> quota;
  std::map<std::string, int> guarantee = {};
  int shares = 1;
};

// A partial update of an entity's scheduling settings (absent = unchanged).
struct EntityUpdate {
  std::optional<std::map<std::string, int>> quota;
  std::optional<std::map<std::string, int>> guarantee;
  std::optional<int> shares;
};

struct UserRequest {
  std::string name;
  std::string entity;  // name
  Role role = Role::kMember;
};

// A change to a user (PATCH /api/v1/users/{name}): what is set changes, the rest stays.
struct UserUpdate {
  std::optional<Role> role;
  std::optional<bool> disabled;  // true: refused from now on (its tokens, its sign-ins)
  bool cancel_jobs = false;      // with disabled = true: its unfinished jobs are cancelled too
};

// A directory group mapping to make (model/directory_group.h).
struct GroupMappingRequest {
  std::string group;
  std::string entity;  // name
  Role role = Role::kMember;
};

// Whom the company's identity provider has just signed in: the user name its username claim
// gives, and the groups its groups claim lists (empty when it lists none).
struct DirectoryIdentity {
  std::string name;
  std::vector<std::string> groups;
};

// What UpdateUser did: the user as it is now, the jobs it cancelled (cancel_jobs) and how many
// of the user's jobs are still unfinished (queued, starting, running), so that whoever disables
// someone sees what goes on.
struct UserChanged {
  User user;
  std::vector<JobId> cancelled_jobs;
  int64_t unfinished_jobs = 0;
};

struct UserWithToken {
  User user;
  std::string token;  // the secret, shown once
  TokenId token_id = 0;
  Millis expires_at = 0;  // 0 = never
};

struct JobRequest {
  std::string name;
  JobKind kind = JobKind::kJob;
  int gpus = 1;
  std::vector<std::string> gpu_types;
  int64_t walltime_s = 0;
  std::vector<std::string> command;
  std::string environment;
  std::string workspace_mode = "rw";  // "rw", "ro" or "none"
  std::vector<std::string> secrets;   // entity secret names put in the job's environment
  int cpus = 0;                       // 0 = gpus x the configured default per GPU
  int memory_gb = 0;                  // 0 = gpus x the configured default per GPU
  std::string entity;                 // platform-admin only
  std::string project;                // free label shown on invoices
  std::string priority_class;         // "production", "standard" (default), "best-effort"
  bool requeue_on_preempt = false;
  bool allow_fallback = true;
  std::map<std::string, std::string> node_selector;
};

// What a job would get on one class if submitted now.
struct ClassEstimate {
  std::string gpu_class;
  std::string node;         // "" when it would wait
  Millis start = 0;         // 0 = unknown
  Millis end = 0;           // start + runtime; 0 = unknown
  int64_t runtime_s = 0;    // the walltime on this class (stretched on a slower class)
  int queue_position = 0;   // 0 when it would start at once
  int64_t hourly_rate = 0;  // micro-euros per GPU-hour
  int64_t cost = 0;         // micro-euros for gpus x runtime
  std::string reason;
};

struct JobEstimate {
  int64_t entity = 0;
  int gpus = 0;
  std::vector<ClassEstimate> options;  // in the order of the classes asked
  size_t best = 0;                     // index of the earliest expected end
};

// Sizing a training run (sizing/training_size.h) on the platform's classes.
struct SizingRequest {
  sizing::Workload workload;
  std::optional<sizing::Service> service;  // set: an inference service (workload unused)
  std::vector<std::string> gpu_types;      // empty = every class
  std::string entity;                      // platform-admin only
};

struct SizedOption {
  std::string gpu_class;
  sizing::Option option;
  ClassEstimate estimate;     // the estimate of a job of that many GPUs and that walltime
  int64_t hourly_rate = 0;    // micro-euros per GPU-hour
  int64_t expected_cost = 0;  // micro-euros for gpus x the expected hours (the bill)
  std::string error;          // why there is no estimate ("" when there is)
};

struct SizingResult {
  int64_t entity = 0;
  double flops = 0;
  sizing::Shape shape;
  std::vector<SizedOption> options;               // by class in the order asked, then by GPUs
  std::vector<sizing::ClassSizing> not_possible;  // classes without an option, and why
  std::optional<size_t> fastest;   // the earliest estimated end (ties: the fewest GPU-hours)
  std::optional<size_t> cheapest;  // the lowest expected cost (ties: the earliest end)
};

// Queue facts computed by the last scheduling pass for a queued job.
struct QueueInfo {
  int position = 0;
  Millis estimated_start = 0;  // 0 = unknown
  std::string reason;
};

struct WorkloadReport {
  JobId job = 0;
  int64_t allocation = 0;
  std::string state;  // "running", "exited", "failed_to_start"
  std::optional<int> exit_code;
  int signal = 0;
  bool timed_out = false;
  bool stopped = false;
  Millis started_at = 0;
  Millis finished_at = 0;
  std::string message;
  bool interrupted = false;  // failed_to_start: the agent stopped before the job ran
  // A running container's network counters (its own namespace); unset for the process runtime.
  std::optional<NetReading> net = std::nullopt;
};

struct ReportedLogChunk {
  JobId job = 0;
  int64_t offset = 0;
  std::string data;             // decoded bytes
  AllocationId allocation = 0;  // the part that wrote it (a gang's rank); 0 = not said
};

struct NodeReport {
  std::string node;
  bool simulated = false;
  std::map<std::string, std::string> labels;
  std::vector<GpuDevice> gpus;
  std::vector<WorkloadReport> workloads;
  std::vector<ReportedLogChunk> logs;
  std::vector<GpuSample> samples;  // GPU telemetry (telemetry/telemetry_store.h)
  std::optional<NetReading> net;   // network byte counters (telemetry/network_rates.h)
};

struct Assignment {
  JobId job = 0;
  int64_t allocation = 0;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::vector<int> gpu_ids;
  int64_t walltime_s = 0;
  int64_t grace_ms = 0;
  int64_t memory_bytes = 0;  // cgroup limits (0 = none)
  int64_t cpu_millis = 0;
  bool adopt_only = false;  // already started once: never start it again, only adopt
  // Container runtime: the environment's image ("" = a process); the entity workspace on the
  // node and its mode; the job's secrets by name (sent apart from env; never stored by the agent).
  std::string image;
  std::string workspace;
  std::string workspace_mode = "rw";
  std::map<std::string, std::string> secret_env;
};

struct DesiredWorkloads {
  int64_t node_id = 0;
  // Answers may reach an agent out of order (a long poll and an immediate report cross): the
  // agent applies an answer only if (epoch, version) is not older than the last one it applied.
  // epoch = the server's start time; version increases with every answer of that server run.
  int64_t epoch = 0;
  int64_t version = 0;
  int64_t heartbeat_interval_ms = 1000;
  std::vector<Assignment> workloads;
  // Allocations of this node whose job is over (cancelled, preempted) but not yet confirmed
  // gone, with the grace of their stop in ms: the agent sends SIGTERM, SIGKILL after it.
  std::map<int64_t, int64_t> stopping;
};

}  // namespace gpuaas
