// Agent: the node agent. It reports this node's inventory and workloads to the server with
// heartbeats (docs/api.md, "Agent protocol") and converges to the server's answer: starts the
// workloads it must run, stops the ones it must not, forgets those reported final and no longer
// listed. Workloads run under a Supervisor and survive agent restarts (they are adopted).
//
// Two heartbeat threads, each with its own HttpClient:
//  * the long-poll thread asks with wait_ms=N (the server answers when this node's desired set
//    changes or after N ms) and carries the statuses; after an answer that changed the desired
//    set it asks again at once (a placement made just after is heard without delay); quick
//    answers that change nothing (a server that ignores wait_ms) are spaced 100 ms apart;
//  * the report thread sends at once (wait_ms=0) when a workload ended or was started/stopped,
//    and every second while log bytes are waiting; only it ships log chunks, so their offsets
//    advance in order (and only after a 200 answer). A workload's final state is only sent
//    together with the end of its log (until then it is reported running), so the server has the
//    whole log when it sees the job finish.
// Telemetry: a sampler thread reads the GPUs (GpuSource) every sample_interval_ms, queues the
// samples (bounded; kept while the server is unreachable) and asks the report thread to send
// them; they leave the queue only once a report carrying them was answered 200. A device whose
// reading shows a problem (lost, uncorrectable ECC, too hot) is reported unhealthy from then on,
// with the reason, until the agent restarts.
// Server unreachable: workloads keep running; retries back off up to 5 s; logged once per outage.
// 401/403: logged clearly once, retried every 10 s.
//
// Thread-safety: Start/Stop/StopAllWorkloads from one controlling thread; Workloads() anywhere.
// Stop() sends one last quick heartbeat, which makes the server answer the held long poll, so
// it returns at once while the server runs; with a hung server it may take wait_ms + 5 s.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/cgroup.h"
#include "agent/gpu_source.h"
#include "agent/log_shipper.h"
#include "agent/protocol.h"
#include "agent/sample_buffer.h"
#include "agent/supervisor.h"
#include "base/clock.h"
#include "base/status.h"
#include "model/node.h"
#include "net/http_types.h"

namespace gpuaas {

namespace net {
class HttpClient;
}  // namespace net

struct AgentOptions {
  std::string server_url;  // "http://HOST:PORT" or "https://HOST:PORT"
  // https: trust this CA file instead of the system's CAs, or exactly this certificate (the
  // embedded agents pin their own server's); net::HttpClient.
  std::string ca_file;
  std::string pinned_cert_file;
  std::string token;  // bearer token (platform-admin or the embedded agent's token)
  std::string node_name;
  std::vector<GpuDevice> gpus;
  bool simulated = false;
  std::map<std::string, std::string> labels;
  std::string state_dir;  // the supervisor's directory (workloads/ inside)
  int wait_ms = 5000;     // long-poll wait asked from the server (it caps it at 10000)
  int64_t log_cap_bytes = 8 << 20;
  // Where GPU readings come from. nullptr: a DemoGpuSource over `gpus` when `simulated`, else
  // no telemetry. When set, its Inventory() replaces `gpus` and its simulated() `simulated`.
  std::shared_ptr<GpuSource> gpu_source;
  int sample_interval_ms = 5000;         // 0 = no sampler thread (tests call SampleOnce)
  size_t max_buffered_samples = 20'000;  // ~40 min of 8 GPUs at 1 s while the server is away
  size_t max_samples_per_report = 2'000;
  // Network byte counters sent with each heartbeat (agent/net_counters.h): read from this file
  // ("" = none), summed over these interfaces (empty = all but the loopback). Never on a
  // simulated node (several share the host's interfaces).
  std::string net_dev_path = "/proc/net/dev";
  std::vector<std::string> net_interfaces;
  PodmanOptions podman;  // the container runtime (podman_runtime.h)
  // Memory/CPU limits of the workloads (cgroup.h, see CgroupsForMode); nullptr = none.
  std::shared_ptr<const Cgroups> cgroups;
  // Process runtime: the Unix user of each job, e.g. "gpuaas-{entity}" ("" = the agent's).
  std::string run_as_user;
};

class Agent {
 public:
  // clock: for workload start times and deadlines; nullptr = the system clock.
  explicit Agent(AgentOptions options, const Clock* clock = nullptr);
  ~Agent();  // Stop()
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Adopts the workloads in state_dir and starts heartbeating. Errors: bad options, state dir.
  Status Start();
  // Stops heartbeating. Workloads keep running (a later Start adopts them). Idempotent.
  void Stop();
  // Stops every workload (SIGTERM, SIGKILL after its grace) and waits until all are gone.
  void StopAllWorkloads();

  std::vector<WorkloadStatus> Workloads() const;
  // The inventory as reported now (health included).
  std::vector<GpuDevice> Inventory() const;
  size_t BufferedSamples() const;
  // One sampling round (the sampler thread calls it; tests and benchmarks may too).
  void SampleOnce();

 private:
  enum class Outcome { kOk, kUnreachable, kRejected, kAuth };

  void PollLoop();
  void PollUntilStopped();
  void ReportLoop();
  void SampleLoop();
  // with_logs: also log chunks and samples (*samples_end: their ack sequence number).
  HeartbeatReport BuildReport(bool with_logs, uint64_t* samples_end = nullptr);
  std::unique_ptr<net::HttpClient> MakeClient() const;  // to the server, with the TLS trust
  Result<net::HttpResponse> Post(net::HttpClient& client, const HeartbeatReport& report,
                                 int wait_ms, int timeout_ms);
  // answer_key: when given, set to the answer's desired and stopping allocations (kOk only).
  Outcome Exchange(net::HttpClient& client, int wait_ms, bool with_logs,
                   std::vector<int64_t>* answer_key = nullptr);
  void Converge(const HeartbeatAnswer& answer);
  void RequestReport();
  bool PendingLogs(bool final_only);
  bool SleepFor(int ms);  // false when stopping
  LogShipper::ReadFn Reader() const;
  bool Simulated() const { return source_ ? source_->simulated() : options_.simulated; }

  const AgentOptions options_;
  SystemClock system_clock_;
  const Clock& clock_;
  std::unique_ptr<Supervisor> sup_;
  std::shared_ptr<GpuSource> source_;
  std::unique_ptr<net::HttpClient> poll_client_;
  std::unique_ptr<net::HttpClient> report_client_;

  mutable std::mutex mu_;  // guards the fields below
  LogShipper shipper_;
  std::vector<GpuDevice> inventory_;
  SampleBuffer samples_{1};
  std::map<AllocationId, std::vector<int>> gpu_ids_;  // devices of the workloads we run
  std::set<AllocationId> reported_final_;             // final statuses the server acknowledged
  std::set<AllocationId> tombstones_;                 // forgotten: never start again
  std::deque<AllocationId> tombstone_order_;
  std::set<AllocationId> warned_lost_;
  int64_t interval_ms_ = 1000;

  std::mutex converge_mu_;     // one convergence at a time
  int64_t applied_epoch_ = 0;  // (epoch, version) of the last answer applied; under converge_mu_
  int64_t applied_version_ = 0;

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool report_requested_ = false;  // guarded by wake_mu_
  bool stopping_ = false;          // guarded by wake_mu_
  bool poll_done_ = false;         // guarded by wake_mu_: the poll thread has finished

  std::atomic<bool> outage_{false};
  std::atomic<bool> auth_failed_{false};
  std::atomic<bool> net_warned_{false};  // the network counters' error is logged once
  std::thread poll_thread_;
  std::thread report_thread_;
  std::thread sample_thread_;
};

}  // namespace gpuaas
