// Agent: the node agent. It reports this node's inventory and workloads to the server with
// heartbeats (docs/api.md, "Agent protocol") and converges to the server's answer: starts the
// workloads it must run, stops the ones it must not, forgets those reported final and no longer
// listed. Workloads run under a Supervisor and survive agent restarts (they are adopted).
//
// Two heartbeat threads, each with its own HttpClient:
//  * the long-poll thread asks with wait_ms=N (the server answers when this node's desired set
//    changes or after N ms) and carries the statuses;
//  * the report thread sends at once (wait_ms=0) when a workload ended or was started/stopped,
//    and every second while log bytes are waiting; only it ships log chunks, so their offsets
//    advance in order (and only after a 200 answer). A workload's final state is only sent
//    together with the end of its log (until then it is reported running), so the server has the
//    whole log when it sees the job finish.
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

#include "agent/log_shipper.h"
#include "agent/protocol.h"
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
  std::string server_url;  // "http://HOST:PORT"
  std::string token;       // bearer token (platform-admin or the embedded agent's token)
  std::string node_name;
  std::vector<GpuDevice> gpus;
  bool simulated = false;
  std::map<std::string, std::string> labels;
  std::string state_dir;  // the supervisor's directory (workloads/ inside)
  int wait_ms = 5000;     // long-poll wait asked from the server (it caps it at 10000)
  int64_t log_cap_bytes = 8 << 20;
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

 private:
  enum class Outcome { kOk, kUnreachable, kRejected, kAuth };

  void PollLoop();
  void PollUntilStopped();
  void ReportLoop();
  HeartbeatReport BuildReport(bool with_logs);
  Result<net::HttpResponse> Post(net::HttpClient& client, const HeartbeatReport& report,
                                 int wait_ms, int timeout_ms);
  Outcome Exchange(net::HttpClient& client, int wait_ms, bool with_logs);
  void Converge(const HeartbeatAnswer& answer);
  void RequestReport();
  bool PendingLogs(bool final_only);
  bool SleepFor(int ms);  // false when stopping
  LogShipper::ReadFn Reader() const;

  const AgentOptions options_;
  SystemClock system_clock_;
  const Clock& clock_;
  std::unique_ptr<Supervisor> sup_;
  std::unique_ptr<net::HttpClient> poll_client_;
  std::unique_ptr<net::HttpClient> report_client_;

  std::mutex mu_;  // guards the fields below
  LogShipper shipper_;
  std::set<AllocationId> reported_final_;  // final statuses the server acknowledged
  std::set<AllocationId> tombstones_;      // forgotten: never start again
  std::deque<AllocationId> tombstone_order_;
  std::set<AllocationId> warned_lost_;
  int64_t interval_ms_ = 1000;

  std::mutex converge_mu_;  // one convergence at a time
  int64_t applied_epoch_ = 0;    // (epoch, version) of the last answer applied; under converge_mu_
  int64_t applied_version_ = 0;

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool report_requested_ = false;  // guarded by wake_mu_
  bool stopping_ = false;          // guarded by wake_mu_
  bool poll_done_ = false;         // guarded by wake_mu_: the poll thread has finished

  std::atomic<bool> outage_{false};
  std::atomic<bool> auth_failed_{false};
  std::thread poll_thread_;
  std::thread report_thread_;
};

}  // namespace gpuaas
